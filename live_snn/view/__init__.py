"""What a viewer of a session shows, Qt-free (napari-style: the model of the view, apart from
its widgets): :mod:`~live_snn.view.history`, the per-step history of the predictions, and
:mod:`~live_snn.view.state`, which step is in view. The GUI (``live_snn_ui``) draws them;
the export writes the history."""
