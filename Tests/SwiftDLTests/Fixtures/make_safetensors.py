"""Writes ``python_written.safetensors``, a small file made by Python's safetensors library,
which SwiftDL's tests read (SafeTensorsFixtureTests) to check the read direction against the
reference implementation.

It holds every dtype SwiftDL reads (F32, F64, BOOL, C64), a scalar, an empty array, special
values (infinities, NaN, -0.0, the largest float32, subnormals), metadata of its own, and the
two SwiftDL conventions written from Python: labels (``swiftdl.labels.<name>``) and a
complex128 array stored as F64 with a last dimension of 2 (``swiftdl.complex.<name>``).
The Swift test repeats the values below; change both together.

Run from the repository root with the peers' environment (which has numpy and safetensors):
    .venv-peers/bin/python Tests/SwiftDLTests/Fixtures/make_safetensors.py
"""

import os
import sys

import numpy as np
import safetensors
from safetensors.numpy import save_file

f32 = np.float32
tensors = {
    "weights": np.array([[1.5, -2.25, 0.125], [np.finfo(f32).max, -0.0, np.nextafter(f32(0), f32(1))]], dtype=f32),
    "bias": np.array([np.pi, -np.e, 1 / 3, 5e-324], dtype=np.float64),
    "specials": np.array([np.inf, -np.inf, np.nan], dtype=np.float64),
    "mask": np.array([[True, False, True], [False, False, True]]),
    "step": np.array(7.5, dtype=f32),
    "empty": np.zeros((0, 3), dtype=np.float64),
    "phase": np.array([1 + 2j, -0.5 - 0.25j], dtype=np.complex64),
    "images": (np.arange(8, dtype=f32) / 8).reshape(2, 1, 2, 2),
    # complex128 [1+2j, 3-4j] in SwiftDL's layout: F64 with the real and imaginary parts last.
    "spectrum": np.array([[1.0, 2.0], [3.0, -4.0]], dtype=np.float64),
}
metadata = {
    "writer": "make_safetensors.py",
    "note": "ünïcode \"quoted\"",
    "swiftdl.labels.images": "BCSS",
    "swiftdl.complex.spectrum": "complex128",
}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python_written.safetensors")
save_file(tensors, path + ".tmp", metadata=metadata)
os.replace(path + ".tmp", path)
print(f"wrote {path} with safetensors {safetensors.__version__}", file=sys.stderr)
