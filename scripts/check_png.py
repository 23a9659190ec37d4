"""Checks PNG files written by SwiftDL with nothing but Python's standard library (zlib and
struct, no imaging library): the signature, every chunk's length and CRC-32, the IHDR fields,
the zlib stream of the IDAT chunks (its header and Adler-32, which zlib checks), the size of the
decompressed rows, each row's filter type, and that the rows un-filter.

    check_png.py FILE.png [FILE.png ...]

It prints one line per file (size, filter types used, compression ratio) and exits with status 1
and the reason when a file fails a check. SwiftDL writes 8-bit RGB (color type 2), not interlaced.

To check the samples that SwiftDL's tests write (PlotTests), from the repository root:

    mkdir -p /tmp/swiftdl-png
    SWIFTDL_PNG_SAMPLES=/tmp/swiftdl-png swift test --filter PlotTests
    python3 scripts/check_png.py /tmp/swiftdl-png/*.png
"""
import struct
import sys
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILTER_NAMES = {0: "none", 1: "sub", 2: "up", 3: "average", 4: "paeth"}


class PNGError(Exception):
    pass


def chunks(data):
    """Yields (type, data) for each chunk after checking its length and CRC-32."""
    offset = len(SIGNATURE)
    while offset < len(data):
        if len(data) - offset < 12:
            raise PNGError(f"truncated chunk header at byte {offset}")
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        end = offset + 8 + length
        if end + 4 > len(data):
            raise PNGError(f"chunk {kind!r} at byte {offset} says {length} bytes, the file ends first")
        (stored,) = struct.unpack(">I", data[end:end + 4])
        actual = zlib.crc32(data[offset + 4:end]) & 0xFFFFFFFF
        if stored != actual:
            raise PNGError(f"chunk {kind!r} at byte {offset}: CRC {stored:08x} stored, {actual:08x} computed")
        yield kind.decode("ascii"), data[offset + 8:end]
        offset = end + 4


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter(raw, width, height, bytes_per_pixel):
    """The pixel rows of the decompressed data, and the filter type of each row."""
    row_length = width * bytes_per_pixel
    if len(raw) != height * (row_length + 1):
        raise PNGError(f"{len(raw)} decompressed bytes, {height} rows of 1 + {row_length} need {height * (row_length + 1)}")
    rows, filters, previous = [], [], bytearray(row_length)
    for y in range(height):
        start = y * (row_length + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + row_length])
        if kind not in FILTER_NAMES:
            raise PNGError(f"row {y} has filter type {kind}")
        for i in range(row_length):
            a = row[i - bytes_per_pixel] if i >= bytes_per_pixel else 0
            b = previous[i]
            c = previous[i - bytes_per_pixel] if i >= bytes_per_pixel else 0
            prediction = (0, a, b, (a + b) // 2, paeth(a, b, c))[kind]
            row[i] = (row[i] + prediction) & 0xFF
        rows.append(row)
        filters.append(kind)
        previous = row
    return rows, filters


def check(path):
    with open(path, "rb") as file:
        data = file.read()
    if not data.startswith(SIGNATURE):
        raise PNGError("no PNG signature")
    found = list(chunks(data))
    kinds = [kind for kind, _ in found]
    if kinds[0] != "IHDR" or kinds[-1] != "IEND" or "IDAT" not in kinds:
        raise PNGError(f"chunks in the wrong order: {kinds}")
    header = found[0][1]
    if len(header) != 13:
        raise PNGError(f"IHDR has {len(header)} bytes, not 13")
    width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", header)
    if (depth, color, compression, filtering, interlace) != (8, 2, 0, 0, 0):
        raise PNGError(f"IHDR bit depth {depth}, color type {color}, methods {compression}/{filtering}/{interlace}; "
                       "expected 8-bit RGB (8, 2, 0, 0, 0)")
    if width == 0 or height == 0:
        raise PNGError(f"empty image {width}x{height}")
    stream = b"".join(body for kind, body in found if kind == "IDAT")
    try:
        raw = zlib.decompress(stream)  # checks the zlib header and the Adler-32
    except zlib.error as error:
        raise PNGError(f"the IDAT zlib stream does not decompress: {error}")
    rows, filters = unfilter(raw, width, height, 3)
    used = sorted({FILTER_NAMES[kind] for kind in filters})
    print(f"{path}: ok, {width}x{height}, {len(data)} bytes ({len(raw) / len(data):.1f}:1), "
          f"filters {', '.join(used)}, chunks {' '.join(kinds)}")


def main(paths):
    if not paths:
        print(__doc__)
        return 2
    failed = False
    for path in paths:
        try:
            check(path)
        except (PNGError, OSError) as error:
            print(f"{path}: FAILED: {error}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
