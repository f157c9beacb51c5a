"""Export of annotated replay videos and per-step data (docs/export.md).

``render`` composes one video frame from plain NumPy inputs, ``video`` writes frames with
OpenCV, ``npz`` collects Prediction records into arrays and writes them, ``exporter`` runs
the engine over a time range and feeds both; ``palette`` holds the colours shared with the GUI.
Nothing is imported here, so ``palette`` and ``render`` stay usable without torch.
"""
