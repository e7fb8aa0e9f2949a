"""Cover art made from nothing: a square PNG with a gradient between two colours and soft
diagonal stripes, written with numpy and zlib (no imaging library needed)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def write_cover_png(path: Path, top: tuple[int, int, int], bottom: tuple[int, int, int],
                    size: int = 480) -> Path:
    rows = np.linspace(0.0, 1.0, size)[:, None, None]
    colours = (1 - rows) * np.array(top) + rows * np.array(bottom)
    diagonal = (np.add.outer(np.arange(size), np.arange(size)) // 40) % 2
    image = np.clip(colours * (1 - 0.08 * diagonal[:, :, None]), 0, 255).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in image)  # filter type 0 on every row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
                     + chunk(b"IEND", b""))
    return path
