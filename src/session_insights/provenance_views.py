"""The tables of "How this was counted" (``report --explain`` and the panel's header):
per source what was read, counted and left out, the requests no price list knows, the
cost the agent wrote itself beside ours, and the price data's date."""

from __future__ import annotations

from . import formatting as fmt

PROVENANCE_COLUMNS = (
    "Source",
    "Sessions",
    "Requests",
    "Total tokens",
    "Files read",
    "Lines",
    "Usage lines",
    "Copies counted once",
    "Counted before restart",
    "Bad lines",
    "Files not read",
)


def provenance_tables(prov: dict, keep_empty: bool = False) -> list[tuple[str, list[str], list[list[str]]]]:
    """``report --explain``'s tables of a snapshot's ``provenance``: per source what was
    counted and what de-duplication left out, the requests no price list knows, and the
    cost an agent wrote itself beside ours (the last two only when they hold a row,
    unless ``keep_empty``: the panel's header keeps its three tables)."""
    out = [
        (
            "How this was counted",
            list(PROVENANCE_COLUMNS),
            [
                [
                    name,
                    f"{s['sessions']:,}",
                    f"{s['requests']:,}",
                    fmt.tokens(s["total_tokens"]),
                    f"{s['files_read']:,}",
                    f"{s['lines_read']:,}" if s["lines_read"] else "—",
                    f"{s['usage_lines_read']:,}",
                    f"{s['duplicate_copies']:,}",
                    f"{s['counted_before_restart']:,}",
                    f"{s['bad_lines']:,}",
                    f"{s['files_not_read']:,}",
                ]
                for name, s in prov["sources"].items()
            ],
        )
    ]
    if prov["bad_reasons"] or keep_empty:
        rows = [[b["source"], b["reason"], f"{b['lines']:,}"] for b in prov["bad_reasons"]]
        out.append(("Bad lines by reason", ["Source", "Why the line was skipped", "Lines"], rows))
    if prov["not_read"] or keep_empty:
        rows = [[f["source"], f["file"], f["why"]] for f in prov["not_read"]]
        out.append(("Files not read", ["Source", "File", "Why"], rows))
    if prov["unpriced"] or keep_empty:
        rows = [[m, f"{u['requests']:,}", fmt.tokens(u["total_tokens"])] for m, u in prov["unpriced"].items()]
        out.append(("Unpriced (tokens counted, cost unknown)", ["Model", "Requests", "Total tokens"], rows))
    if prov["agent_cost"] or keep_empty:
        out.append(("Cost the agent wrote, beside ours", list(AGENT_COST_COLUMNS), agent_cost_rows(prov["agent_cost"])))
    return out


AGENT_COST_COLUMNS = (
    "Model",
    "From",
    "Agent requests",
    "Agent",
    "Our requests",
    "Ours",
    "Ours - agent",
)


def price_data_line(prices: dict | None) -> str:
    """Which prices the costs use, and how to get newer ones (``price_data.price_data``)."""
    prices = prices or {}
    name = f"{prices.get('source', 'genai-prices')} {prices.get('version') or '(version unknown)'}"
    if prices.get("newest_change"):
        name += f", newest price change {prices['newest_change']}"
        if prices.get("scheduled"):
            name += f"; {prices['scheduled']:,} changes scheduled from {prices['scheduled_from']}"
    else:
        name += " (its data is read once a request is priced)"
    return (
        f"Prices: {name}. Its bundled data, never fetched: upgrade the package for newer prices, "
        "or override one in state.toml ([pricing.overrides])."
    )


def web_searches_line(by_model: dict) -> str:
    """The web searches billed per search (in the costs), by model; empty when none."""
    counts = [(m, f.get("web_searches") or 0) for m, f in by_model.items()]
    named = ", ".join(f"{m} {n:,}" for m, n in sorted(counts) if n)
    return f"Web searches, billed per search and in the costs: {named}." if named else ""


def explained(snap: dict) -> dict:
    """A snapshot's ``provenance`` with ``agent_cost`` of its scope from every place the
    agent wrote it (``agent_cost.of_snapshot``)."""
    # Imported here: the history imports the store, which imports ``across`` and so this
    # module; at the top this would be an import cycle.
    from .history import agent_cost

    return {**snap["provenance"], "agent_cost": agent_cost.of_snapshot(snap)}


def _count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def exact_usd(x: float | None) -> str:
    """Dollars to the millionth, trailing zeros dropped: a difference of a few hundredths
    of a cent is what this table is for ($0.05755 beside $0.057375)."""
    if x is None:
        return "—"
    text = f"{abs(x):,.6f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return ("-" if x < 0 and text.strip("0.,") else "") + f"${whole}.{cents.ljust(2, '0')}"


def agent_cost_rows(costs: dict) -> list[list[str]]:
    """A row per model: the agent's figure and ours, each with the requests it covers where
    known (a session's total names none), and the difference."""
    return [
        [
            m,
            ", ".join(a.get("from") or ()) or "—",
            _count(a.get("agent_requests")),
            exact_usd(a["agent_usd"]),
            _count(a.get("requests")),
            exact_usd(a["ours_usd"]),
            exact_usd(a["difference_usd"]),
        ]
        for m, a in costs.items()
    ]
