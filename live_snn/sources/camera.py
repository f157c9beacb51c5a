"""A live event camera through dv-processing (DVS128, DAVIS, DVXplorer over USB).

A camera that stops delivering (unplugged, USB error) raises :class:`StreamDroppedError`;
iteration ends normally only after ``close()``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

from live_snn.errors import CameraNotFoundError, SourceError
from live_snn.events import EventBatch, Resolution
from live_snn.sources._polling import dv_error_summary, poll_dv_input
from live_snn.sources.base import EventSource


@dataclass(frozen=True)
class CameraInfo:
    model: str
    serial: str

    @property
    def description(self) -> str:
        return f"{self.model} {self.serial}"

    @property
    def spec(self) -> str:
        """What :func:`live_snn.sources.open_source` takes to open this camera."""
        return f"camera:{self.serial}"

    def __str__(self) -> str:
        return self.description


def discover() -> list[CameraInfo]:
    """Cameras dv-processing can see now."""
    import dv_processing as dv

    return [
        CameraInfo(model=_model_name(d.cameraModel), serial=str(d.serialNumber))
        for d in dv.io.camera.discover()
    ]


class CameraSource(EventSource):
    is_live = True

    def __init__(
        self,
        serial: str | None = None,
        *,
        heartbeat_s: float = 0.05,
        poll_interval_s: float = 0.001,
    ) -> None:
        import dv_processing as dv

        found = dv.io.camera.discover()
        cameras = [CameraInfo(_model_name(d.cameraModel), str(d.serialNumber)) for d in found]
        if not found:
            wanted = "no event camera found" if serial is None else f"camera {serial!r} not found"
            raise CameraNotFoundError(
                f"{wanted}: dv-processing discovered no USB camera at all (is one plugged "
                f"in, and may this user access it?)"
            )
        matches = [d for d, c in zip(found, cameras, strict=True) if serial in (None, c.serial)]
        if not matches:
            listed = ", ".join(str(c) for c in cameras)
            raise CameraNotFoundError(f"camera {serial!r} not found; connected cameras: {listed}")
        wanted = CameraInfo(_model_name(matches[0].cameraModel), str(matches[0].serialNumber))
        try:
            capture = dv.io.camera.open(matches[0])
        except (RuntimeError, IndexError) as exc:
            raise SourceError(
                f"cannot open camera {wanted}: {dv_error_summary(exc)} (in use by another program?)"
            ) from None
        self._setup(capture, str(wanted), heartbeat_s, poll_interval_s)

    @classmethod
    def from_capture(
        cls,
        capture: object,
        name: str,
        *,
        heartbeat_s: float = 0.05,
        poll_interval_s: float = 0.001,
    ) -> CameraSource:
        """Wrap an already opened ``dv.io.camera`` capture (or anything with its methods)."""
        source = cls.__new__(cls)
        source._setup(capture, name, heartbeat_s, poll_interval_s)
        return source

    def _setup(self, capture, name: str, heartbeat_s: float, poll_interval_s: float) -> None:
        if not capture.isEventStreamAvailable():
            raise SourceError(f"camera {name} has no event output")
        self._capture = capture
        self.name = name
        self.resolution = Resolution.of(capture.getEventResolution())
        self.description = f"camera {name} ({self.resolution})"
        self.heartbeat_s = heartbeat_s
        self.poll_interval_s = poll_interval_s
        self.events_read = 0
        self._counter = [0]
        self._closed = threading.Event()
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[EventBatch]:
        if self._closed.is_set():
            return
        try:
            yield from poll_dv_input(
                self._capture.getNextEventBatch,
                self._capture.isRunning,
                resolution=self.resolution,
                name=f"camera {self.name}",
                closed=self._closed,
                lock=self._lock,
                counter=self._counter,
                heartbeat_s=self.heartbeat_s,
                poll_interval_s=self.poll_interval_s,
                stall_timeout_s=None,
                lost_reason="stopped delivering events (unplugged?)",
            )
        finally:
            self.events_read = self._counter[0]

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._capture = None


def _model_name(model: object) -> str:
    return getattr(model, "name", str(model))
