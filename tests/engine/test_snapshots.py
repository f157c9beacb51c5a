from __future__ import annotations

from live_snn.engine.predictor import Predictor, PredictorConfig
from live_snn.engine.runner import RunnerSnapshot
from live_snn.engine.snapshots import Snapshot, SnapshotStore


def snap(k: int, nbytes: int = 100) -> Snapshot:
    return Snapshot(k, RunnerSnapshot(None, None, nbytes), Predictor(PredictorConfig(), 3).snapshot(), 0)


def test_nearest_snapshot_at_or_before_a_bin():
    store = SnapshotStore(every=10, budget_bytes=10_000)
    for k in range(0, 100):
        if store.due(k):
            store.add(snap(k))
    assert len(store) == 10
    assert store.nearest(57).bin == 50 and store.nearest(50).bin == 50
    assert store.nearest(9).bin == 0
    assert not store.due(50) and not store.due(51) and store.due(100)


def test_budget_thins_snapshots_and_doubles_the_interval():
    store = SnapshotStore(every=10, budget_bytes=1_000)  # room for 10 snapshots of 100 B
    for k in range(0, 1000):
        if store.due(k):
            store.add(snap(k))
    assert store.nbytes <= 1_000
    assert store.every >= 100
    assert store.nearest(0).bin == 0  # the start always stays
    bins = [store.nearest(k).bin for k in range(0, 1000, 10)]
    assert all(b % store.every == 0 for b in bins)
    store.clear()
    assert len(store) == 0 and store.nearest(500) is None
