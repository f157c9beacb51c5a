"""malloc tuning for timing model steps on CPU (``live-snn bench model --malloc``): the
engine's :func:`live_snn.engine.host_memory.keep_freed_memory`, which says why."""

from live_snn.engine.host_memory import keep_freed_memory

__all__ = ["keep_freed_memory"]
