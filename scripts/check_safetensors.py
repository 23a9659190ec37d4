"""Loads a safetensors file written by SwiftDL with Python's safetensors, NumPy and (when
installed) PyTorch, and checks it against expectations.

    check_safetensors.py FILE [--expect EXPECTED.json]

Without ``--expect`` it lists the tensors (name, dtype, shape, labels) and the metadata, after
checking that NumPy and PyTorch read the same bits. With ``--expect`` it also checks that the
file holds exactly the expected tensors and metadata; the JSON is

    {"metadata": {"key": "value", ...},
     "tensors": {"name": {"dtype": "float32" | "float64" | "bool" | "complex64" | "complex128",
                          "shape": [2, 3], "labels": "BC" (or ""),
                          "values": [...]}}}

with the values row-major: reals as Python float literals in strings ("1.5", "-0.0", "inf",
"nan"), complex numbers as [real, imaginary] pairs of them, booleans as true/false. Values must
match bit for bit (any NaN matches a NaN). It exits with status 1 and a list of differences
when something does not match.

SwiftDL's conventions are applied as SwiftDL's reader applies them: a complex128 array is
stored as F64 with a last dimension of 2 (real, imaginary) and marked by the metadata
``swiftdl.complex.<name>: complex128``; labels are in ``swiftdl.labels.<name>``; complex64 is
the format's C64 (safetensors 0.7 or later). Metadata keys starting with ``swiftdl.`` are not
compared with the expected metadata.

To check the sample that SwiftDL's tests write (SafeTensorsRoundTripTests), from the
repository root:

    .venv-peers/bin/pip install safetensors numpy        # once; torch is optional
    SWIFTDL_SAFETENSORS_SAMPLE=/tmp/swiftdl-sample.safetensors \\
        swift test --filter sampleForPythonAndItsExpectations
    .venv-peers/bin/python scripts/check_safetensors.py /tmp/swiftdl-sample.safetensors \\
        --expect /tmp/swiftdl-sample.safetensors.expected.json

Any other SwiftDL file (a network's weights, an optimizer's state) can be listed the same way:

    .venv-peers/bin/python scripts/check_safetensors.py weights.safetensors
"""

import argparse
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

RESERVED = "swiftdl."
LABELS = "swiftdl.labels."
COMPLEX = "swiftdl.complex."
BITS = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def load(path):
    """The file's arrays (SwiftDL's conventions applied), their labels and the metadata."""
    arrays = load_file(path)
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
    labels = {}
    for key, value in metadata.items():
        if key.startswith(COMPLEX):
            name = key[len(COMPLEX):]
            stored = arrays[name]
            assert value == "complex128" and stored.dtype == np.float64 and stored.shape[-1:] == (2,), (
                f"{key}: {value} does not fit {stored.dtype} {stored.shape}")
            arrays[name] = np.ascontiguousarray(stored).view(np.complex128)[..., 0]
        elif key.startswith(LABELS):
            labels[key[len(LABELS):]] = value
    return arrays, labels, {k: v for k, v in metadata.items() if not k.startswith(RESERVED)}


def same_bits(actual, expected):
    """Whether two real arrays of one dtype are equal bit for bit, any NaN matching any NaN."""
    nan = np.isnan(expected)
    return bool(np.array_equal(np.isnan(actual), nan)
                and np.array_equal(actual[~nan].view(BITS[actual.dtype]), expected[~nan].view(BITS[actual.dtype])))


def equal_arrays(actual, expected):
    """Whether two arrays have the same dtype, shape and bits."""
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        return False
    if actual.dtype == np.bool_:
        return bool(np.array_equal(actual, expected))
    if np.iscomplexobj(actual):
        return same_bits(actual.real.copy(), expected.real.copy()) and same_bits(actual.imag.copy(), expected.imag.copy())
    return same_bits(actual, expected)


def expected_array(entry):
    """The array an expectation entry describes."""
    dtype = np.dtype(entry["dtype"])
    values = entry["values"]
    if dtype == np.bool_:
        flat = np.array(values, dtype=np.bool_)
    elif np.issubdtype(dtype, np.complexfloating):
        flat = np.array([complex(float(re), float(im)) for re, im in values], dtype=dtype)
    else:
        flat = np.array([float(v) for v in values], dtype=dtype)
    return flat.reshape(entry["shape"])


def check_torch(path, arrays, problems):
    """Checks that PyTorch reads the same bits as NumPy; says so when torch is not installed."""
    try:
        import torch
        from safetensors.torch import load_file as load_torch
    except ImportError:
        print("torch is not installed: checked with NumPy only")
        return
    tensors = load_torch(path)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
    for name, tensor in tensors.items():
        if metadata.get(COMPLEX + name) == "complex128":
            tensor = torch.view_as_complex(tensor)
        if not equal_arrays(tensor.numpy(), arrays[name]):
            problems.append(f"{name}: PyTorch reads {tensor.dtype} {tuple(tensor.shape)}, unlike NumPy")
    print(f"PyTorch {torch.__version__} reads the same {len(tensors)} tensors")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--expect", help="JSON file of expected tensors and metadata")
    args = parser.parse_args()

    arrays, labels, metadata = load(args.file)
    problems = []
    check_torch(args.file, arrays, problems)
    for name in sorted(arrays):
        print(f"  {name}: {arrays[name].dtype} {list(arrays[name].shape)} {labels.get(name, '')}".rstrip())
    print(f"  metadata: {metadata}")

    if args.expect:
        with open(args.expect) as f:
            expected = json.load(f)
        tensors = expected["tensors"]
        if set(arrays) != set(tensors):
            problems.append(f"names: file has {sorted(arrays)}, expected {sorted(tensors)}")
        for name in sorted(set(arrays) & set(tensors)):
            entry, actual = tensors[name], arrays[name]
            if labels.get(name, "") != entry["labels"]:
                problems.append(f"{name}: labels {labels.get(name, '')!r}, expected {entry['labels']!r}")
            if actual.dtype != np.dtype(entry["dtype"]) or list(actual.shape) != entry["shape"]:
                problems.append(f"{name}: {actual.dtype} {list(actual.shape)}, expected {entry['dtype']} {entry['shape']}")
            elif not equal_arrays(actual, expected_array(entry)):
                problems.append(f"{name}: values {actual.ravel().tolist()}, expected {entry['values']}")
        if metadata != expected["metadata"]:
            problems.append(f"metadata {metadata}, expected {expected['metadata']}")

    if problems:
        print("MISMATCH:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print(f"OK: {len(arrays)} tensors" + (" match the expectations" if args.expect else " read"))


if __name__ == "__main__":
    main()
