"""The lines of the panel's notice strip: what the user should know about the figures
shown (unpriced models, lines skipped, the history's own notices)."""

from __future__ import annotations

from .. import formatting as fmt


def notice_lines(snap: dict | None, history_notices) -> list[str]:
    """The notices of a snapshot; ``snap`` None (a past session is shown): the live
    history's own notices only."""
    if snap is None:
        return list(history_notices)
    lines = list(snap["notices"])
    if snap["unpriced_models"]:
        lines.append(f"Unpriced models (cost unknown, tokens counted): {', '.join(snap['unpriced_models'])}")
    if snap["errors"]["bad_lines"]:
        files = snap["errors"]["files"]
        lines.append(
            f"{fmt.skipped_lines(snap['errors'])}; in {len(files):,} file(s): "
            + ", ".join(f"{p} ({n:,})" for p, n in list(files.items())[:3])
        )
    return lines


def notice_text(snap: dict | None, history_notices, more) -> str:
    """The strip's text: ``notice_lines`` and the ``more`` that are not empty (the durable
    history's notices, a failed read of it, a scope that cannot be shown), each on a line
    of its own, control characters escaped."""
    lines = [*notice_lines(snap, history_notices), *(line for line in more if line)]
    return "\n".join(f"! {fmt.printable(line)}" for line in lines)
