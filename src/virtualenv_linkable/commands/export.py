"""``venvlink export``."""

from __future__ import annotations

from .. import TYPE_CHECKING
from . import EXIT_OK

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from . import Output

NAME = "export"
SUMMARY = "make DEST a symlink to VENV's python that runs with VENV's packages"
EXAMPLES = """\
  venvlink export ~/venvs/black
  venvlink export ~/venvs/tool ~/bin/tool
  venvlink export --relative --name python3 ~/venvs/tool ~/bin/python3
  venvlink export --force ~/venvs/tool-v2 ~/bin/tool"""


def arguments(parser: ArgumentParser) -> None:
    parser.add_argument("venv", metavar="VENV", help="a virtual environment (converted to linkable if it is not)")
    parser.add_argument(
        "dest",
        metavar="DEST",
        nargs="?",
        help="the symlink to create, as ln -s takes it (default: VENV's directory name in $VENVLINK_BIN_DIR, "
        "$XDG_BIN_HOME or ~/.local/bin)",
    )
    parser.add_argument("--name", default="python", help="the interpreter in VENV/bin to link to (default: python)")
    parser.add_argument("--relative", action="store_true", help="write a relative link")
    parser.add_argument("--force", action="store_true", help="replace an existing DEST (atomically, never through it)")
    parser.add_argument("--no-convert", action="store_true", help="refuse a VENV that is not linkable yet")


def run(args: Namespace, out: Output) -> int:
    from .._export import export  # noqa: PLC0415

    result = export(
        args.venv,
        args.dest,
        name=args.name,
        relative=args.relative,
        force=args.force,
        convert_venv=not args.no_convert,
    )
    if result.converted:
        out.done(f"converted {result.venv}: its interpreters are now venvlink's stub")
    out.done(f"{'replaced' if result.replaced else 'exported'} {result.dest} -> {result.target}")
    out.detail(f"checked: the stub walks {result.dest} to {result.venv}, whose python runs")
    out.detail(f"recorded in {result.registry}")
    if result.path_note:
        out.note(result.path_note)
    return EXIT_OK
