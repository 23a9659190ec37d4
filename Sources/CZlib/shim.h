// zlib (DEFLATE, gzip and zlib streams, CRC-32), found through pkg-config; on macOS it is part
// of the SDK.
#include <zlib.h>
