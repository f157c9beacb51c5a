"""The README's screenshot of Teach mode: the real window (run it under Xvfb:
``xvfb-run -a .venv/bin/python scripts/teach_screenshot.py docs/screenshots/teach.png``),
the simulator as the camera and the bundled model, a session of three default classes and
one new name started, the shot taken while a take is being performed."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer

from live_snn.engine import EngineConfig
from live_snn.engine.session import default_model_path
from live_snn_ui.app import GuiOptions, build_window, create_app, save_screenshot

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots/teach.png")
TIMEOUT_MS = 180_000


def main() -> int:
    app = create_app()
    window = build_window(GuiOptions("sim:seed=3", str(default_model_path()),
                                     EngineConfig(speed=1.0)))
    window.resize(1700, 960)
    window.show()
    folder = Path(tempfile.mkdtemp()) / "my_gestures"
    state = {"started": False, "code": 1}

    def start() -> None:
        window.teach_action.trigger()
        setup = window.teach_panel.setup
        setup.set_defaults_checked({"right hand wave", "left hand wave", "arm roll"})
        setup.new_classes.setText("swipe=right-arm-clockwise")
        setup.folder.setText(str(folder))
        setup.start_button.click()
        state["started"] = True

    def poll() -> None:
        if window.session is not None and not state["started"]:
            start()
        recorder = window.teach_mode.recorder
        if recorder is not None:
            status = recorder.status()
            # the third take, half done: the timeline shows the takes before it
            if status.phase == "take" and status.takes_kept >= 2 and status.progress > 0.5:
                save_screenshot(window, OUT)
                print(f"saved {OUT}")
                state["code"] = 0
                window.close()
                app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    QTimer.singleShot(TIMEOUT_MS, app.quit)
    app.exec()
    return state["code"]


if __name__ == "__main__":
    sys.exit(main())
