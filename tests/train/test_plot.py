import cv2
import numpy as np

from live_snn.train.plot import render_report, write_report_png


def test_report_png_has_heatmap_and_histogram(tmp_path):
    confusion = np.array([[5, 1], [0, 6]])
    image = render_report(confusion, ["clap", "wave"], [40.0, 60.0, 80.0], "test")
    assert image.ndim == 3 and image.dtype == np.uint8
    # a viridis heatmap and blue bars: the image is not just text on white
    assert (np.abs(image.astype(int) - 255).sum(axis=2) > 100).mean() > 0.05
    path = write_report_png(tmp_path / "r.png", confusion, ["clap", "wave"], [], "empty")
    loaded = cv2.imread(str(path))
    assert loaded is not None and loaded.shape[2] == 3
