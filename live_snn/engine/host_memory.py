"""malloc tuning for model steps on CPU: engines on CPU call :func:`keep_freed_memory`
(``EngineConfig.keep_freed_memory``), ``live-snn bench model --malloc`` times both settings.

A step allocates a few megabytes of short-lived tensors (convolution outputs, spikes). By
default glibc's malloc hands blocks of that size back to the operating system when they are
freed, so the next step gets fresh pages and pays a page fault on the first touch of each:
on this project's 2-core VM a fresh process paid 400-2,900 page faults per 8-row ``lite``
step (``live-snn bench model --malloc both`` times both settings). :func:`keep_freed_memory` asks malloc to keep freed
blocks for reuse instead. It changes the whole process (freed memory stays with it, up to
1 GiB of free heap), so library code never calls it on its own: an engine on CPU does when
its config says so (``EngineConfig.keep_freed_memory``, off by default; the ``live-snn``
commands that run an engine, which own their process, turn it on), the benchmarks once
before timing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024   # glibc's upper limit on 64-bit systems
_TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Make glibc keep freed blocks up to 32 MiB (and up to 1 GiB of free heap) for reuse.
    Returns True when the setting took effect, False where malloc is not glibc's."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and \
        bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
