"""The ``venvlink`` command's commands, one module each (``NAME``, ``SUMMARY``, ``EXAMPLES``, ``arguments()`` and
``run()``), and what they share: where their words go. Each imports what it uses when it runs, so that
``venvlink convert`` does not pay for what ``venvlink export`` needs."""

from __future__ import annotations

import json
import shlex
import sys

from .. import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

#: the exit statuses, documented in docs/reference.rst
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: the version of every --json document; a new field keeps it, a changed or removed one raises it
SCHEMA = 2


#: control characters as ``\xNN``: a path holds any byte but / and NUL, and another user's name must not move a
#: terminal's cursor or hide the lines after it
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}


def printable(line: str) -> str:
    """``line`` as one line a terminal shows as it is."""
    return line.translate(_CONTROLS)


class Output:
    """Where a command's words go, each one printable line: what was asked for (``list``, ``which``, the problems
    ``doctor`` finds, any JSON document) on stdout, always; what was done (``exported ...``) on stdout, and notes on
    stderr, unless -q; warnings and errors on stderr, always; details on stderr with -v. So -q never hides an answer
    or a problem: ``venvlink -q doctor`` in cron prints nothing when all is fine, and each problem otherwise."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity

    @staticmethod
    def answer(line: str) -> None:
        print(printable(line))

    def done(self, line: str) -> None:
        if self.verbosity >= 0:
            print(printable(line))

    def note(self, line: str) -> None:
        if self.verbosity >= 0:
            print(f"note: {printable(line)}", file=sys.stderr)

    @staticmethod
    def warning(line: str) -> None:
        print(f"warning: {printable(line)}", file=sys.stderr)

    def detail(self, line: str) -> None:
        if self.verbosity > 0:
            print(printable(line), file=sys.stderr)

    @staticmethod
    def error(line: str, kind: str = "error") -> None:
        print(f"venvlink: {kind}: {printable(line)}", file=sys.stderr)

    @staticmethod
    def json(document: dict[str, Any]) -> None:
        print(json.dumps({"schema": SCHEMA, **document}, indent=2))


def shown(argv: list[str] | None) -> str:
    """A command's arguments as a shell line."""
    return shlex.join(argv) if argv else ""


def text(value: object) -> str | None:
    return None if value is None else str(value)
