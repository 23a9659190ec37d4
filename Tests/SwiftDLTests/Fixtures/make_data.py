"""gzip data made by Python's gzip and zlib modules for SwiftDL's gzip and IDX tests, and
reference values of the real MNIST files for the MNIST tests.

Writes ``data.json`` next to itself:

    {"python": "<version>", "zlib": "<version>",
     "gzip": {"<case>": {"input": "<base64>" or "generated": <length> (+ "repeat": [back, length]),
                         "gzip": "<base64>", "block_types": [...], "largest_distance_symbol": <n>}},
     "idx": {"<case>": {"gzip": "<base64>"}},
     "mnist": {"train": {...}, "test": {...}}}

The "stored" and "large" gzip cases are not stored uncompressed: their input is
``generated_input(length)`` below, which the Swift test generates too, followed for "large" by
a copy of `length` of its bytes from `back` bytes before its end. Every case records the deflate block types found
in its stream (0 stored, 1 fixed Huffman, 2 dynamic Huffman), checked here, so the tests cover
all three. The MNIST values are read from ../shared/datasets/mnist (beside the repository)
with Python's gzip module; the dataset itself is never stored.

Run from the repository root (standard library only):
    .venv-peers/bin/python Tests/SwiftDLTests/Fixtures/make_data.py
"""

import base64
import gzip
import json
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, "..", "..", "..", "..", "shared", "datasets", "mnist")


def generated_input(length):
    """Deterministic, compressible bytes: words and single random bytes chosen by a 64-bit LCG.

    Each step: state = state * 6364136223846793005 + 1442695040888963407 (mod 2^64), v = state >> 33.
    If v % 8 == 0 the step writes the byte (v >> 8) % 256; otherwise it writes word w = (v >> 8) % 50,
    whose letters are "abc...z"[(7w + 3i) % 26] for i < 3 + w % 6, then a space.
    """
    state, out = 1, bytearray()
    letters = b"abcdefghijklmnopqrstuvwxyz"
    while len(out) < length:
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        v = state >> 33
        if v % 8 == 0:
            out.append((v >> 8) % 256)
        else:
            w = (v >> 8) % 50
            out += bytes(letters[(7 * w + 3 * i) % 26] for i in range(3 + w % 6)) + b" "
    return bytes(out[:length])


class Bits:
    """Reads a deflate stream's bits, least significant first."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def read(self, n):
        value = 0
        for i in range(n):
            value |= ((self.data[self.pos >> 3] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return value


def block_types(member):
    """The block types of the deflate stream in a single gzip member, and its largest distance
    symbol (-1 without copies)."""
    flags = member[3]
    offset = 10
    if flags & 4:
        offset += 2 + member[offset] + (member[offset + 1] << 8)
    for flag in (8, 16):
        if flags & flag:
            offset = member.index(0, offset) + 1
    if flags & 2:
        offset += 2
    return deflate_block_types(member[offset:-8])


def deflate_block_types(stream):
    """A minimal deflate decoder that records each block's type (it decodes the symbols to find
    where each block ends) and the largest distance symbol."""
    bits, types, largest_distance = Bits(stream), [], -1
    length_base = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
                   163, 195, 227, 258]
    length_extra = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
    dist_extra = [0, 0, 0, 0] + [k // 2 for k in range(2, 28)]

    def table(lengths):
        codes, code = {}, 0
        for n in range(1, 16):
            for symbol, length in enumerate(lengths):
                if length == n:
                    codes[(n, code)] = symbol
                    code += 1
            code <<= 1
        return codes

    def decode(codes):
        code = 0
        for n in range(1, 16):
            code = (code << 1) | bits.read(1)
            if (n, code) in codes:
                return codes[(n, code)]
        raise ValueError("invalid code")

    final = 0
    while not final:
        final, kind = bits.read(1), bits.read(2)
        types.append(kind)
        if kind == 0:
            bits.pos = (bits.pos + 7) // 8 * 8
            n = bits.read(16)
            bits.read(16)
            bits.pos += 8 * n
            continue
        if kind == 1:
            lit = table([8] * 144 + [9] * 112 + [7] * 24 + [8] * 8)
            dist = table([5] * 32)
        else:
            hlit, hdist, hclen = bits.read(5) + 257, bits.read(5) + 1, bits.read(4) + 4
            order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
            cl = [0] * 19
            for k in range(hclen):
                cl[order[k]] = bits.read(3)
            clcodes, lengths = table(cl), []
            while len(lengths) < hlit + hdist:
                s = decode(clcodes)
                if s < 16:
                    lengths.append(s)
                elif s == 16:
                    lengths += [lengths[-1]] * (3 + bits.read(2))
                elif s == 17:
                    lengths += [0] * (3 + bits.read(3))
                else:
                    lengths += [0] * (11 + bits.read(7))
            lit, dist = table(lengths[:hlit]), table(lengths[hlit:])
        while True:
            s = decode(lit)
            if s == 256:
                break
            if s > 256:
                bits.read(length_extra[s - 257])
                d = decode(dist)
                largest_distance = max(largest_distance, d)
                bits.read(dist_extra[d])
    return types, largest_distance


def compress(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY, mem_level=9):
    """A gzip member made by zlib (a lower memory level makes smaller blocks)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31, mem_level, strategy)
    return compressor.compress(data) + compressor.flush()


def b64(data):
    return base64.b64encode(data).decode("ascii")


def gzip_case(data, member, expected_types, generated=None):
    types, largest_distance = block_types(member)
    if expected_types is not None:
        assert set(types) == set(expected_types), (types, expected_types)
    assert gzip.decompress(member) == data
    case = {"gzip": b64(member), "block_types": types, "largest_distance_symbol": largest_distance}
    if generated is None:
        case["input"] = b64(data)
    else:
        case.update(generated)
    return case


text = b"".join(b"line %d: the quick brown fox jumps over the lazy dog; " % k + b"ab" * (k % 7) + b"\n"
                for k in range(400))
fixed_input = b"abcabcabcabc" + b"a" * 300 + b"xyzxyz" * 50 + b"Hello, hello, hello! " * 20
header_member = (b"\x1f\x8b\x08" + bytes([4 | 8 | 16 | 2]) + struct.pack("<I", 0) + b"\x00\xff"
                 + struct.pack("<H", 6) + b"AB\x02\x00xy" + b"name.idx\x00" + b"a comment\x00")
header_member += struct.pack("<H", zlib.crc32(header_member) & 0xFFFF)
raw = zlib.compressobj(9, zlib.DEFLATED, -15)
header_payload = b"hello hello hello, header fields\n" * 3
header_member += raw.compress(header_payload) + raw.flush()
header_member += struct.pack("<II", zlib.crc32(header_payload), len(header_payload))

# 256 KiB of generated bytes, then 5000 of them again from 32000 bytes back (distance symbol 29).
large = generated_input(1 << 18)
large += large[-32000:-27000]
gzip_cases = {
    "empty": gzip_case(b"", compress(b""), [1]),
    "stored": gzip_case(generated_input(70000), compress(generated_input(70000), level=0), [0], {"generated": 70000}),
    "fixed": gzip_case(fixed_input, compress(fixed_input, strategy=zlib.Z_FIXED), [1]),
    "dynamic": gzip_case(text, compress(text), [2]),
    "large": gzip_case(large, compress(large, mem_level=6), [2], {"generated": 1 << 18, "repeat": [32000, 5000]}),
    "two_members": gzip_case(b"first member\n" + text[:500],
                             gzip.compress(b"first member\n", mtime=0) + gzip.compress(text[:500], mtime=0), None),
    "header_fields": gzip_case(header_payload, header_member, None),
}
assert len(gzip_cases["large"]["block_types"]) > 4, "the large case should span several blocks"
assert gzip_cases["large"]["largest_distance_symbol"] == 29, "the large case should copy from 32000 bytes back"


def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


# The small IDX files the Swift tests also write uncompressed: pixel (n, r, c) = (60n + 7r + 3c) % 256.
images = idx(0x803, [3, 4, 5], [(60 * n + 7 * r + 3 * c) % 256 for n in range(3) for r in range(4) for c in range(5)])
labels = idx(0x801, [3], [7, 2, 9])
idx_cases = {
    "images": {"gzip": b64(gzip.compress(images, mtime=0))},
    "labels": {"gzip": b64(gzip.compress(labels, mtime=0))},
}


def mnist_values(prefix):
    with gzip.open(os.path.join(MNIST, prefix + "-images-idx3-ubyte.gz")) as f:
        image_bytes = f.read()
    with gzip.open(os.path.join(MNIST, prefix + "-labels-idx1-ubyte.gz")) as f:
        label_bytes = f.read()
    count, rows, cols = struct.unpack(">III", image_bytes[4:16])
    pixels, classes = image_bytes[16:], label_bytes[8:]
    size = rows * cols
    last = count - 1
    return {
        "count": count, "rows": rows, "cols": cols,
        "first_labels": list(classes[:10]), "last_label": classes[-1],
        "class_counts": [classes.count(k) for k in range(10)],
        "first_image_sum": sum(pixels[:size]), "last_image_sum": sum(pixels[last * size:]),
        "first_image_row_14": list(pixels[14 * cols:15 * cols]),
        "pixel_sum": sum(pixels),
    }


mnist = {}
if os.path.isdir(MNIST):
    mnist = {"train": mnist_values("train"), "test": mnist_values("t10k")}
else:
    print(f"no MNIST at {MNIST}: the mnist values are left out", file=sys.stderr)

path = os.path.join(HERE, "data.json")
with open(path + ".tmp", "w") as f:
    json.dump({"python": sys.version.split()[0], "zlib": zlib.ZLIB_VERSION, "gzip": gzip_cases, "idx": idx_cases,
               "mnist": mnist}, f, separators=(",", ":"))
os.replace(path + ".tmp", path)
print(f"wrote {path} ({os.path.getsize(path)} bytes)", file=sys.stderr)
