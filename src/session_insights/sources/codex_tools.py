"""When a Codex tool call failed, how long it took, and the tickets an ``update_plan`` sets.

Codex writes a call's outcome in its output, in several shapes: a shell's ``Exit code:``
or exec_command's ``Process exited with code`` header, JSON ``metadata.exit_code``, a
``success`` flag, a line of text for an error of its own (``unsupported call: x``), and
for the agent tools JSON that a failed call lacks.
"""

from __future__ import annotations

import hashlib
import re

import orjson

from ..events import TicketUpdate, check_duration_ms

_PLAN_STATUS = {"pending": "todo", "in_progress": "in_progress", "completed": "completed"}
# The shell's exit code: ``Exit code: 3`` (shell) or ``Process exited with code 3`` (exec_command).
_EXIT_CODE = re.compile(r"^(?:Exit code:|Process exited with code) (-?\d+)", re.MULTILINE)
_WALL_TIME = re.compile(r"^Wall time: ([0-9.]+) seconds", re.MULTILINE)
# What a tool's output starts with when Codex answered the call with an error of its own.
_FAILED_OUTPUT = ("unsupported call:", "failed to parse function arguments")
_FAILED_AGENT_STATES = ("not_found", "errored")  # wait_agent: a target it could not wait on


def agent_call_ok(name: str, output: object) -> bool:
    """Whether a ``spawn_agent`` / ``wait_agent`` call did what it was asked: Codex answers
    a failed one with a line of text (``unknown agent_type 'x'``) where a done one gives
    JSON, and ``wait_agent`` names each target it could not wait on (``not_found``)."""
    if not isinstance(output, str):
        return True
    try:
        body = orjson.loads(output)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(body, dict) or "error" in body:
        return False
    if name == "spawn_agent":
        return "agent_id" in body
    states = body.get("status")
    if not isinstance(states, dict):
        return False
    return not any(
        state in _FAILED_AGENT_STATES or (isinstance(state, dict) and "errored" in state) for state in states.values()
    )


def tool_outcome(output: object) -> tuple[bool, float | None]:
    """(ok, duration in ms if the output states it) from a tool call's output; a stated
    duration out of range (``1e308`` seconds) raises ValueError."""
    if isinstance(output, dict):
        return output.get("success") is not False, None
    if not isinstance(output, str):
        return True, None
    if output.startswith(_FAILED_OUTPUT):
        return False, None
    if output.startswith("{"):
        try:
            body = orjson.loads(output)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            meta = body.get("metadata")
            if isinstance(meta, dict):
                code, secs = meta.get("exit_code"), meta.get("duration_seconds")
                ok = not (isinstance(code, int) and code != 0)
                if secs is None:
                    return ok, None
                if isinstance(secs, bool) or not isinstance(secs, (int, float)):
                    raise ValueError(f"metadata.duration_seconds must be a number, got {secs!r}")
                return ok, check_duration_ms(secs * 1000.0, "metadata.duration_seconds")
            return body.get("success") is not False, None
    head = output[:400]
    code, wall = _EXIT_CODE.search(head), _WALL_TIME.search(head)
    if wall is None:
        return code is None or int(code.group(1)) == 0, None
    try:
        secs = float(wall.group(1))
    except ValueError:
        raise ValueError("Wall time must be a number of seconds") from None
    return code is None or int(code.group(1)) == 0, check_duration_ms(secs * 1000.0, "Wall time")


def plan_tickets(session: str | None, arguments: object, ts: float) -> list[TicketUpdate]:
    """The tickets an ``update_plan`` call sets; a step we cannot read makes the line bad."""
    if isinstance(arguments, str):
        arguments = orjson.loads(arguments)
    steps = arguments.get("plan") if isinstance(arguments, dict) else None
    if not isinstance(steps, list):
        raise ValueError("update_plan arguments.plan must be a list")
    updates: list[TicketUpdate] = []
    for step in steps:
        status = step.get("status") if isinstance(step, dict) else None
        if not isinstance(status, str) or status not in _PLAN_STATUS:
            raise ValueError(f"update_plan step status is not {' or '.join(_PLAN_STATUS)}, got {status!r}")
        digest = hashlib.blake2b(str(step.get("step", "")).encode(errors="replace"), digest_size=6).hexdigest()
        updates.append(
            TicketUpdate(
                ts,
                f"{session or 'codex'}/step-{digest}",
                _PLAN_STATUS[status],
                session,
                None,
                session,
            )
        )
    return updates
