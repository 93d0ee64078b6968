"""Small real images for upload tests, built in memory (no image library needed)."""

import struct
import zlib


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width=48, height=24, rgb=(32, 96, 160)):
    """A valid PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(row * height)) + _chunk(b"IEND", b""))


#: The first bytes of a JPEG and of a WebP file, enough for a type check that reads them.
JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
WEBP_START = b"RIFF\x24\x00\x00\x00WEBPVP8 "
