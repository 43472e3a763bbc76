"""Which prices the costs use: genai-prices' release and its data's date ("prices as
of"), as the panel's header and ``report --explain`` name them. Computed once a day,
and only once genai-prices' data is in (never on its own account: that import costs a
quarter of a second)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from functools import cache

_price_data: tuple[date, dict] | None = None  # (the UTC day it was computed for, the figure)


def _release() -> str | None:
    """The installed genai-prices' version, once it is imported (by the price book, on
    the readers' thread): its ``__version__``, else its metadata. Before that, None: the
    window's first frame names no version rather than spend 20 ms importing
    importlib.metadata to find one."""
    module = sys.modules.get("genai_prices")
    if module is None:
        return None
    found = getattr(module, "__version__", None)
    return found if isinstance(found, str) and found else _metadata_release()


@cache
def _metadata_release() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:
        return None


def price_data(load: bool = False) -> dict:
    """Which prices the costs use: genai-prices' release, and as its data's date the newest
    price start date in it that is not in the future, with the changes it already holds
    for later days. Computed once a day, in about a millisecond once genai-prices' data is
    imported (pricing any request imports it); before that, the dates are None unless
    ``load`` (importing the data takes a quarter of a second)."""
    global _price_data
    today = datetime.now(UTC).date()
    if _price_data is not None and _price_data[0] == today:
        return _price_data[1]
    release = _release()
    figure = {
        "source": "genai-prices",
        "version": release,
        "newest_change": None,
        "scheduled": 0,
        "scheduled_from": None,
    }
    if not load and "genai_prices.data" not in sys.modules:
        return figure
    from genai_prices import data_snapshot, types

    starts = []
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            periods = [] if isinstance(model.prices, types.ModelPrice) else model.prices
            for dated in (*periods, *(model.price_variants or ())):
                if isinstance(dated.constraint, types.StartDateConstraint):
                    starts.append(dated.constraint.start_date)
    past = [d for d in starts if d <= today]
    future = sorted(d for d in starts if d > today)
    figure.update(
        newest_change=max(past).isoformat() if past else None,
        scheduled=len(future),
        scheduled_from=future[0].isoformat() if future else None,
    )
    _price_data = (today, figure)
    return figure
