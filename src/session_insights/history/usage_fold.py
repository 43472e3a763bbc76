"""Folding and merging the usage part: sessions into one row, models into one, and a
part built apart (a worker's) into this one. Every aggregate is a sum, so each keeps
the totals exact; the day and quarter-hour grains follow their combos."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .counters import COST, CR, CW1H, CW5, IN, OUT, add_into, blank
from .sessions import NO_SESSION

if TYPE_CHECKING:
    from .usage import UsagePart

OTHER_MODELS = "(other models)"


def session_name(session: str | None) -> str:
    return NO_SESSION if session is None else session


class Folding:
    """The folding side of UsagePart (a mixin: its sums are the part's)."""

    def fold_sessions(self, names: set[str], into: str) -> None:
        """Merge the usage of sessions ``names`` into session ``into``, totals intact.
        Their days are not kept (the sessions reached the durable history before they
        were folded); their quarters are, so the time scopes stay exact."""
        self.forget_contexts()
        for name in names:
            for key in self.by_session.pop(name, ()):
                merged_key = (key[0], key[1], into)
                self._merge_combo(merged_key, key)
                self.combo_days.pop(key, None)
            self.details.pop(name, None)
        for session, tool in [k for k in self.tool_turns if k[0] in names]:
            turn = self.tool_turns.pop((session, tool))
            add_into(self.tool_turns.setdefault((into, tool), [0, 0, 0, 0]), turn)

    def _merge_combo(self, target_key: tuple, key: tuple) -> None:
        add_into(self.combos.setdefault(target_key, blank()), self.combos.pop(key))
        self.by_session.setdefault(session_name(target_key[2]), set()).add(target_key)
        target_quarters = self.quarters.setdefault(target_key, {})
        for q, counters in self.quarters.pop(key, {}).items():
            add_into(target_quarters.setdefault(q, blank()), counters)

    def fold_models(self, n: int) -> None:
        """Merge the ``n`` models that cost least into ``OTHER_MODELS``, totals intact."""
        self.forget_contexts()
        spent: dict[str, tuple[int, int]] = {}
        for (model, _, _), c in self.combos.items():
            cost, tokens = spent.get(model, (0, 0))
            spent[model] = (cost + c[COST], tokens + c[IN] + c[CR] + c[CW5] + c[CW1H] + c[OUT])
        spent.pop(OTHER_MODELS, None)
        folded = set(sorted(spent, key=lambda m: (*spent[m], m))[:n])
        for key in [k for k in self.combos if k[0] in folded]:
            merged = (OTHER_MODELS, key[1], key[2])
            days = self.combo_days.setdefault(merged, {})
            for day, figures in self.combo_days.pop(key, {}).items():
                add_into(days.setdefault(day, [0, 0, 0]), figures)
            self._merge_combo(merged, key)
            self.by_session[session_name(key[2])].discard(key)
        self.model_provider[OTHER_MODELS] = None
        self.pricing_cache[(OTHER_MODELS, None)] = None

    def merge(self, other: UsagePart, take: bool = False) -> None:
        """Add another usage part's sums into this one (parts built apart). With
        ``take`` (a part handed over, used no more) what this one lacks is moved, not
        copied: a combo's days and quarter hours, a session's detail."""
        self.forget_contexts()
        for key, counters in other.combos.items():
            self.by_session.setdefault(session_name(key[2]), set()).add(key)
            if take and key not in self.combos:
                self.combos[key] = counters
                self.combo_days[key] = other.combo_days.get(key, {})
                self.quarters[key] = other.quarters.get(key, {})
                continue
            add_into(self.combos.setdefault(key, blank()), counters)
            for grain, theirs in ((self.combo_days, other.combo_days), (self.quarters, other.quarters)):
                mine = grain.setdefault(key, {})
                for index, values in theirs.get(key, {}).items():
                    add_into(mine.setdefault(index, [0] * len(values)), values)
        for key, turn in other.tool_turns.items():
            add_into(self.tool_turns.setdefault(key, [0, 0, 0, 0]), turn)
        for model, provider in other.model_provider.items():
            if provider is not None or model not in self.model_provider:
                self.model_provider[model] = provider
        self.pricing_cache.update(other.pricing_cache)
        for ts, v in other.timeline.items():
            add_into(self.timeline.bucket(ts), v)
        for name, detail in other.details.items():
            if take and name not in self.details:
                self._new_detail(name)  # room for it among the detailed sessions
                self.details[name] = detail
                continue
            mine = self.details.get(name) or self._new_detail(name)
            for ts, v in detail.timeline.items():
                add_into(mine.timeline.bucket(ts), v)
            for sec, v in detail.recent.seconds.items():
                bucket = mine.recent.bucket(sec)
                if bucket is not None:
                    add_into(bucket, v)
        for ts in (other.first_ts, other.last_ts):
            if ts is not None:
                self.stretch(ts)
