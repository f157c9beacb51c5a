"""Gesture event simulator: a rendered person performing the 11 DVS128 Gesture classes in
front of an emulated DVS, giving events, AEDAT4 files and DVS128-Gesture-style labels.

The live virtual camera built on it is :class:`live_snn.sources.sim.SimulatorSource`
(``sim:`` spec); serving it over the network is :mod:`live_snn.sim.serve`.
"""

from live_snn.labels import read_labels_csv, write_labels_csv
from live_snn.sim.config import SimConfig
from live_snn.sim.recording import write_aedat4, write_session
from live_snn.sim.simulator import GestureSimulator, SimSession, SimStream

__all__ = [
    "GestureSimulator",
    "SimConfig",
    "SimSession",
    "SimStream",
    "read_labels_csv",
    "write_aedat4",
    "write_labels_csv",
    "write_session",
]
