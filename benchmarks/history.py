"""Budget: a year of daily use in the durable history stays under 50 MB on disk, and
opening the panel over it costs <= 0.5 s.

Writes a year of sessions (``--per-day`` a day, each with requests on two models, tool
calls, tickets and a rating at its end) through TokenHistory into a fresh
SessionStore, the way the app writes them, then times what opening the panel reads:
opening the database, every stored session, merged with a live one, and the
cross-session figures the headers show (session table, efficiency over time, usage by
day / week / month, token categories). Then opens the real panel over that database
under an X display (xvfb-run when there is none) and times how long until its Sessions
table and the other headers across sessions are drawn, and the slowest frame meanwhile
(the reading runs on a thread of its own, so frames keep coming). Prints the figures;
asserts nothing.

    python benchmarks/history.py [--days 365] [--per-day 20] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from session_insights import across
from session_insights.events import Rating, SessionMark, TicketUpdate, ToolCall, usage_event
from session_insights.history import TokenHistory
from session_insights.store import SessionStore

START_TS = 1_733_000_000.0  # 2024-11-30
MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5")
TOOLS = ("Read", "Edit", "Bash", "Grep", "TodoWrite")
REQUESTS_PER_SESSION = 40


def one_day(day: int, per_day: int, rng: random.Random) -> TokenHistory:
    """The sessions of one day, as the app's history would hold them."""
    h = TokenHistory()
    for n in range(per_day):
        session = f"{day:03d}-{n:02d}-{rng.getrandbits(32):08x}"
        start = START_TS + day * 86_400 + n * 2_400
        project = f"project-{n % 7}"
        h.add(SessionMark(start, session, "start", project, "audit"))
        for r in range(REQUESTS_PER_SESSION):
            ts = start + r * 45
            tools = rng.sample(TOOLS, rng.randint(0, 2)) or None
            h.add(
                usage_event(
                    model=MODELS[r % 3 == 0],
                    input_tokens=rng.randint(50, 4_000),
                    output_tokens=rng.randint(50, 2_000),
                    cache_read_tokens=rng.randint(0, 60_000),
                    cache_write_tokens=rng.randint(0, 5_000),
                    ts=ts,
                    session=session,
                    source="audit",
                    request_key=f"{session}:{r}",
                    tools=tools,
                )
            )
            for name in tools or ():
                h.add(ToolCall(ts + 1, name, rng.uniform(5, 3_000), rng.random() > 0.05, session))
        end = start + REQUESTS_PER_SESSION * 45
        h.add(TicketUpdate(end, f"{project}/{session}", "completed", project, None, session))
        h.add(SessionMark(end, session, "end", project, "audit"))
        h.add(Rating(end, float(rng.randint(3, 10)), session))
    h.drain()
    return h


def open_panel_data(path: Path, live: TokenHistory) -> dict:
    """What the panel reads when it opens over the durable history."""
    store = SessionStore(path)
    rows = across.merge(store.sessions(), live.session_rows())
    figures = {
        "table": [across.session_figures(r) for r in rows],
        "efficiency": across.efficiency_over_time(rows),
        "usage": {by: across.usage_over_time(rows, by) for by in across.PERIODS},
        "categories": [across.token_categories(r) for r in rows],
        "total": across.total_categories(rows),
    }
    store.close()
    return {"rows": len(rows), **figures}


W, H = 1280, 800


def open_panel_drawn(path: Path) -> dict:
    """Open the panel over the database at ``path`` with every header open, render frames
    until the Sessions table holds its rows and every header across sessions is drawn.
    Runs in a process of its own (one Dear PyGui viewport per process)."""
    import dearpygui.dearpygui as dpg

    from session_insights.ui import InsightsPanel
    from session_insights.ui.sessions import AcrossHeader
    from session_insights.ui.theme import Fonts

    live = one_day(400, 1, random.Random(11))
    dpg.create_context()
    dpg.create_viewport(title="bench", width=W, height=H, vsync=False)
    dpg.setup_dearpygui()
    dpg.show_viewport()
    started = time.perf_counter()
    store = SessionStore(path)
    panel = InsightsPanel(live, store=store, fonts=Fonts(), width=W, height=H)
    dpg.configure_item(panel.window, pos=(0, 0))
    first_frame = None
    frames, slowest, last = 0, 0.0, time.perf_counter()
    across_headers = [h for h in panel.headers.values() if isinstance(h, AcrossHeader)]
    while True:
        panel.tick()
        dpg.render_dearpygui_frame()
        now = time.perf_counter()
        frames += 1
        if first_frame is None:
            first_frame = now - started
        else:
            slowest = max(slowest, now - last)
        last = now
        if panel.sessions.texts() and all(h.seen is not None for h in across_headers):
            break
        if now - started > 60:
            raise SystemExit("the panel did not draw its sessions within 60 s")
    drawn = now - started
    rows = len(panel.sessions.texts())
    panel.close()
    store.close()
    dpg.destroy_context()
    return {
        "first_frame_s": first_frame,
        "drawn_s": drawn,
        "frames": frames,
        "slowest_frame_ms": slowest * 1000,
        "rows": rows,
        "sessions": len(panel.across.view.keys),
    }


def time_panel(path: Path) -> dict | str:
    """``open_panel_drawn`` in a subprocess, under xvfb-run when there is no display;
    the figures, or why there are none."""
    cmd = [sys.executable, __file__, "--panel-phase", str(path)]
    if not os.environ.get("DISPLAY"):
        if shutil.which("xvfb-run") is None:
            return "needs an X display: install xvfb (apt-get install xvfb)"
        cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {W}x{H}x24", *cmd]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return f"failed ({done.returncode}): {done.stderr.strip()[-400:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--per-day", type=int, default=20)
    ap.add_argument("--dir", type=Path, help="where to write the database (default: a temporary folder)")
    ap.add_argument("--panel-phase", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.panel_phase:
        print(json.dumps(open_panel_drawn(args.panel_phase)))
        return 0
    folder = args.dir or Path(tempfile.mkdtemp(prefix="si-history-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "state.history.sqlite"
    for side in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        side.unlink(missing_ok=True)

    rng = random.Random(7)
    store = SessionStore(path)
    started = time.perf_counter()
    write_s = []
    for day in range(args.days):
        h = one_day(day, args.per_day, rng)
        t = time.perf_counter()
        store.write(h.session_rows())
        write_s.append(time.perf_counter() - t)
    build_s = time.perf_counter() - started
    store.close()  # checkpoints the WAL into the database file
    size = sum(p.stat().st_size for p in folder.glob(path.name + "*"))
    sessions = args.days * args.per_day

    live = one_day(args.days, 1, rng)
    timings = []
    for _ in range(5):
        t = time.perf_counter()
        data = open_panel_data(path, live)
        timings.append(time.perf_counter() - t)
    panel = time_panel(path)
    eff = data["efficiency"]
    print(
        f"history       {sessions:,} sessions over {args.days} days ({args.per_day}/day), "
        f"{sessions * REQUESTS_PER_SESSION:,} requests, built in {build_s:.1f} s"
    )
    print(f"disk          {size / 1e6:.2f} MB for the database and its WAL (target < 50 MB)")
    print(f"write         median {statistics.median(write_s) * 1000:.1f} ms per day of {args.per_day} sessions")
    print(
        f"open panel    best {min(timings):.3f} s, median {statistics.median(timings):.3f} s: "
        f"read {data['rows'] - 1:,} stored sessions + the live one, table, efficiency, usage by day/week/month, "
        f"categories (target <= 0.5 s)"
    )
    if isinstance(panel, str):
        print(f"panel drawn   not measured: {panel}")
    else:
        print(
            f"panel drawn   {panel['drawn_s']:.3f} s from opening the panel to its Sessions table "
            f"({panel['rows']:,} of {panel['sessions']:,} sessions shown) and every header across sessions "
            f"drawn (target <= 0.5 s); first frame after {panel['first_frame_s'] * 1000:.0f} ms, "
            f"{panel['frames']} frames meanwhile, slowest {panel['slowest_frame_ms']:.1f} ms"
        )
    print(
        f"efficiency    {eff['interval']} intervals: {len(eff['buckets'])}, verdict {eff['verdict']} "
        f"({eff['change_pct']:+.1f}%)"
        if eff["verdict"]
        else f"efficiency    {eff['interval']}: no verdict"
    )
    print(f"database      {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
