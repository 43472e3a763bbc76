"""Where the standalone window opens and how big: ``--size``, else what the layout file
remembers, else 1280x800.

The viewport's position and size are kept in the layout file itself, as one section of
a type Dear PyGui's ImGui does not know (it skips such sections when it reads the file),
appended after Dear PyGui wrote its own. No dearpygui import: the values are plain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_W, DEFAULT_H = 1280, 800
MIN_W, MIN_H = 480, 320
MAX_SIDE = 16_384
SECTION = "[SessionInsights][Viewport]"
_PAIR = re.compile(r"(-?\d+),(-?\d+)")


@dataclass(frozen=True, slots=True)
class Geometry:
    """A viewport's outer position (pixels from the screen's top left; None: where the
    system puts it) and its size in pixels."""

    width: int = DEFAULT_W
    height: int = DEFAULT_H
    x: int | None = None
    y: int | None = None


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` in pixels -> (W, H); ValueError with the one line a user reads."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*", text)
    if not match:
        raise ValueError(f"size must be WIDTHxHEIGHT in pixels, such as 1600x1000; got {text!r}")
    w, h = int(match[1]), int(match[2])
    if not (MIN_W <= w <= MAX_SIDE and MIN_H <= h <= MAX_SIDE):
        raise ValueError(f"size must be at least {MIN_W}x{MIN_H} and at most {MAX_SIDE} a side; got {text!r}")
    return w, h


def remembered(layout_path: Path) -> Geometry | None:
    """The geometry the layout file keeps, if it keeps a sound one."""
    try:
        text = layout_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    start = text.find(SECTION)
    if start < 0:
        return None
    values: dict[str, tuple[int, int]] = {}
    for line in text[start + len(SECTION) :].splitlines()[1:]:
        if line.startswith("["):
            break
        key, _, value = line.partition("=")
        match = _PAIR.fullmatch(value.strip())
        if match:
            values[key.strip()] = (int(match[1]), int(match[2]))
    if "Size" not in values:
        return None
    w, h = values["Size"]
    if not (MIN_W <= w <= MAX_SIDE and MIN_H <= h <= MAX_SIDE):
        return None
    x, y = values.get("Pos", (None, None))
    if x is not None and not (-MAX_SIDE < x < MAX_SIDE and -MAX_SIDE < y < MAX_SIDE):
        x = y = None
    return Geometry(w, h, x, y)


def chosen(size: tuple[int, int] | None, layout_path: Path) -> Geometry:
    """``--size`` wins (at the remembered position); else the remembered geometry; else
    the default size."""
    kept = remembered(layout_path)
    if size is None:
        return kept or Geometry()
    return Geometry(size[0], size[1], kept.x if kept else None, kept.y if kept else None)


def remember(layout_path: Path, geometry: Geometry) -> None:
    """Append the geometry to the layout file Dear PyGui just wrote (replacing an older copy)."""
    try:
        text = layout_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n[", start + len(SECTION))
        text = text[:start] + (text[end + 1 :] if end >= 0 else "")
    lines = [SECTION, f"Size={geometry.width},{geometry.height}"]
    if geometry.x is not None and geometry.y is not None:
        lines.insert(1, f"Pos={geometry.x},{geometry.y}")
    if text and not text.endswith("\n"):
        text += "\n"
    with open(layout_path, "w", encoding="utf-8") as f:  # the file is already private (0600)
        f.write(text + ("\n" if text else "") + "\n".join(lines) + "\n")
