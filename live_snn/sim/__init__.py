"""Gesture event simulator: a rendered person performing the 11 DVS128 Gesture classes in
front of an emulated DVS, giving event batches and DVS128-Gesture-style label tracks.

This package only generates events. The live virtual camera built on it is
:class:`live_snn.sources.sim.SimulatorSource` (``sim:`` spec); writing sessions to disk and
serving the simulator over the network are outputs, in :mod:`live_snn.sinks`.
"""

from live_snn.sim.config import SimConfig
from live_snn.sim.simulator import GestureSimulator, SimSession, SimStream

__all__ = ["GestureSimulator", "SimConfig", "SimSession", "SimStream"]
