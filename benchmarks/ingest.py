"""Hook -> aggregates throughput, producer-side latency, memory growth, state.toml save.

Prints figures against DESIGN §6; asserts nothing. Targets:
  >= 400k events/s through record_usage + drain, one thread
  producer-side call p99 <= 10 us
  RSS after 10M events <= RSS after 100k events + 20 MB
  state.toml save <= 20 ms, file <= 256 KB after 10M events

Usage: python benchmarks/ingest.py [--events 10000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from session_insights import TokenHistory

MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "gpt-5", "acme-local-7b")  # the last is unpriced
TIERS = ("Tier 1", "Tier 2", "Tier 3", "Tier 4")
SESSIONS = tuple(f"session-{i}" for i in range(8))
T0 = 1_763_900_000.0
SPACING_S = 0.05  # 20 requests a second: 10M events span about six days


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def feed(h: TokenHistory, start: int, n: int, drain_every: int = 4096) -> None:
    record = h.record_usage
    for i in range(start, start + n):
        record(
            MODELS[i & 3],
            800 + (i & 255),
            300 + (i & 127),
            20_000 + (i & 1023),
            (i & 7) * 100,
            T0 + i * SPACING_S,
            TIERS[(i >> 2) & 3],
            SESSIONS[(i >> 16) & 7],
        )
        if not i % drain_every:
            h.drain()
            if not i % 50_000:
                h.record_tool_call("Bash", 1500.0, ok=bool(i & 1), ts=T0 + i * SPACING_S)
                h.update_ticket(f"T-{i // 50_000}", "completed", ts=T0 + i * SPACING_S)
    h.drain()


def throughput(n: int) -> float:
    h = TokenHistory()
    feed(h, 0, 10_000)  # resolve prices, warm caches
    start = time.perf_counter()
    feed(h, 10_000, n)
    return n / (time.perf_counter() - start)


def producer_latency_us(n: int = 200_000) -> tuple[float, float, float]:
    h = TokenHistory()
    feed(h, 0, 10_000)
    record = h.record_usage
    clock = time.perf_counter_ns
    samples = []
    for i in range(n):
        t = clock()
        record(MODELS[i & 3], 800, 300, 20_000, 100, T0 + i * SPACING_S, TIERS[i & 3], SESSIONS[0])
        samples.append(clock() - t)
        if not i & 4095:
            h.drain()
    samples.sort()
    q = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))] / 1000  # noqa: E731
    return q(0.5), q(0.99), q(0.999)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000_000)
    args = ap.parse_args()

    rate = max(throughput(1_000_000) for _ in range(3))
    print(f"throughput       {rate:>12,.0f} events/s   record_usage + drain, one thread, best of 3 (target >= 400,000)")
    p50, p99, p999 = producer_latency_us()
    print(f"producer call    p50 {p50:.2f} us  p99 {p99:.2f} us  p99.9 {p999:.2f} us   (target p99 <= 10 us)")

    h = TokenHistory()
    feed(h, 0, 100_000)
    rss_small = rss_mb()
    started = time.perf_counter()
    feed(h, 100_000, args.events - 100_000)
    elapsed = time.perf_counter() - started
    rss_big = rss_mb()
    print(
        f"memory           RSS {rss_small:,.1f} MB after 100k events, {rss_big:,.1f} MB after {args.events:,} "
        f"({rss_big - rss_small:+,.1f} MB; target <= +20 MB)   [{args.events / elapsed:,.0f} events/s sustained]"
    )

    with tempfile.TemporaryDirectory() as tmp:
        h.state_path = Path(tmp) / "state.toml"
        times = []
        for _ in range(10):
            t = time.perf_counter()
            size = h.save()
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"state.toml save  median {statistics.median(times):.1f} ms  max {max(times):.1f} ms, "
            f"{size / 1024:,.1f} KB after {args.events:,} events   (target <= 20 ms, <= 256 KB)"
        )
    totals = h.snapshot()["totals"]
    assert totals["requests"] == args.events, totals  # a benchmark that loses events measures nothing


if __name__ == "__main__":
    main()
