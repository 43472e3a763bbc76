"""``HOST:PORT`` as the export and the window's ``--prometheus`` take it (no OpenTelemetry
here: the window's argument parser imports it)."""

from __future__ import annotations

import argparse


def address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``:PORT`` (every interface); port 0 takes a free one."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"give HOST:PORT (e.g. 127.0.0.1:9464 or :9464), got {text!r}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or "0.0.0.0", int(port)
