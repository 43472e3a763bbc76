"""How this was counted: per source the sessions and requests counted and the copies
de-duplication left out, the requests no price list knows, the cost an agent wrote
beside ours, the web searches billed per search, and which price data the costs come
from. Collapsed until opened."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import provenance_views
from .header import Header
from .theme import COLOURS
from .widgets import BoundText, RowTable

_EMPTY = {"sources": {}, "bad_reasons": [], "not_read": [], "unpriced": {}, "agent_cost": {}, "prices": None}


class ProvenanceHeader(Header):
    key = "provenance"
    title = "How this was counted"
    default_open = False

    def build(self) -> None:
        # The tables of provenance_views.provenance_tables, in its order; all but the first show only
        # when they hold a row.
        self.groups: list[int] = []
        self.tables: list[RowTable] = []
        for i, (title, columns, _) in enumerate(provenance_views.provenance_tables(_EMPTY, keep_empty=True)):
            group = dpg.add_group(parent=self.body, show=i == 0)
            dpg.add_text(title, parent=group, color=COLOURS["dim"])
            self.tables.append(RowTable(group, columns, empty_text="No requests read yet."))
            self.groups.append(group)
        self.searches = BoundText(self.body, "", color=COLOURS["dim"], wrap=0, show=False)
        self.prices = BoundText(self.body, provenance_views.price_data_line(None), color=COLOURS["dim"], wrap=0)

    def update(self, snap: dict, timeline: dict) -> None:
        prov = provenance_views.explained(snap)
        self.searches.set_or_hide(provenance_views.web_searches_line(snap["by_model"]))
        self.prices.set(provenance_views.price_data_line(prov.get("prices")))
        for i, (_, _, rows) in enumerate(provenance_views.provenance_tables(prov, keep_empty=True)):
            self.tables[i].set_rows(rows)
            if i:
                dpg.configure_item(self.groups[i], show=bool(rows))
