"""The ``venvlink`` command: the parser, and the exit status of each kind of failure. Each command is a module of
``commands/``; all of them are a thin layer over venvlink's Python API."""

from __future__ import annotations

import argparse
import fcntl
import io
import os
import re
import sys

from . import TYPE_CHECKING, __version__
from .commands import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
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
    from typing import NoReturn

COMMANDS = (export, convert, which, listing, remove, doctor, completion)


def _loudness(parser: argparse.ArgumentParser, default: object) -> None:
    """-q and -v, before the command (``venvlink -v doctor``) or after it (``venvlink doctor -v``)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const=-1,
        dest="verbosity",
        default=default,
        help="print only answers, problems and errors (no notes, nothing for what went as asked)",
    )
    group.add_argument(
        "-v", "--verbose", action="store_const", const=1, dest="verbosity", default=default, help="print details"
    )


class _Parser(argparse.ArgumentParser):
    """argparse's parser, which says which command was meant when one is mistyped."""

    def error(self, message: str) -> NoReturn:
        mistyped = re.match(r"argument COMMAND: invalid choice: '([^']*)'", message)
        if mistyped:
            import difflib  # noqa: PLC0415

            names = [command.NAME for command in COMMANDS]
            close = difflib.get_close_matches(mistyped[1], names, n=1)
            meant = f"did you mean {close[0]!r}? " if close else ""
            message = f"{mistyped[1]!r} is not a command: {meant}the commands are {', '.join(names)}"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``venvlink`` command."""
    parser = _Parser(
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


def _completing(argv: Sequence[str] | None) -> bool:
    """Whether the shell code ``venvlink completion`` prints asks for completions: it runs the bare command (no
    argument) with argcomplete's variables set and its answer's descriptor 8 open for writing. Those variables
    inherited (root's ``sudo -E`` with another user's environment) never make a command with arguments a completion:
    it would do nothing, and exit 0."""
    given = sys.argv[1:] if argv is None else argv
    if (
        given
        or not os.environ.get("_ARGCOMPLETE", "").isdigit()
        or not {"COMP_LINE", "COMP_POINT"} <= os.environ.keys()
    ):
        return False
    try:
        return (fcntl.fcntl(8, fcntl.F_GETFL) & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
    except OSError:  # not open: not argcomplete's shell code
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``venvlink`` command. Errors are one line on stderr; the exit status says which kind."""
    parser = build_parser()
    if _completing(argv):  # answer, then exit
        import argcomplete  # noqa: PLC0415

        # on descriptor 8, where the shell code reads it (with ARGCOMPLETE_USE_TEMPFILES too); never in the file
        # _ARGCOMPLETE_STDOUT_FILENAME names, which argcomplete opens for writing by path: a link another user
        # made there had root truncate what it named
        argcomplete.autocomplete(parser, output_stream=os.fdopen(8, "w"))
    if not (sys.argv[1:] if argv is None else argv):  # as pipx and uv: what there is to do
        parser.print_help()
        return EXIT_OK
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a path is bytes: one that is not UTF-8 is printed as it is
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
    verbosity = getattr(args, "verbosity", 0)
    if "_ARGCOMPLETE" in os.environ:
        Output(verbosity).note("ignoring _ARGCOMPLETE in the environment: only the code of venvlink completion asks")
    return _run(args, verbosity)


def _run(args: argparse.Namespace, verbosity: int) -> int:
    """The command ``args`` asks for, and the exit status of each kind of failure."""
    try:
        status = int(args.run(args, Output(verbosity)))
        sys.stdout.flush()  # here, where a reader gone is seen: not as Python exits
    except VenvlinkError as error:
        Output.error(str(error))
        return EXIT_PROBLEM
    except BrokenPipeError:  # venvlink list | head -1: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor a second one as Python exits
        return EXIT_OK
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
    return status


if __name__ == "__main__":
    sys.exit(main())
