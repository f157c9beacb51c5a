from __future__ import annotations

import numpy as np
import pytest
import torch

from live_snn.engine.ring_buffer import RingBuffer

SHAPE = (2, 8, 6)


def _frame(i: int) -> np.ndarray:
    return np.full(SHAPE, float(i), dtype=np.float32)


def test_window_is_oldest_first_across_the_wrap():
    ring = RingBuffer(5, SHAPE)
    for i in range(12):
        ring.push(_frame(i))
    assert len(ring) == 5 and ring.capacity == 5 and ring.total_pushed == 12
    assert ring.latest()[0, 0, 0].item() == 11
    window = ring.window(5)
    assert window.shape == (5, *SHAPE)
    assert window[:, 0, 0, 0].tolist() == [7, 8, 9, 10, 11]
    assert ring.window(3)[:, 0, 0, 0].tolist() == [9, 10, 11]
    # The window is a copy: later pushes do not change it.
    ring.push(_frame(99))
    assert window[:, 0, 0, 0].tolist() == [7, 8, 9, 10, 11]


def test_partly_filled_buffer():
    ring = RingBuffer(4, SHAPE)
    ring.push(_frame(1))
    ring.push(_frame(2))
    assert len(ring) == 2
    assert ring.window(2)[:, 0, 0, 0].tolist() == [1, 2]
    with pytest.raises(ValueError, match="window of 3 frames.*holds 2"):
        ring.window(3)
    with pytest.raises(ValueError):
        ring.window(0)


def test_push_copies_into_preallocated_storage():
    ring = RingBuffer(3, SHAPE)
    storage = ring._storage.data_ptr()
    frame = _frame(5)
    slots = set()
    for i in range(7):
        ring.push(torch.from_numpy(_frame(i)) if i % 2 else frame)
        assert ring._storage.data_ptr() == storage
        slots.add(ring.latest().data_ptr())
    assert len(slots) == 3  # each push landed in one of the three preallocated slots
    frame[:] = -1  # the pushed array is copied, not referenced
    assert (ring.window(3) >= 0).all()


def test_window_into_out_avoids_allocation():
    ring = RingBuffer(4, SHAPE)
    for i in range(6):
        ring.push(_frame(i))
    out = torch.empty((3, *SHAPE))
    assert ring.window(3, out=out) is out
    assert out[:, 0, 0, 0].tolist() == [3, 4, 5]
    with pytest.raises(ValueError, match="out has shape"):
        ring.window(2, out=out)


def test_converts_dtype_and_refuses_wrong_shape():
    ring = RingBuffer(2, SHAPE)
    ring.push(np.ones(SHAPE, dtype=np.uint16))
    assert ring.latest().dtype == torch.float32 and ring.latest().sum().item() == 96
    with pytest.raises(ValueError, match=r"shape \(2, 6, 8\)"):
        ring.push(np.zeros((2, 6, 8), np.float32))


def test_clear_and_empty():
    ring = RingBuffer(2, SHAPE)
    with pytest.raises(IndexError, match="empty"):
        ring.latest()
    ring.push(_frame(1))
    ring.clear()
    assert len(ring) == 0 and ring.total_pushed == 0
    with pytest.raises(IndexError):
        ring.latest()
    with pytest.raises(ValueError, match="capacity"):
        RingBuffer(0, SHAPE)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_buffer():
    ring = RingBuffer(4, SHAPE, device="cuda")
    storage = ring._storage.data_ptr()
    for i in range(6):
        ring.push(_frame(i))
    assert ring._storage.data_ptr() == storage
    assert ring.latest().device.type == "cuda"
    assert ring.window(4).cpu()[:, 0, 0, 0].tolist() == [2, 3, 4, 5]


def test_read_only_frames_are_copied_without_a_warning():
    """The binner's empty frames are read-only arrays. torch warns only once per process,
    so the check runs in a fresh interpreter with warnings as errors."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from live_snn.engine.ring_buffer import RingBuffer\n"
        "frame = np.full((2, 3, 4), 7, np.float32)\n"
        "frame.flags.writeable = False\n"
        "ring = RingBuffer(2, (2, 3, 4))\n"
        "ring.push(frame)\n"
        "assert ring.latest().sum().item() == 7 * 24\n"
    )
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
