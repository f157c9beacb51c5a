"""The polling loop shared by live dv-processing inputs (camera, network stream), whose
``getNextEventBatch()`` returns None instead of blocking when no data has arrived."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from live_snn.errors import StreamDroppedError
from live_snn.events import EventBatch, Resolution


def poll_dv_input(
    read_next: Callable[[], object],
    is_running: Callable[[], bool],
    *,
    resolution: Resolution,
    name: str,
    closed: threading.Event,
    lock: threading.Lock,
    counter: list[int],
    heartbeat_s: float,
    poll_interval_s: float,
    stall_timeout_s: float | None,
    lost_reason: str,
) -> Iterator[EventBatch]:
    """Yield converted batches until ``closed`` is set (clean end) or the input stops
    (:class:`StreamDroppedError`). An empty batch is yielded after ``heartbeat_s`` without
    data so the consumer keeps control; ``counter[0]`` counts the events delivered."""
    last_data = last_yield = time.monotonic()
    while not closed.is_set():
        with lock:
            if closed.is_set():
                return
            try:
                store = read_next()
            except RuntimeError as exc:
                raise StreamDroppedError(
                    f"{name}: {lost_reason} after {counter[0]} events ({dv_error_summary(exc)})"
                ) from None
            running = store is not None or is_running()
        now = time.monotonic()
        if store is not None and not store.isEmpty():
            batch = EventBatch.from_dv_numpy(store.numpy(), resolution)
            counter[0] += len(batch)
            last_data = last_yield = now
            yield batch
            continue
        if not running:
            raise StreamDroppedError(f"{name}: {lost_reason} after {counter[0]} events")
        if stall_timeout_s is not None and now - last_data > stall_timeout_s:
            raise StreamDroppedError(
                f"{name}: no data for {stall_timeout_s:g} s after {counter[0]} events "
                f"(stream stalled)"
            )
        if now - last_yield >= heartbeat_s:
            last_yield = now
            yield EventBatch.empty(resolution)
        closed.wait(poll_interval_s)


def dv_error_summary(exc: BaseException) -> str:
    """dv-processing messages carry C++ file paths and stack traces after the first line."""
    lines = [ln for ln in str(exc).splitlines() if ln.strip() and not ln.startswith("/")]
    text = lines[0] if lines else type(exc).__name__
    return text.split(" [system:")[0][:200]
