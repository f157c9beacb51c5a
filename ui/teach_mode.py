"""Teach mode: connects the Teach panel to a teaching session on what the window plays,
and to a fine-tune in the background. The session (:class:`TeachRecorder`) is fed by the
engine's batches on the engine thread; this object polls it at the bridge's tick and shows
it. With the simulator as the source, the source is reopened as a simulated person who
performs the prompts (:func:`open_teaching_source`); any other source is used as it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from live_snn.errors import LiveSnnError
from live_snn.sources.performer import open_teaching_source
from live_snn.teach.finetune_config import FineTuneConfig
from live_snn.teach.job import FineTuneJob
from live_snn.teach.plan import TeachPlan
from live_snn.teach.recorder import TeachRecorder
from live_snn.teach.session import LOST, STOPPED

from .engine_bridge import EngineBridge, describe_error
from .teach_panel import TeachPanel

_ENDING_EVENTS = ("stream_dropped", "failed", "finished", "stopped")
TAUGHT_FILE = "taught.safetensors"


class TeachMode(QObject):
    def __init__(self, bridge: EngineBridge, panel: TeachPanel, *,
                 finetune: FineTuneConfig | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.bridge, self.panel = bridge, panel
        self.finetune = finetune or FineTuneConfig()
        self.recorder: TeachRecorder | None = None
        self.job: FineTuneJob | None = None
        self.folder: Path | None = None
        self.result = None
        self._unsubscribe: Callable[[], None] | None = None
        panel.setup.startRequested.connect(self.start)
        panel.run.redoRequested.connect(lambda: self.recorder and self.recorder.redo())
        panel.run.discardRequested.connect(lambda: self.recorder and self.recorder.discard())
        panel.run.stopRequested.connect(self.finish)
        panel.train.trainRequested.connect(self.train)
        panel.train.cancelRequested.connect(lambda: self.job and self.job.cancel())
        panel.train.loadRequested.connect(bridge.load_model)
        bridge.stepsArrived.connect(self.refresh)
        bridge.engineEvent.connect(self._on_engine_event)

    # ---- the session ------------------------------------------------------------------------
    def start(self, plan: TeachPlan, folder: str, performs: dict[str, str]) -> None:
        bridge = self.bridge
        if bridge.engine is None or bridge.session is None or bridge.spec is None:
            self._refuse("open a source (camera, network or the simulator) and a model first")
            return
        spec = bridge.spec
        if spec.strip() == "sim" or spec.strip().startswith("sim:"):
            made: dict = {}

            def source():
                made["source"] = open_teaching_source(spec, performs)
                return made["source"]

            bridge.open_source(spec, source=source,
                               then=lambda engine: self._attach(engine, plan, folder,
                                                                made["source"]))
            return
        if performs:
            self._refuse("NAME=GESTURE only tells the simulated person what to perform; "
                         "whoever is in front of this source performs")
            return
        self._attach(bridge.engine, plan, folder, None)

    def _attach(self, engine, plan: TeachPlan, folder: str, performer) -> None:
        session = self.bridge.session
        try:
            self.recorder = TeachRecorder(plan, folder, resolution=session.sensor,
                                          source_description=session.source_description,
                                          performer=performer, live=session.is_live)
        except (LiveSnnError, OSError) as exc:
            self._refuse(describe_error(exc))
            return
        self.folder = self.recorder.folder
        self._unsubscribe = engine.subscribe_batches(self.recorder.feed)
        self.panel.show_part("run")
        self.refresh()

    def _refuse(self, message: str) -> None:
        self.panel.setup.error.setText(message)
        self.bridge.errorRaised.emit(f"Teach: {message}")

    def finish(self) -> None:
        """Stop (a take under way is thrown away) and write the folder."""
        if self.recorder is None:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.result = self.recorder.finish()
        self.panel.run.show_status(self.recorder.status(), self.recorder.plan.class_names)
        self.recorder = None
        self.panel.train.show_saved(self.result)
        self.panel.show_part("train")
        self.bridge.noticeRaised.emit(f"Teach: {self.result.message}")

    def _on_engine_event(self, event) -> None:
        if self.recorder is not None and event.kind in _ENDING_EVENTS:
            self.recorder.source_lost(f"{event.kind.replace('_', ' ')}: {event.message}")
            self.finish()

    # ---- training ---------------------------------------------------------------------------
    def train(self) -> None:
        if self.folder is None or (self.job is not None and not self.job.done):
            return
        base = self.bridge.model_path  # the model in use, else the bundled one
        self.job = FineTuneJob([self.folder], self.folder / TAUGHT_FILE, base=base,
                               config=self.finetune).start()
        self.panel.train.show_training(None)

    # ---- the tick ---------------------------------------------------------------------------
    def refresh(self, *_args) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.tick()
            status = recorder.status()
            self.panel.run.show_status(status, recorder.plan.class_names)
            if status.phase in (STOPPED, LOST):
                self.finish()
        job = self.job
        if job is not None and self.panel.train.cancel_button.isEnabled():
            if job.done and job.result is not None:
                self.panel.train.show_trained(job.result)
            elif job.done:
                self.panel.train.show_failed(describe_error(job.error))
                self.bridge.errorRaised.emit(f"Teach: training: {describe_error(job.error)}")
            else:
                self.panel.train.show_training(job.progress())
