from __future__ import annotations

import pytest

from live_snn.errors import CameraNotFoundError, SourceError, StreamDroppedError
from live_snn.sources import open_source
from live_snn.sources.camera import CameraSource, discover

dv = pytest.importorskip("dv_processing")


@pytest.fixture
def no_camera_here():
    if dv.io.camera.discover():
        pytest.skip("a camera is connected to this machine")


def test_no_camera_is_a_one_line_error(no_camera_here):
    assert discover() == []
    with pytest.raises(CameraNotFoundError) as info:
        open_source("camera")
    message = str(info.value)
    assert message.startswith("no event camera found") and "discovered no USB camera" in message
    assert "\n" not in message and "Stacktrace" not in message


def test_wrong_serial_without_any_camera(no_camera_here):
    with pytest.raises(
        CameraNotFoundError, match="camera 'DXA99999' not found: dv-processing discovered no"
    ):
        open_source("camera:DXA99999")


class FakeDescriptor:
    def __init__(self, model: str, serial: str):
        self.cameraModel = getattr(dv.io.camera.CameraModel, model)
        self.serialNumber = serial


def test_wrong_serial_lists_the_connected_cameras(monkeypatch):
    found = [FakeDescriptor("DVXPLORER", "DXA00093"), FakeDescriptor("DAVIS", "00000499")]
    monkeypatch.setattr(dv.io.camera, "discover", lambda: found)
    with pytest.raises(CameraNotFoundError) as info:
        CameraSource("DXA00094")
    assert str(info.value) == (
        "camera 'DXA00094' not found; connected cameras: DVXPLORER DXA00093, DAVIS 00000499"
    )
    assert [c.spec for c in discover()] == ["camera:DXA00093", "camera:00000499"]


class FakeCapture:
    """Stands in for an opened dv camera: real dv EventStores, then an unplug."""

    def __init__(self, batches: int, *, fail_with: Exception | None = None):
        self.stores = [
            dv.data.generate.uniformlyDistributedEvents(1000 * (i + 1), (64, 48), 100, i)
            for i in range(batches)
        ]
        self.fail_with = fail_with
        self.running = True

    def isEventStreamAvailable(self):
        return True

    def getEventResolution(self):
        return (64, 48)

    def isRunning(self):
        return self.running

    def getNextEventBatch(self):
        if self.stores:
            return self.stores.pop(0)
        if self.fail_with is not None:
            raise self.fail_with
        self.running = False
        return None


def test_unplugged_camera_raises_stream_dropped_after_its_events():
    source = CameraSource.from_capture(FakeCapture(3), "DVXPLORER DXA00093")
    seen = []
    with pytest.raises(
        StreamDroppedError,
        match=r"camera DVXPLORER DXA00093: stopped delivering events \(unplugged\?\) after 300 events",
    ):
        for batch in source:
            seen.append(len(batch))
    assert seen == [100, 100, 100] and source.events_read == 300


def test_usb_error_text_is_cleaned():
    error = RuntimeError(
        "/project/include/dv-processing/io/camera/usb_device.hpp(120): read()\n"
        "RuntimeError: USB transfer failed\nStacktrace:\n 0# 0x00003ABBDA in dv.so"
    )
    source = CameraSource.from_capture(FakeCapture(1, fail_with=error), "DVS128 0279")
    with pytest.raises(StreamDroppedError) as info:
        list(source)
    assert "USB transfer failed" in str(info.value)
    assert "Stacktrace" not in str(info.value) and "/project/" not in str(info.value)


def test_camera_without_events():
    capture = FakeCapture(0)
    capture.isEventStreamAvailable = lambda: False
    with pytest.raises(SourceError, match="has no event output"):
        CameraSource.from_capture(capture, "DAVIS 1")
