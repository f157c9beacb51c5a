"""Outputs: where events and predictions leave live_snn.

Events: :mod:`~live_snn.sinks.aedat4_writer` (vectorised AEDAT4 writer),
:mod:`~live_snn.sinks.recording` (record any source to a verified AEDAT4 file),
:mod:`~live_snn.sinks.sim_session` (simulated sessions with their label files),
:mod:`~live_snn.sinks.network_writer` and :mod:`~live_snn.sinks.serve` (the simulator served
over the DV network protocol). Predictions: :mod:`~live_snn.sinks.jsonl` (JSON Lines) and
:mod:`~live_snn.sinks.sidecar` (predictions written beside a recording as it is made).

Nothing is imported here: each writer pulls in only what it needs (dv-processing, the engine).
"""
