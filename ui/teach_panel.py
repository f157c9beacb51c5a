"""Teach mode's widgets: the set-up form, the prompt view of a running session, and the
Train / Load part. They only show what they are given and emit what the user asked for;
:mod:`.teach_mode` connects them to the session and the fine-tune."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.teach.finetune_config import FineTuneProgress, FineTuneResult
from live_snn.teach.plan import TeachPlan
from live_snn.teach.recorder import TeachResult
from live_snn.teach.session import TeachStatus

from .panel import Panel


class TeachSetup(QWidget):
    """Which classes (defaults ticked or not, new names typed), how many takes of what
    length, which order, which folder."""

    startRequested = Signal(object, str, object)   # TeachPlan, folder, {name: gesture}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.classes = QListWidget()
        for name in DVS_GESTURE_CLASSES:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.classes.addItem(item)
        self.new_classes = QLineEdit()
        self.new_classes.setPlaceholderText("your own, comma-separated: swipe left, thumbs up")
        self.new_classes.setToolTip("With the simulator, NAME=GESTURE says which simulator "
                                    "gesture performs NAME, e.g. swipe=right-hand-wave")
        self.takes = _spin(QSpinBox(), 1, 50, 5)
        self.take_s = _spin(QDoubleSpinBox(), 0.5, 30, 2.0, " s")
        self.rest_s = _spin(QDoubleSpinBox(), 0.0, 60, 1.0, " s")
        self.countdown_s = _spin(QDoubleSpinBox(), 0.0, 10, 3.0, " s")
        self.order = QComboBox()
        self.order.addItems(["random", "fixed"])
        self.folder = QLineEdit()
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        self.start_button = QPushButton("Start teaching")
        self.start_button.clicked.connect(self._start)
        self.error = QLabel("")
        self.error.setObjectName("dim")
        self.error.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("classes", self.classes)
        form.addRow("new classes", self.new_classes)
        form.addRow("takes per class", self.takes)
        form.addRow("take length", self.take_s)
        form.addRow("rest", self.rest_s)
        form.addRow("countdown", self.countdown_s)
        form.addRow("order", self.order)
        form.addRow("folder", folder_row)
        form.addRow(self.start_button)
        form.addRow(self.error)

    def set_defaults_checked(self, names: set[str] | None) -> None:
        """Tick these defaults only (None: all)."""
        for i in range(self.classes.count()):
            item = self.classes.item(i)
            ticked = names is None or item.text() in names
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the taught session")
        if folder:
            self.folder.setText(folder)

    def plan(self) -> tuple[TeachPlan, dict[str, str]]:
        names = [self.classes.item(i).text() for i in range(self.classes.count())
                 if self.classes.item(i).checkState() == Qt.CheckState.Checked]
        performs: dict[str, str] = {}
        for typed in TeachPlan.parse_classes(self.new_classes.text()):
            name, _, gesture = typed.partition("=")
            names.append(name.strip())
            if gesture.strip():
                performs[name.strip()] = gesture.strip()
        plan = TeachPlan(tuple(names), takes_per_class=self.takes.value(),
                         take_s=self.take_s.value(), rest_s=self.rest_s.value(),
                         countdown_s=self.countdown_s.value(), order=self.order.currentText())
        return plan, performs

    def _start(self) -> None:
        from live_snn.errors import LiveSnnError

        try:
            plan, performs = self.plan()
        except LiveSnnError as exc:
            self.error.setText(str(exc))
            return
        if not self.folder.text().strip():
            self.error.setText("choose a folder for the session")
            return
        self.error.setText("")
        self.startRequested.emit(plan, self.folder.text().strip(), performs)


class TeachRun(QWidget):
    """The prompt in large type, the phase's progress, the takes so far and what the user
    can do about the newest one."""

    redoRequested = Signal()
    discardRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.prompt = QLabel("")
        font = QFont(self.prompt.font())
        font.setPointSize(22)
        font.setBold(True)
        self.prompt.setFont(font)
        self.prompt.setWordWrap(True)
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.counts = QLabel("")
        self.counts.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("dim")
        self.redo_button = QPushButton("Redo last take")
        self.discard_button = QPushButton("Discard last take")
        self.stop_button = QPushButton("Stop && save")
        self.redo_button.clicked.connect(self.redoRequested)
        self.discard_button.clicked.connect(self.discardRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        buttons = QHBoxLayout()
        for b in (self.redo_button, self.discard_button, self.stop_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.progress)
        layout.addWidget(self.counts)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def show_status(self, status: TeachStatus, class_names: tuple[str, ...]) -> None:
        self.prompt.setText(status.prompt)
        self.progress.setValue(int(1000 * status.progress))
        per_class = ", ".join(f"{n} {k}" for n, k in zip(class_names, status.kept_per_class,
                                                           strict=True))
        self.counts.setText(f"take {min(status.takes_kept + 1, status.takes_planned)} of "
                            f"{status.takes_planned} · kept: {per_class}")
        self.message.setText(status.message)
        self.redo_button.setEnabled(status.can_undo)
        self.discard_button.setEnabled(status.can_undo)
        self.stop_button.setText("Save" if status.phase == "done" else "Stop && save")


class TeachTrain(QWidget):
    """Train on the saved session in the background, with progress and an ETA; load the
    result with one click."""

    trainRequested = Signal()
    cancelRequested = Signal()
    loadRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.train_button = QPushButton("Train")
        self.train_button.clicked.connect(self.trainRequested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.eta = QLabel("")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.load_button = QPushButton("Load the taught model")
        self.load_button.setEnabled(False)
        self.load_button.clicked.connect(lambda: self.loadRequested.emit(self._path))
        self._path = ""
        row = QHBoxLayout()
        row.addWidget(self.train_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.eta)
        layout.addWidget(self.result)
        layout.addWidget(self.load_button)
        layout.addStretch(1)

    def show_saved(self, result: TeachResult) -> None:
        self.summary.setText(result.message)
        self.train_button.setEnabled(result.kept > 0)

    def show_training(self, progress: FineTuneProgress | None) -> None:
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        if progress is None:
            self.eta.setText("starting…")
            return
        self.progress.setValue(int(1000 * progress.fraction))
        eta = "" if progress.eta_s is None else f" · about {progress.eta_s:.0f} s left"
        self.eta.setText(f"{progress.stage} {progress.done}/{progress.total}{eta}")

    def show_trained(self, result: FineTuneResult) -> None:
        self.cancel_button.setEnabled(False)
        self.train_button.setEnabled(True)
        self.progress.setValue(1000)
        acc = "no held-out takes" if result.val_accuracy is None else \
            f"validation accuracy {100 * result.val_accuracy:.0f} % on {result.val_takes} " \
            "held-out takes"
        self.eta.setText(f"done in {result.seconds:.0f} s")
        self.result.setText(f"{result.path.name}: {acc}")
        self._path = str(result.path)
        self.load_button.setEnabled(True)

    def show_failed(self, message: str) -> None:
        self.cancel_button.setEnabled(False)
        self.train_button.setEnabled(True)
        self.eta.setText(message)


class TeachPanel(Panel):
    """Set-up, then the running session, then training: one panel, three parts."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Teach", parent)
        self.setup = TeachSetup()
        self.run = TeachRun()
        self.train = TeachTrain()
        for part in (self.setup, self.run, self.train):
            self.body.addWidget(part)
        self.show_part("setup")

    def show_part(self, name: str) -> None:
        self.setup.setVisible(name == "setup")
        self.run.setVisible(name in ("run", "train"))
        self.train.setVisible(name == "train")
        self.part = name


def _spin(box, low: float, high: float, value: float, suffix: str = ""):
    box.setRange(low, high)
    box.setValue(value)
    if suffix:
        box.setSuffix(suffix)
    if isinstance(box, QDoubleSpinBox):
        box.setSingleStep(0.5)
        box.setDecimals(1)
    return box
