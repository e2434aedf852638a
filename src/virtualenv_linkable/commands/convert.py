"""``venvlink convert``."""

from __future__ import annotations

from .. import TYPE_CHECKING
from ..exceptions import VenvlinkError
from . import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from pathlib import Path

    from . import Output

NAME = "convert"
SUMMARY = (
    "make an existing venv linkable in place (--revert: exactly as it was; --python: onto another interpreter of "
    "the same version)"
)
EXAMPLES = """\
  venvlink convert .venv
  venvlink convert --revert .venv
  venvlink convert --python ~/.pyenv/versions/3.12.8/bin/python3.12 ~/venvs/tool"""


def arguments(parser: ArgumentParser) -> None:
    parser.add_argument("venv", metavar="VENV")
    parser.add_argument("--revert", action="store_true", help="put back what was there before the conversion")
    parser.add_argument(
        "--python",
        metavar="PYTHON",
        help="move VENV to this interpreter (a path, or a name looked up on PATH): the same implementation and X.Y "
        "(free-threaded or not) as VENV's, for a base interpreter removed or upgraded to a new patch release",
    )


def run(args: Namespace, out: Output) -> int:
    from .._convert import convert  # noqa: PLC0415

    if args.revert and args.python:
        out.error("--revert and --python do not go together")
        return EXIT_USAGE
    result = convert(args.venv, revert=args.revert, python=args.python)
    names = ", ".join(result.entries)
    run = "runs" if len(result.entries) == 1 else "run"
    out.detail(f"interpreter: {result.executable}{f' ({result.interpreter})' if result.interpreter else ''}")
    if not result.changed:
        out.done(
            f"{result.venv} has no stub; nothing to revert" if args.revert else f"{result.venv} is already linkable"
        )
    elif args.revert:
        out.done(f"reverted {result.venv}: {names or 'pyvenv.cfg'} as before the conversion")
        _exports_left(result.venv, out)
    elif args.python:
        out.done(f"moved {result.venv} to {args.python}: {f'{names} now {run} it' if names else 'its stubs run it'}")
    elif names:
        out.done(f"converted {result.venv}: {names} now {run} {result.executable} through venvlink's stub")
    else:
        out.done(f"converted {result.venv}: pyvenv.cfg names {result.executable} for the stub again")
    if result.note:
        out.note(result.note)
    return EXIT_OK


def _exports_left(venv: Path, out: Output) -> None:
    """A note for each export of a venv just reverted: its link now runs the base interpreter, without the venv."""
    from .._registry import Registry  # noqa: PLC0415

    try:
        exports = [e.dest for e in Registry().load().exports.values() if e.venv == str(venv)]
    except VenvlinkError:
        return  # the revert is done; the registry's own problem shows in venvlink list
    for dest in sorted(exports):
        out.note(
            f"{dest} still links to it, and now runs the base interpreter without it: venvlink remove {dest} removes "
            f"the link, venvlink convert {venv} makes the venv linkable again (as doctor --fix would)"
        )
