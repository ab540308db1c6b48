"""Draws the Teams app's two icons, in pure Python (zlib and struct, no imaging library):

- color.png, 192 x 192: a white speech bubble with a heartbeat trace, on NHS blue;
- outline.png, 32 x 32: the same bubble in white on a transparent background, as
  Teams wants for its outline icon.

    python deploy/teams/make_icons.py        # writes both beside this file

The drawing is deterministic, so the PNGs in git are exactly what this script makes
(tests/test_teams_channel.py checks it). Run it again after changing the drawing.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

HERE = Path(__file__).resolve().parent
NHS_BLUE = (0x00, 0x5E, 0xB8)
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 4  # per pixel and axis: 16 samples smooth the edges

Point = Tuple[float, float]
Shape = Callable[[float, float], bool]


def png(width: int, height: int, rgba: Sequence[Sequence[Tuple[int, int, int, int]]]) -> bytes:
    """An 8-bit RGBA PNG of the rows of pixels given."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(value for pixel in row for value in pixel) for row in rgba)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def rounded_rectangle(left: float, top: float, right: float, bottom: float, radius: float) -> Shape:
    cx, cy = (left + right) / 2, (top + bottom) / 2
    half_w, half_h = (right - left) / 2 - radius, (bottom - top) / 2 - radius

    def inside(x: float, y: float) -> bool:
        dx, dy = max(abs(x - cx) - half_w, 0.0), max(abs(y - cy) - half_h, 0.0)
        return dx * dx + dy * dy <= radius * radius

    return inside


def triangle(a: Point, b: Point, c: Point) -> Shape:
    def side(p: Point, q: Point, x: float, y: float) -> float:
        return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])

    def inside(x: float, y: float) -> bool:
        signs = (side(a, b, x, y), side(b, c, x, y), side(c, a, x, y))
        return all(s >= 0 for s in signs) or all(s <= 0 for s in signs)

    return inside


def stroke(points: List[Point], width: float) -> Shape:
    """A polyline drawn with round joins, `width` wide."""
    half = width / 2

    def distance(x: float, y: float, p: Point, q: Point) -> float:
        vx, vy = q[0] - p[0], q[1] - p[1]
        length = vx * vx + vy * vy
        t = 0.0 if length == 0 else max(0.0, min(1.0, ((x - p[0]) * vx + (y - p[1]) * vy) / length))
        return math.hypot(x - (p[0] + t * vx), y - (p[1] + t * vy))

    def inside(x: float, y: float) -> bool:
        return any(distance(x, y, p, q) <= half for p, q in zip(points[:-1], points[1:], strict=True))

    return inside


def coverage_map(shape: Shape, size: int) -> List[List[float]]:
    """The share of each pixel the shape covers. A pixel whose corners and centre are
    all in or all out counts as wholly so; the others are sampled SAMPLES x SAMPLES."""
    corners = [[shape(float(x), float(y)) for x in range(size + 1)] for y in range(size + 1)]
    step = 1 / SAMPLES
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            seen = {corners[y][x], corners[y][x + 1], corners[y + 1][x], corners[y + 1][x + 1]}
            seen.add(shape(x + 0.5, y + 0.5))
            if len(seen) == 1:
                row.append(1.0 if seen.pop() else 0.0)
                continue
            hits = sum(
                shape(x + (i + 0.5) * step, y + (j + 0.5) * step)
                for i in range(SAMPLES)
                for j in range(SAMPLES)
            )
            row.append(hits / (SAMPLES * SAMPLES))
        rows.append(row)
    return rows


def bubble(size: float, inset: float) -> Shape:
    """The speech bubble, scaled to a square of `size`, shrunk by `inset` all round."""
    s = size / 32
    body = rounded_rectangle(3 * s + inset, 4 * s + inset, 29 * s - inset, 23 * s - inset, 5 * s - inset)
    tail = triangle((8 * s + inset, 20 * s), (16 * s - inset, 20 * s), (7 * s + inset, 29 * s - 1.5 * inset))
    return lambda x, y: body(x, y) or tail(x, y)


def heartbeat(size: float, width: float) -> Shape:
    s = size / 32
    trace = [(7, 14), (11.5, 14), (13.5, 10), (16, 18.5), (18.5, 8.5), (20.5, 14), (25, 14)]
    return stroke([(x * s, y * s) for x, y in trace], width)


def colour_icon(size: int = 192) -> bytes:
    shape, trace = bubble(size, 0), heartbeat(size, size / 18)
    white = coverage_map(lambda x, y: shape(x, y) and not trace(x, y), size)
    rows = []
    for covered in white:
        row = []
        for share in covered:
            r, g, b = (round(w * share + blue * (1 - share)) for w, blue in zip(WHITE, NHS_BLUE, strict=True))
            row.append((r, g, b, 255))
        rows.append(row)
    return png(size, size, rows)


def outline_icon(size: int = 32) -> bytes:
    outer, inner, trace = bubble(size, 0), bubble(size, 2), heartbeat(size, 2)
    alpha = coverage_map(lambda x, y: (outer(x, y) and not inner(x, y)) or trace(x, y), size)
    return png(size, size, [[(255, 255, 255, round(255 * share)) for share in row] for row in alpha])


def main(folder: Path = HERE) -> int:
    (folder / "color.png").write_bytes(colour_icon())
    (folder / "outline.png").write_bytes(outline_icon())
    print(f"wrote {folder / 'color.png'} and {folder / 'outline.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
