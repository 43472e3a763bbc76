"""How a report draws its tables and lines, whatever it reports on: aligned text, md,
csv whose text cells are printable, plain numbers for a spreadsheet, the Problems lines
and json. Shared by ``snapshot`` and ``across_sessions``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import orjson

from .. import formatting as fmt
from .. import views


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], names: int = 1) -> str:
    """Aligned columns for a terminal: the first ``names`` columns read left to right,
    figures line up on the right."""
    rows = [[fmt.printable(c) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < names else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], names: int = 1) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    lines = [
        "| " + " | ".join(esc(h) for h in header) + " |",
        "|" + "|".join(":---" if i < names else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(esc(fmt.printable(c)) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def problems(errors: dict, notices: Sequence[str] = ()) -> list[str]:
    """The Problems lines: lines skipped (why, and in which files), then notices."""
    lines = []
    if errors["bad_lines"]:
        lines.append(f"{views.skipped_lines(errors)}; by file:")
        lines += [f"  {path}: {n:,}" for path, n in errors["files"].items()]
    lines += [f"Notice: {n}" for n in notices]
    return [fmt.printable(line) for line in lines]


def md_problems(lines: Sequence[str]) -> list[str]:
    """The Problems section of an md report (nothing without problems)."""
    return ["", "## Problems", "", *(f"- {line.strip()}" for line in lines)] if lines else []


class CsvWriter:
    """csv.writer whose text cells are printable (a name from a log may hold ESC)."""

    def __init__(self, buf: io.StringIO):
        self._writer = csv.writer(buf, lineterminator="\n")

    def writerow(self, row: Sequence[object]) -> None:
        self._writer.writerow([fmt.printable(c) if isinstance(c, str) else c for c in row])


def plain(x: float | None, digits: int = 6) -> str:
    """A number as a spreadsheet reads it: no separators, a plain decimal, '' if unknown."""
    if x is None:
        return ""
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") or "0"


def render_json(value: dict) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n"
