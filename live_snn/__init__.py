"""live_snn: live DVS gesture recognition with a streaming TCJA spiking neural network.

The core package is Qt-free; the desktop window lives in ``live_snn_ui``.
"""

__version__ = "0.1.0"
