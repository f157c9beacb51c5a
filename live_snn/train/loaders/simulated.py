"""Sessions of the gesture simulator, one per seed (128×128 sensor), made in ``workers``
processes and cached under a key that includes the simulator's code digest."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import torch

from live_snn.binning import BinningConfig
from live_snn.train.data_spec import DataSpec, simulator_fingerprint
from live_snn.train.session_cache import SessionCache, session_key
from live_snn.train.sessions import LabelledSession, bin_session


def _simulate(args: tuple[int, float, dict]) -> LabelledSession:
    """One seed's session (in a worker process: arguments and result are picklable)."""
    from live_snn.sim import GestureSimulator, SimConfig

    seed, duration_s, binning_dict = args
    binning = BinningConfig.from_dict(binning_dict)
    torch.set_num_threads(1)
    sim = GestureSimulator(SimConfig(seed=seed)).session(duration_s=duration_s)
    events = sim.events.slice_time(sim.start_us, sim.end_us)
    return bin_session(f"sim-seed{seed}", events, sim.labels, binning,
                       t0_us=sim.start_us, t_end_us=sim.end_us)


def load_simulated(spec: DataSpec, binning: BinningConfig, *, cache: SessionCache,
                   workers: int = 1) -> list[LabelledSession]:
    code = simulator_fingerprint()
    keys = [session_key(f"sim:{seed}:{spec.duration_s}", binning, code) for seed in spec.seeds]

    def produce(indices: list[int]) -> list[LabelledSession]:
        args = [(spec.seeds[i], spec.duration_s, binning.as_dict()) for i in indices]
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                return list(pool.map(_simulate, args))
        return [_simulate(a) for a in args]

    return cache.cached_sessions(keys, produce)
