"""The alerts' banner: a coloured strip at the top of the panel, under the scope bar, one
line per threshold crossed (``alerts.Alerts``: newest first, bounded), each with a button
that dismisses it. It takes no room while no alert stands.

- Each line is coloured by its level (amber a warning, red a limit reached or near);
  the strip's tint is the worst line's.
- Dear PyGui runs a button's callback off the render thread: a click only notes the
  line's key, and the panel's tick hands it to ``Alerts.dismiss`` (``take_dismissed``).
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from ..alerts import AlertLine, Alerts
from ..formatting import printable
from .theme import COLOURS

# level -> (strip background, the line's text): dark tints, so the text stands out on them
LEVEL_COLOURS = {
    "warning": ((58, 46, 16), COLOURS["warn"]),
    "error": ((66, 24, 22), (255, 135, 120)),
}
DISMISS = "×"


def strip_theme(background: tuple[int, int, int]) -> int:
    with dpg.theme() as theme, dpg.theme_component(dpg.mvChildWindow):
        dpg.add_theme_color(dpg.mvThemeCol_ChildBg, background)
        dpg.add_theme_style(dpg.mvStyleVar_WindowPadding, 8, 5)
        dpg.add_theme_style(dpg.mvStyleVar_ChildRounding, 3)
    return theme


class AlertBanner:
    """The strip and its lines; owns its items. ``show`` writes only when the alerts'
    lines changed (their ``version``)."""

    def __init__(self, parent: int | str):
        self.strip = dpg.add_child_window(
            parent=parent, height=0, auto_resize_y=True, border=False, no_scrollbar=True, show=False
        )
        self._themes = {level: strip_theme(bg) for level, (bg, _) in LEVEL_COLOURS.items()}
        self._level: str | None = None
        self._rows: list[tuple[int, int]] = []  # (row group, text)
        self.buttons: list[int] = []  # each row's dismiss button
        self._keys: list[tuple] = []  # the key of each row's line, for its button
        self._texts: list[str] = []
        self._dismissed: list[tuple] = []
        self._version = -1

    def _add_row(self) -> None:
        index = len(self._rows)
        with dpg.group(horizontal=True, parent=self.strip) as row:
            button = dpg.add_button(label=DISMISS, small=True, callback=self._clicked, user_data=index)
            with dpg.tooltip(button):
                dpg.add_text("Dismiss: hidden while this stands")
            text = dpg.add_text("")
        self.buttons.append(button)
        self._rows.append((row, text))

    def _clicked(self, _sender: object, _data: object, index: int) -> None:
        if index < len(self._keys):
            self._dismissed.append(self._keys[index])

    def take_dismissed(self) -> list[tuple]:
        """The keys of the lines dismissed since the last call."""
        taken, self._dismissed = self._dismissed, []
        return taken

    def show(self, alerts: Alerts) -> None:
        if alerts.version == self._version:
            return
        self._version = alerts.version
        lines = alerts.lines
        while len(self._rows) < len(lines):
            self._add_row()
        for i, (row, text) in enumerate(self._rows):
            line = lines[i] if i < len(lines) else None
            dpg.configure_item(row, show=line is not None)
            if line is not None:
                dpg.configure_item(text, color=LEVEL_COLOURS[line.level][1])
                dpg.set_value(text, printable(line.text))
        self._keys = [line.key for line in lines]
        self._texts = [line.text for line in lines]
        self._set_level(lines)

    def _set_level(self, lines: list[AlertLine]) -> None:
        level = None if not lines else "error" if any(line.level == "error" for line in lines) else "warning"
        if level != self._level:
            self._level = level
            if level is not None:
                dpg.bind_item_theme(self.strip, self._themes[level])
            dpg.configure_item(self.strip, show=level is not None)

    @property
    def texts(self) -> list[str]:
        """The lines shown, top first (for tests)."""
        return list(self._texts)

    @property
    def level(self) -> str | None:
        return self._level
