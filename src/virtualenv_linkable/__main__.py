"""The ``venvlink`` command: the parser, and the exit status of each kind of failure. Each command is a module of
``commands/``; all of them are a thin layer over venvlink's Python API."""

from __future__ import annotations

import argparse
import io
import os
import sys

from . import TYPE_CHECKING, __version__
from .commands import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_PROBLEM,
    Output,
    completion,
    convert,
    doctor,
    export,
    listing,
    remove,
    which,
)
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Sequence

COMMANDS = (export, convert, which, listing, remove, doctor, completion)


def _loudness(parser: argparse.ArgumentParser, default: object) -> None:
    """-q and -v, before the command (``venvlink -v doctor``) or after it (``venvlink doctor -v``)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", action="store_const", const=-1, dest="verbosity", default=default, help="print only errors"
    )
    group.add_argument(
        "-v", "--verbose", action="store_const", const=1, dest="verbosity", default=default, help="print details"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``venvlink`` command."""
    parser = argparse.ArgumentParser(
        prog="venvlink",
        description="Symlink a virtual environment's python anywhere and keep the virtual environment.",
        epilog="examples:\n  venvlink export ~/venvs/tool ~/bin/tool\n  venvlink which ~/bin/tool\n"
        "  venvlink doctor --fix",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"venvlink {__version__}")
    _loudness(parser, 0)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        one = sub.add_parser(
            command.NAME,
            help=command.SUMMARY,
            description=command.SUMMARY,
            epilog=f"examples:\n{command.EXAMPLES}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if getattr(command, "LOUD", True):
            _loudness(one, argparse.SUPPRESS)  # SUPPRESS: a -v given before the command is not undone here
        command.arguments(one)
        one.set_defaults(run=command.run)
    return parser


def _issues() -> str:
    """Where bugs are reported: the distribution's ``Issues`` address, once it has one."""
    from importlib.metadata import PackageNotFoundError, metadata  # noqa: PLC0415

    try:
        urls = metadata("virtualenv-linkable").get_all("Project-URL") or []
    except PackageNotFoundError:
        return ""
    found = [url.partition(",")[2].strip() for url in urls if url.partition(",")[0].strip().lower() == "issues"]
    return f" at {found[0]}" if found else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``venvlink`` command. Errors are one line on stderr; the exit status says which kind."""
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # a shell asks for completions (venvlink completion): answer, then exit
        import argcomplete  # noqa: PLC0415

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a path is bytes: one that is not UTF-8 is printed as it is
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
    verbosity = getattr(args, "verbosity", 0)
    try:
        return int(args.run(args, Output(verbosity)))
    except VenvlinkError as error:
        Output.error(str(error))
        return EXIT_PROBLEM
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        Output.error(f"{where}{error.strerror or error}")
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        if verbosity > 0:
            import traceback  # noqa: PLC0415

            traceback.print_exc()
        Output.error(
            f"{type(error).__name__}: {error}; please report it{_issues()} (-v shows the traceback)", "internal error"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
