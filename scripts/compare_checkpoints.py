#!/usr/bin/env python3
"""Compares the tensors of two safetensors files (two `gan` checkpoints, say) to a relative
tolerance, with the Python standard library alone.

    compare_checkpoints.py ACTUAL REFERENCE [--tolerance 1e-5] [--skip SUBSTRING ...]

Both files must hold the same tensor names. A tensor matches when every element differs from
the reference's by at most the tolerance times the reference tensor's largest magnitude. The
first differing element of the first tensor that does not match is printed and the status is 1;
otherwise one line says how many tensors matched. ``--skip`` leaves out the tensors whose names
contain a substring (for example the bias of a layer followed by batch normalization, whose
gradient is rounding noise that Adam turns into full-size steps).
"""
import argparse
import json
import struct
import sys

FORMATS = {"F32": ("f", 4), "F64": ("d", 8)}


def read(path):
    with open(path, "rb") as file:
        data = file.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] not in FORMATS:
            continue
        code, size = FORMATS[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // size
        tensors[name] = struct.unpack("<%d%s" % (count, code), data[start + begin:start + end])
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("actual")
    parser.add_argument("reference")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--skip", nargs="*", default=[])
    arguments = parser.parse_args()
    actual, reference = read(arguments.actual), read(arguments.reference)
    if set(actual) != set(reference):
        print("the tensors differ: %s" % sorted(set(actual) ^ set(reference)))
        return 1
    names = [n for n in sorted(actual) if not any(s in n for s in arguments.skip)]
    for name in names:
        a, r = actual[name], reference[name]
        if len(a) != len(r):
            print("%s: %d elements against %d" % (name, len(a), len(r)))
            return 1
        scale = max([abs(v) for v in r] + [sys.float_info.min])
        for k, (x, y) in enumerate(zip(a, r)):
            if not abs(x - y) <= arguments.tolerance * scale:
                print("%s: element %d is %r, the reference %r (relative difference %.3g)"
                      % (name, k, x, y, abs(x - y) / scale))
                return 1
    print("%d tensors match within %g relative (%d skipped)"
          % (len(names), arguments.tolerance, len(actual) - len(names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
