"""Events → fixed-duration count frames ``[2, H, W]`` at the model's resolution.

One core serves both uses, so that a model is trained on exactly the frames it sees live:
:class:`Binner` bins a stream batch by batch (:mod:`~live_snn.binning.streaming`),
:func:`bin_events` bins a whole recording (:mod:`~live_snn.binning.offline`); what they share
is in :mod:`~live_snn.binning.core`, and :mod:`~live_snn.binning.config` says how events map
to frames. Bin ``k`` covers ``[t0 + k·dt, t0 + (k+1)·dt)`` on the event clock; a bin without
events is still a bin (an all-zero frame), so a still scene yields empty frames rather than
a stall.

Dense float32 frames are the floor of the cost: allocating and first touching them costs
about as much as binning the events (see the binning section of docs/benchmarks.md).
"""

from live_snn.binning.config import BinningConfig, SpatialMapping, bins_in
from live_snn.binning.core import BinnerStats, Frame
from live_snn.binning.offline import BinnedRecording, bin_events
from live_snn.binning.streaming import Binner

__all__ = [
    "BinnedRecording",
    "Binner",
    "BinnerStats",
    "BinningConfig",
    "Frame",
    "SpatialMapping",
    "bin_events",
    "bins_in",
]
