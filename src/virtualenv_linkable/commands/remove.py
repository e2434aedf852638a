"""``venvlink remove``."""

from __future__ import annotations

from .. import TYPE_CHECKING
from . import EXIT_OK

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from . import Output

NAME = "remove"
SUMMARY = "remove an export venvlink made (never the venv itself)"
EXAMPLES = """\
  venvlink remove ~/bin/tool
  venvlink remove --forget ~/bin/tool"""


def arguments(parser: ArgumentParser) -> None:
    parser.add_argument("dest", metavar="DEST", help="an export's link (with --forget: or a converted venv)")
    parser.add_argument(
        "--forget", action="store_true", help="only drop its entry from venvlink's registry; leave the file"
    )


def run(args: Namespace, out: Output) -> int:
    from .._export import remove  # noqa: PLC0415
    from .._paths import absolute  # noqa: PLC0415
    from .._registry import Registry  # noqa: PLC0415

    dest = absolute(args.dest)
    registry = Registry()
    done = remove(dest, forget=args.forget, registry=registry)
    out.done(
        {
            "removed": f"removed {dest}",
            "gone": f"forgot {dest}, which was already gone",
            "malformed": f"forgot {dest}'s malformed registry entry; any file there is left as it is",
            "forgotten": f"forgot {dest}; the link is left as it is",
            "venv": f"forgot the converted venv {dest}; it is left as it is",
        }[done]
    )
    out.detail(f"registry: {registry.path}")
    return EXIT_OK
