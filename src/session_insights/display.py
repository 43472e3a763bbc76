"""Whether a window can open here: Dear PyGui aborts the whole process, with no
exception, when it finds no X display, so every way to a window asks first. No
dearpygui import: ``report --chart`` asks before it starts a drawing process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def display_problem() -> str | None:
    """Why no window can open here, or None if an X display looks reachable."""
    if sys.platform != "linux":
        return None
    display = os.environ.get("DISPLAY", "")
    if not display:
        return "no X display (DISPLAY is not set)"
    host, _, number = display.rpartition(":")
    number = number.split(".")[0]
    if host in ("", "unix") and number.isdigit() and not Path(f"/tmp/.X11-unix/X{number}").exists():
        return f"no X server answers on DISPLAY={display}"
    return None


def no_display_message(problem: str) -> str:
    return (
        f"session-insights: {problem}. Run it on a virtual display with "
        "xvfb-run -s '-screen 0 1280x800x24' session-insights ..., "
        "or print the figures without a window: session-insights report SOURCE ..."
    )
