"""Event sources: recorded files, a live camera, a DV network stream, the simulator.

Every source is an :class:`EventSource` (an iterable of :class:`~live_snn.events.EventBatch`);
recordings are :class:`SeekableSource`. :func:`open_source` opens one from a string.
"""

from live_snn.sources.base import EventSource, SeekableSource
from live_snn.sources.memory import MemorySource
from live_snn.sources.paced import PacedSource
from live_snn.sources.spec import open_source

__all__ = ["EventSource", "MemorySource", "PacedSource", "SeekableSource", "open_source"]
