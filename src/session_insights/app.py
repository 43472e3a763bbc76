"""The desktop host: viewport, docking, layout init file, menu, status bar, render loop.

Sources are polled, and the state and the durable session history written, on background
threads (``workers.py``: file I/O never stalls a frame); the render thread drains the
history and draws.
With no X display the app says how to get one and exits, because Dear PyGui aborts the
process without one.
"""

from __future__ import annotations

import gc
import signal
import sys
import time
from argparse import Namespace
from pathlib import Path

from . import state as state_file
from . import times, window_geometry
from .cli_args import DEMO_SPEED
from .display import display_problem, no_display_message
from .formatting import printable
from .frame_stats import write_frame_stats
from .history import TokenHistory
from .notify import desktop_notifier
from .sources import SourceError, discover, open_source
from .store import SessionStore, history_path_for
from .workers import Saver, SourcePoller

EXIT_NO_DISPLAY = 3
UI_SCALES = (0.8, 1.0, 1.25, 1.5, 2.0)
STATUS_EVERY = 15  # frames between updates of the status bar
BACKLOG_FRAME_S = 1 / 60  # the shortest frame while the backlog is read in processes
# A log file no one has written for this long is backlog: read in processes at start.
BACKLOG_IDLE_S = 600.0
# How long a thread may hold the GIL while another waits for it (Python's default is 5 ms).
# Reading sources and the session history is Python work on background threads, and the
# render thread gives up the GIL in Dear PyGui's calls: with the default, one tick could
# wait several times 5 ms to get it back (measured: Python per frame p99 2.8 ms -> 1.1 ms
# over a year of stored sessions).
GIL_SWITCH_S = 0.0005


class App:
    """The standalone window around one InsightsPanel."""

    demo = None  # the DemoSession played when there are no logs (or --demo)

    def __init__(self, args: Namespace):
        import dearpygui.dearpygui as dpg

        from .ui import InsightsPanel
        from .ui.theme import Fonts

        self.dpg = dpg
        self.args = args
        times.use_utc(getattr(args, "utc", False))  # before the charts: their axes take it when built
        sys.setswitchinterval(GIL_SWITCH_S)
        state_path = args.state if args.state is not None else state_file.default_path()
        self.layout_path = state_path.with_name(state_path.stem + ".layout.ini")
        if not args.sources and not args.demo:
            args.sources = discover()  # the agents' own default log folders, if they hold logs
        playing_demo = args.demo or not args.sources
        if playing_demo:
            # The demo keeps its own state file, started fresh each time, so its made-up
            # spending never mixes with the user's real figures.
            state_path = state_path.with_name(state_path.stem + ".demo.toml")
        self.history = TokenHistory(state_path=state_path, budget_usd=args.budget)
        self.store = self._open_store(history_path_for(state_path), fresh=playing_demo)
        self.sources = [open_source(spec, self.history) for spec in args.sources]
        clock = self._start_demo(args) if playing_demo else time.time

        self._create_viewport(args)
        scale = self.history.ui.get("scale", 1.0)
        self.fonts = Fonts(scale=scale if scale in UI_SCALES else 1.0)
        self._scale_wanted: float | None = None  # a UI scale picked in the menu, for the next frame
        # The alerts reach the desktop with the [notify] extra, unless state.toml says
        # `notify = false` under [ui]; never the demo's, whose spending is made up.
        self.notifier = None if playing_demo else desktop_notifier(self.history.ui, on_error=self.history.notice)
        self.panel = InsightsPanel(
            self.history,
            clock=clock,
            fonts=self.fonts,
            store=self.store,
            scope=getattr(args, "scope", None),
            notifier=self.notifier,
        )
        # Standalone, the panel is the window: it fills the viewport, follows its resizes and
        # has no close box of its own (closing the window quits), so it cannot be lost.
        self._build_menu()
        dpg.set_primary_window(self.panel.window, True)
        # Logs no one writes any more are read at report's speed in processes; with
        # --prometheus every request is taken one by one instead (its histogram sees each).
        exporting = getattr(args, "prometheus", None) is not None
        self.poller = SourcePoller(self.sources, backlog_idle_s=None if exporting else BACKLOG_IDLE_S)
        self.saver = Saver(self.history, self.store)
        self.exporter = None  # the figures on HOST:PORT/metrics, with --prometheus
        if exporting:
            from .export.window import serve  # OpenTelemetry: only when asked for

            self.exporter = serve(self.history, args.prometheus, self.poller)
        self._frame_times: list[float] = []
        self._python_ms: list[float] = []
        self._events_window: list[tuple[float, int]] = []
        self._backlog_s: float | None = None  # from start until every source's backlog was applied

    def _create_viewport(self, args: Namespace) -> None:
        """The context, docking with the saved layout, and the viewport at its size and
        place (``--size``, else where it was left)."""
        dpg = self.dpg
        dpg.create_context()
        dpg.configure_app(
            docking=True,
            docking_space=False,
            init_file=str(self.layout_path),
            load_init_file=self.layout_path.exists(),
        )
        self.geometry = window_geometry.chosen(getattr(args, "size", None), self.layout_path)
        place = {"x_pos": self.geometry.x, "y_pos": self.geometry.y} if self.geometry.x is not None else {}
        dpg.create_viewport(
            title="Session Insights",
            width=self.geometry.width,
            height=self.geometry.height,
            vsync=args.frames is None,
            **place,
        )

    def _start_demo(self, args: Namespace):
        """Play the built-in demo into a fresh history; returns its simulated clock."""
        from .demo import DemoSession
        from .demo.earlier import play_earlier

        self.history.reset_aggregates()
        self.demo = DemoSession(self.history, speed=getattr(args, "demo_speed", None) or DEMO_SPEED)
        play_earlier(self.history, self.demo.start_ts)  # the headers across sessions: full at once
        if self.history.budget_usd is None:
            self.history.budget_usd = self.demo.budget_usd
        return self.demo.sim_now

    def _open_store(self, path: Path, *, fresh: bool) -> SessionStore | None:
        """The durable history beside the state file; None (and a notice) if it cannot be
        had at all: the panel then works on the live sessions alone."""
        if fresh:
            # The demo starts its history fresh with its state: its one session has the
            # same name every run, and last run's fuller copy would outrank this one's.
            for side in ("", "-wal", "-shm"):
                try:
                    path.with_name(path.name + side).unlink(missing_ok=True)
                except OSError:
                    pass  # then the old copy shows until this run's outgrows it
        try:
            return SessionStore(path)
        except Exception as exc:  # the store makes its own failures notices; this is the last guard
            self.history.notice(f"the session history {path} cannot be used ({type(exc).__name__}: {exc})")
            return None

    # --- chrome -----------------------------------------------------------------

    def _build_menu(self) -> None:
        dpg = self.dpg
        with dpg.menu_bar(parent=self.panel.window):
            with dpg.menu(label="File"):
                dpg.add_menu_item(label="Add source...", callback=self._ask_source)
                dpg.add_menu_item(label="Save state", callback=lambda: self.saver.save())
                dpg.add_menu_item(label="Quit", callback=lambda: dpg.stop_dearpygui())
            with dpg.menu(label="View"):
                dpg.add_menu_item(label="Reset layout", callback=self.reset_layout)
                dpg.add_menu_item(label="Open all headers", callback=lambda: self._all_headers(True))
                dpg.add_menu_item(label="Close all headers", callback=lambda: self._all_headers(False))
                with dpg.menu(label="Headers"):
                    from .ui import HEADERS

                    for cls in HEADERS:
                        dpg.add_menu_item(label=cls.title, callback=self._toggle_header, user_data=cls.key)
                with dpg.menu(label="UI scale"):
                    for s in UI_SCALES:
                        dpg.add_menu_item(label=f"{s:.0%}", callback=self._set_scale, user_data=s)
            with dpg.menu(label="Budget"):
                dpg.add_menu_item(label="Set budget...", callback=self._ask_budget)
            self.status = dpg.add_text("", color=(150, 150, 160))
        with dpg.window(label="Add source", modal=True, show=False, width=520, no_resize=True) as self.source_dialog:
            dpg.add_text("SOURCE: comms:FILE (SessionLogger files) or claude[:DIR] (Claude Code transcripts)")
            self.source_input = dpg.add_input_text(
                width=-1,
                hint="comms:/path/to/logs  or  claude:~/.claude/projects",
                on_enter=True,
                callback=self._add_source,
            )
            self.source_error = dpg.add_text("", color=(235, 100, 90))
            dpg.add_button(label="Add", callback=self._add_source)
        with dpg.window(label="Set budget", modal=True, show=False, width=320, no_resize=True) as self.budget_dialog:
            self.budget_input = dpg.add_input_double(
                label="USD",
                format="%.2f",
                step=0,
                min_value=0.0,
                min_clamped=True,
                on_enter=True,
                callback=self._set_budget,
            )
            dpg.add_button(label="Set", callback=self._set_budget)

    def _ask_source(self) -> None:
        self.dpg.set_value(self.source_error, "")
        self.dpg.configure_item(self.source_dialog, show=True)

    def _add_source(self) -> None:
        spec = self.dpg.get_value(self.source_input).strip()
        try:
            source = open_source(spec, self.history)
        except SourceError as exc:
            self.dpg.set_value(self.source_error, str(exc))
            return
        self.poller.add(source)
        self.dpg.configure_item(self.source_dialog, show=False)

    def _ask_budget(self) -> None:
        self.dpg.set_value(self.budget_input, self.history.budget_usd or 0.0)
        self.dpg.configure_item(self.budget_dialog, show=True)

    def _set_budget(self) -> None:
        self.panel.set_budget(float(self.dpg.get_value(self.budget_input)))
        self.dpg.configure_item(self.budget_dialog, show=False)

    def _set_scale(self, _sender: object, _data: object, scale: float) -> None:
        self._scale_wanted = scale  # a callback's thread: the next frame rebuilds the fonts

    def _apply_scale(self, scale: float) -> None:
        """The fonts rasterised again at ``scale`` (not the old ones stretched)."""
        from .ui.theme import Fonts

        old, self.fonts = self.fonts, Fonts(scale=scale)
        self.panel.cards.use_fonts(self.fonts)
        self.dpg.delete_item(old.registry)
        self.history.ui["scale"] = scale

    def _toggle_header(self, _sender: object, _data: object, key: str) -> None:
        header = self.panel.headers[key]
        header.set_open(not header.is_open())

    def _all_headers(self, open_: bool) -> None:
        for key in self.panel.headers:
            self.panel.set_header_open(key, open_)

    def reset_layout(self) -> None:
        """The panel shown and filling the viewport, in the default size."""
        dpg = self.dpg
        dpg.configure_item(self.panel.window, show=True)
        dpg.set_primary_window(self.panel.window, True)
        dpg.set_viewport_width(window_geometry.DEFAULT_W)
        dpg.set_viewport_height(window_geometry.DEFAULT_H)

    def _update_status(self, now: float) -> None:
        applied = self.history.applied
        self._events_window.append((now, applied))
        while self._events_window and now - self._events_window[0][0] > 2.0:
            self._events_window.pop(0)
        t0, a0 = self._events_window[0]
        rate = (applied - a0) / (now - t0) if now > t0 else 0.0
        fps = self.dpg.get_frame_rate()
        names = [s.label for s in self.sources] + (["demo"] if self.demo is not None else [])
        self.dpg.set_value(
            self.status,
            f"    {fps:,.0f} fps   {rate:,.0f} events/s   reading: {', '.join(names) if names else 'nothing'}",
        )

    # --- loop -------------------------------------------------------------------

    def run(self) -> int:
        """Render until the window is closed (or ``--frames`` were drawn), then save."""
        self.start()
        frames = self.args.frames
        _stop_on_signals(self.dpg)
        try:
            while self.dpg.is_dearpygui_running():
                self.frame()
                if frames is not None and self.frames_drawn >= frames:
                    break
        finally:
            self.finish()
        if self.args.frame_stats:
            write_frame_stats(
                self.args.frame_stats, self._frame_times, self._python_ms, self.panel.shown_snapshot, self._backlog_s
            )
        return 0

    def start(self) -> None:
        """Show the viewport and start the saver; the readers start after the first frame."""
        self.dpg.setup_dearpygui()
        self.dpg.show_viewport()
        self.saver.start()
        self.frames_drawn = 0
        self._started = self._last = time.perf_counter()
        frames = self.args.frames
        self._shot_at = max(frames - 3, 0) if frames and self.args.screenshot else None

    def frame(self) -> None:
        """One frame: the demo's clock, the panel's tick, the status bar, the render."""
        dpg = self.dpg
        if self.demo is not None:
            self.demo.advance()
        if self._scale_wanted is not None:
            self._apply_scale(self._scale_wanted)
            self._scale_wanted = None
        self.panel.tick()
        if self._backlog_s is None and self.poller.first_pass.is_set() and not self.history.pending:
            self._backlog_s = time.perf_counter() - self._started
            # What the backlog built lives as long as the window: out of the collector's
            # full passes, which over a long history stall a frame by 50 ms.
            gc.freeze()
        if self.frames_drawn % STATUS_EVERY == 0:
            self._update_status(time.perf_counter())
        if self.frames_drawn == self._shot_at:
            self.args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            dpg.output_frame_buffer(file=str(self.args.screenshot))
        dpg.render_dearpygui_frame()
        if self.poller.reading_backlog.is_set():
            # The backlog's processes share the cores with the render loop: frames faster
            # than 60 a second (vsync off, or a faster display) only slow the reading.
            left = BACKLOG_FRAME_S - (time.perf_counter() - self._last)
            if left > 0:
                time.sleep(left)
        if not self.frames_drawn:
            # The readers' thread imports the price book (~0.1 s of Python) before it reads:
            # begun with the viewport, it took the first frame's time.
            self.poller.start()
        now = time.perf_counter()
        self._frame_times.append((now - self._last) * 1000)
        self._python_ms.append(self.panel.python_ms)
        self._last = now
        self.frames_drawn += 1

    def finish(self) -> None:
        """Stop the threads, save the state, the layout and the window's geometry."""
        dpg = self.dpg
        try:
            self.poller.stop()
            self.saver.stop()
            self.panel.close()
            if self.notifier is not None:
                self.notifier.close()
            self.history.drain()
            if self.exporter is not None:
                self.exporter.close()
            x, y = dpg.get_viewport_pos()  # floats, as the size may be
            geometry = window_geometry.Geometry(
                int(dpg.get_viewport_width()), int(dpg.get_viewport_height()), int(x), int(y)
            )
            _make_private(self.layout_path)  # before the write: Dear PyGui keeps an existing file's mode
            dpg.save_init_file(str(self.layout_path))
            try:
                window_geometry.remember(self.layout_path, geometry)
            except OSError:
                pass  # the layout file is not ours to write: the next start takes the default size
            self.saver.close()
        finally:
            dpg.destroy_context()


def _stop_on_signals(dpg) -> None:
    """SIGTERM and SIGINT end the render loop as closing the window does, so the state,
    the layout and the window's place are saved (by default they ended the process
    with up to 30 s of state unsaved). Handlers run on the main thread, the render one."""

    def stop(_signum: int, _frame: object) -> None:
        dpg.stop_dearpygui()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)


def _make_private(path: Path) -> None:
    """Only the user may read what we write (as state.toml): Dear PyGui creates its init
    file 0644, and writes an existing one in place."""
    try:
        state_file.private_file(path)
    except OSError:
        pass  # a folder, or not ours: Dear PyGui's own write then fails or keeps its mode


def run(args: Namespace) -> int:
    """Open the window (see ``cli_args.window_parser`` for the arguments)."""
    problem = display_problem()
    if problem:
        print(no_display_message(problem), file=sys.stderr)
        return EXIT_NO_DISPLAY
    try:
        app = App(args)
    except SourceError as exc:
        print(f"session-insights: {printable(str(exc))}", file=sys.stderr)
        return 2
    return app.run()
