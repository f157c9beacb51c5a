"""The fuzz harness's mutations are drawn from the seed alone."""

from __future__ import annotations

import numpy as np

from live_snn.bench.fuzz_mutations import mutate


def test_mutations_are_reproducible():
    data = bytes(range(256)) * 64
    one = mutate(data, np.random.default_rng(5), protect=32, packets=[64], event_bytes=[100])
    two = mutate(data, np.random.default_rng(5), protect=32, packets=[64], event_bytes=[100])
    assert one == two and one[0] != data
