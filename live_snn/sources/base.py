"""The interface every event source implements: an iterable of :class:`EventBatch` in time
order, with the sensor resolution, a one-line description and, where known, ground-truth
labels. Recorded files are also seekable."""

from __future__ import annotations

import abc
from collections.abc import Iterator

from live_snn.events import EventBatch, LabelTrack, Resolution


class EventSource(abc.ABC):
    """A producer of event batches (camera, file, network stream, simulator).

    Iterating yields batches in time order and ends at the end of the data. Live sources
    (``is_live``) may yield an empty batch while no events arrive, so that a consumer can
    stop or advance its clock without waiting for the next event. ``close()`` releases the
    device, file or connection; it is idempotent and sources are context managers.
    """

    resolution: Resolution
    is_live: bool = False
    labels: LabelTrack | None = None
    description: str = ""

    @abc.abstractmethod
    def __iter__(self) -> Iterator[EventBatch]:
        """Batches in time order, from the current position to the end of the data."""

    def close(self) -> None:  # noqa: B027 - sources without resources need no cleanup
        """Release what the source holds (device, process, socket)."""

    def __enter__(self) -> EventSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


class SeekableSource(EventSource):
    """A recorded source: iteration continues from the current position (like a file), and
    ``seek`` moves that position, also between two batches of an ongoing iteration."""

    start_us: int  # timestamp of the first event
    end_us: int  # timestamp of the last event

    @abc.abstractmethod
    def seek(self, t_us: int) -> None:
        """The next batch starts at the first event with ``t >= t_us``."""

    @property
    def duration_us(self) -> int:
        return self.end_us - self.start_us
