"""Text that a synthetic Claude Code corpus is cut from, and the tools' inputs and results.

Each tool result is written twice, as Claude Code writes it: as text in message.content
and, structured, in toolUseResult. Sizes are heavy-tailed: most results are a few lines
(an edit's confirmation, a short command output, a handful of paths), a few are whole
files. That keeps the corpus at the density of real logs (a usage line per ~1.4 KB).
"""

from __future__ import annotations

import math
import random

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
TOOLS = (
    ("Read", 0.27),
    ("Bash", 0.25),
    ("Edit", 0.17),
    ("Grep", 0.09),
    ("Glob", 0.05),
    ("Write", 0.03),
    ("TodoWrite", 0.08),
    ("Task", 0.006),
    ("WebFetch", 0.04),
)
WORDS = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "for",
    "that",
    "with",
    "on",
    "test",
    "file",
    "function",
    "error",
    "return",
    "value",
    "config",
    "parser",
    "request",
    "cache",
    "token",
    "user",
    "session",
    "build",
    "fix",
    "update",
    "check",
    "handler",
    "module",
    "import",
    "class",
    "data",
    "path",
    "should",
    "when",
    "failing",
    "output",
    "input",
    "retry",
    "timeout",
    "queue",
    "index",
    "schema",
    "migration",
    "service",
]
IDENTS = [
    "load_config",
    "parse_line",
    "RequestQueue",
    "retry_after",
    "user_id",
    "cache_key",
    "flush",
    "self",
    "items",
    "result",
    "response",
    "payload",
    "handler",
    "logger",
    "session",
    "tokens",
    "offset",
    "buf",
    "validate",
    "schema",
    "build_index",
    "fetch_rows",
    "on_message",
    "write_batch",
    "conn",
    "cursor",
]
TODO_DONE = (
    "Todos have been modified successfully. Ensure that you continue to use the todo list to "
    "track your progress. Please proceed with the current tasks if applicable"
)


def pick(rng: random.Random, weighted: tuple) -> str:
    x, acc = rng.random(), 0.0
    for value, weight in weighted:
        acc += weight
        if x < acc:
            return value
    return weighted[-1][0]


def lognormal_int(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, rng.lognormvariate(math.log(median), sigma))))


class TextPool:
    """Pre-built code, prose and shell output to cut from (fast to slice)."""

    def __init__(self, rng: random.Random):
        code, prose, shell = [], [], []
        for n in range(1, 40_000):
            indent = " " * (4 * rng.randrange(0, 4))
            a, b, c = rng.choice(IDENTS), rng.choice(IDENTS), rng.choice(IDENTS)
            line = rng.choice(
                (
                    f"{indent}{a} = {b}({c}, timeout={rng.randrange(1, 90)})",
                    f"{indent}if {a} is None:",
                    f"{indent}return {b}.{c}()",
                    f"{indent}def {a}(self, {b}: str, {c}: int = 0) -> dict:",
                    f'{indent}logger.debug("{a} %s", {b})',
                    f"{indent}for {a} in {b}:",
                    f"{indent}# {' '.join(rng.choices(WORDS, k=rng.randrange(3, 12)))}",
                )
            )
            code.append(f"{n % 900 + 1:>6}\u2192{line}")  # the Read tool's "  12→" numbering
        for _ in range(20_000):
            prose.append(" ".join(rng.choices(WORDS, k=rng.randrange(5, 25))).capitalize() + ".")
        for _ in range(20_000):
            shell.append(
                rng.choice(
                    (
                        f"tests/test_{rng.choice(IDENTS)}.py::test_{rng.choice(IDENTS)} PASSED [{rng.randrange(100)}%]",
                        f"src/{rng.choice(IDENTS)}.py:{rng.randrange(1, 900)}: {rng.choice(IDENTS)}",
                        f"-rw-r--r--  1 dev  staff  {rng.randrange(100, 90_000)} Nov {rng.randrange(1, 28)} "
                        f"{rng.choice(IDENTS)}.py",
                        f"+    {rng.choice(IDENTS)} = {rng.choice(IDENTS)}()",
                        f"-    return {rng.choice(IDENTS)}",
                        f"E   AssertionError: assert {rng.randrange(1000)} == {rng.randrange(1000)}",
                    )
                )
            )
        self.code, self.prose, self.shell = "\n".join(code), " ".join(prose), "\n".join(shell)

    def cut(self, rng: random.Random, text: str, n_chars: int) -> str:
        n_chars = min(n_chars, len(text) - 1)
        start = rng.randrange(0, len(text) - n_chars)
        return text[start : start + n_chars]


def token_id(rng: random.Random, prefix: str, n: int = 22) -> str:
    return prefix + "".join(rng.choices(ALPHABET, k=n))


def tool_input(rng: random.Random, pool: TextPool, name: str, cwd: str, todos: list[dict]) -> dict:
    """What the model asks a tool for (the tool_use block's input)."""
    path = f"{cwd}/src/{rng.choice(IDENTS)}/{rng.choice(IDENTS)}.py"
    if name == "Read":
        return {"file_path": path}
    if name == "Bash":
        return {
            "command": rng.choice(("pytest -q", "git status", "git diff", "make build", "ls -la src", "npm test")),
            "description": pool.cut(rng, pool.prose, 40),
        }
    if name == "Edit":
        return {
            "file_path": path,
            "old_string": pool.cut(rng, pool.code, lognormal_int(rng, 30, 0.9, 5, 2_000)),
            "new_string": pool.cut(rng, pool.code, lognormal_int(rng, 40, 0.9, 5, 3_000)),
        }
    if name == "Write":
        return {"file_path": path, "content": pool.cut(rng, pool.code, lognormal_int(rng, 400, 1.0, 40, 20_000))}
    if name in ("Grep", "Glob"):
        return {"pattern": rng.choice(IDENTS), "path": cwd}
    if name == "WebFetch":
        return {"url": f"https://docs.example.org/{rng.choice(IDENTS)}", "prompt": pool.cut(rng, pool.prose, 80)}
    if name == "Task":
        return {
            "description": pool.cut(rng, pool.prose, 30),
            "prompt": pool.cut(rng, pool.prose, lognormal_int(rng, 400, 0.6, 60, 3_000)),
            "subagent_type": rng.choice(("general-purpose", "Explore")),
        }
    return {"todos": todos}


def tool_output(rng: random.Random, pool: TextPool, name: str, given: dict) -> tuple[str, object, float]:
    """(message.content text, toolUseResult, seconds the tool took) for every tool but
    Task, whose result is its subagent's report."""
    if name == "Read":
        text = pool.cut(rng, pool.code, lognormal_int(rng, 50, 1.3, 10, 40_000))
        n_lines = text.count("\n") + 1
        file = {"filePath": given["file_path"], "content": text, "numLines": n_lines, "startLine": 1}
        return text, {"type": "text", "file": {**file, "totalLines": n_lines}}, rng.uniform(0.02, 0.3)
    if name == "Bash":
        text = pool.cut(rng, pool.shell, lognormal_int(rng, 20, 1.4, 0, 30_000))
        return text, {"stdout": text, "stderr": "", "interrupted": False, "isImage": False}, rng.uniform(0.2, 60)
    if name == "Edit":
        text = f"The file {given['file_path']} has been updated. Here's the result of running `cat -n` on a snippet"
        detail = {
            "filePath": given["file_path"],
            "oldString": given["old_string"],
            "newString": given["new_string"],
            "originalFile": pool.cut(rng, pool.code, lognormal_int(rng, 40, 1.3, 10, 30_000)),
            "structuredPatch": [
                {"oldStart": 10, "oldLines": 3, "newStart": 10, "newLines": 5, "lines": given["new_string"].split("\n")}
            ],
            "userModified": False,
            "replaceAll": False,
        }
        return text, detail, rng.uniform(0.05, 1.0)
    if name == "Write":
        text = f"File created successfully at: {given['file_path']}"
        detail = {
            "type": "create",
            "filePath": given["file_path"],
            "content": given["content"],
            "structuredPatch": [],
            "originalFile": None,
        }
        return text, detail, rng.uniform(0.05, 0.5)
    if name in ("Grep", "Glob"):
        text = pool.cut(rng, pool.shell, lognormal_int(rng, 30, 1.1, 10, 6_000))
        names = text.split("\n")[:50]
        detail = {"filenames": names, "durationMs": rng.randrange(5, 900), "numFiles": len(names), "truncated": False}
        return text, detail, rng.uniform(0.05, 1.5)
    if name == "WebFetch":
        text = pool.cut(rng, pool.prose, lognormal_int(rng, 150, 1.0, 40, 12_000))
        detail = {
            "bytes": len(text) * 3,
            "code": 200,
            "codeText": "OK",
            "result": text,
            "durationMs": rng.randrange(300, 9_000),
            "url": given["url"],
        }
        return text, detail, rng.uniform(0.5, 10)
    return TODO_DONE, {"oldTodos": [], "newTodos": given["todos"]}, rng.uniform(0.01, 0.1)
