"""``venvlink list`` (a module name other than the builtin's), and the document it shares with ``doctor``."""

from __future__ import annotations

from .. import TYPE_CHECKING
from . import EXIT_OK

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from typing import Any

    from .._doctor import Health
    from . import Output

NAME = "list"
SUMMARY = "list the exports and converted venvs venvlink made, with their state"
EXAMPLES = """\
  venvlink list
  venvlink list --json"""


def arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")


def _problems(health: Health) -> list[dict[str, Any]]:
    return [{"what": p.what, "detail": p.detail, "fix": p.fix, "automatic": p.automatic} for p in health.problems]


def document(healths: list[Health], registry: str) -> dict[str, Any]:
    """``venvlink list --json`` and ``venvlink doctor --json``: the exports, then the converted venvs no export
    runs; a registry entry that does not parse is among the exports, with nulls."""
    exports, venvs = [], []
    for health in healths:
        if health.converted is not None:
            venvs.append(
                {
                    "venv": health.converted.venv,
                    "converted": health.converted.converted,
                    "state": health.state,
                    "problems": _problems(health),
                }
            )
            continue
        export = health.export
        exports.append(
            {
                "dest": health.key,
                "venv": export.venv if export else None,
                "target": export.target if export else None,
                "name": export.name if export else None,
                "created": export.created if export else None,
                "state": health.state,
                "problems": _problems(health),
            }
        )
    return {"registry": registry, "exports": exports, "venvs": venvs}


def run(args: Namespace, out: Output) -> int:
    from .._doctor import status  # noqa: PLC0415
    from .._registry import Registry  # noqa: PLC0415

    registry = Registry()
    healths = status(registry)
    if args.json:
        out.json(document(healths, str(registry.path)))
        return EXIT_OK
    for health in healths:
        if health.converted is not None:
            out.answer(f"{health.key} (converted)  [{health.state}]")
            out.detail(f"  converted {health.converted.converted}")
        else:
            out.answer(f"{health.key} -> {health.export.target if health.export else '?'}  [{health.state}]")
            if health.export is not None:
                out.detail(f"  venv {health.export.venv}, entry {health.export.name}, exported {health.export.created}")
        for problem in health.problems:
            out.detail(f"  {problem.detail}")
    if not healths:
        out.note("nothing exported or converted yet; export a venv with: venvlink export VENV")
    out.detail(f"registry: {registry.path}")
    return EXIT_OK
