"""ari_app: an AI front desk for the Asterisk PBX, driven through ARI."""

import os

# NumPy's OpenBLAS starts a thread per core for every large enough matrix product (Whisper's
# mel filter bank is one) and lets those threads spin for a while afterwards; on two cores
# they took a core from the recogniser and made each decode a third slower (BENCHMARKS.md).
# Our matrix products are small: one thread. Set before anything imports NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
