"""The arithmetic the network's convolutions may run in (``--conv-dtype``): named here, in a
module without torch, so that configs can be checked without importing it."""

CONV_DTYPES = ("float32", "bfloat16")
