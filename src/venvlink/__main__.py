"""The ``venvlink`` command: a thin layer over venvlink's Python API."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import TYPE_CHECKING, __version__
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ._doctor import Checked
    from ._walk import Resolution

# Each command imports what it uses when it runs: `venvlink convert` starts in a fraction of the time.


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def _cmd_export(args: argparse.Namespace) -> int:
    from ._export import export  # noqa: PLC0415

    result = export(
        args.venv,
        args.dest,
        name=args.name,
        relative=args.relative,
        force=args.force,
        convert_venv=not args.no_convert,
    )
    if result.converted:
        print(f"converted {result.venv}: its interpreters are now venvlink's stub")
    print(f"{'replaced' if result.replaced else 'exported'} {result.dest} -> {result.target}")
    if result.path_note:
        print(f"note: {result.path_note}", file=sys.stderr)
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from ._convert import convert  # noqa: PLC0415

    result = convert(args.venv, revert=args.revert)
    names = ", ".join(result.entries)
    if not result.changed:
        print(f"{result.venv} has no stub; nothing to revert" if args.revert else f"{result.venv} is already linkable")
    elif args.revert:
        print(f"reverted {result.venv}: {names or 'pyvenv.cfg'} back to plain links to {result.executable}")
    elif names:
        print(f"converted {result.venv}: {names} now run {result.executable} through venvlink's stub")
    else:
        print(f"converted {result.venv}: pyvenv.cfg names {result.executable} for the stub again")
    return 0


def _explain(resolution: Resolution) -> dict[str, Any]:
    """What running the path does, for ``which``: through the stub, or CPython on its own."""
    from ._walk import find_pyvenv_cfg  # noqa: PLC0415

    path = resolution.path
    info: dict[str, Any] = {"path": path, "via_stub": resolution.via_stub, "hops": resolution.hops}
    if resolution.via_stub:
        info.update(
            pyvenv_cfg=resolution.pyvenv_cfg,
            runs=resolution.executable,
            named_by=resolution.named_by,
            argv0=resolution.argv0,
            prefix=resolution.prefix,
            error=resolution.error,
        )
        return info
    # Not our stub: CPython looks beside the path itself, links unresolved (PEP 405).
    real = Path(os.path.realpath(path))
    beside = find_pyvenv_cfg(os.path.abspath(path))
    info.update(pyvenv_cfg=beside, runs=real, prefix=Path(os.path.abspath(path)).parent.parent if beside else None)
    if beside is None and resolution.pyvenv_cfg is not None:
        venv = resolution.pyvenv_cfg.parent
        if venv.name == "bin":
            venv = venv.parent
        info["lost_venv"] = venv
        info["fix"] = f"venvlink convert {venv}"
    return info


def _cmd_which(args: argparse.Namespace) -> int:
    from ._walk import resolve  # noqa: PLC0415

    info = _explain(resolve(args.path))
    if args.json:
        _print_json(info)
        return 1 if info.get("error") else 0
    print(info["hops"][0] if info["hops"] else info["path"])
    for hop in info["hops"][1:]:
        print(f"  -> {hop}")
    if info.get("error"):
        print(f"error: {info['error']}")
        return 1
    if info["via_stub"]:
        print(f"pyvenv.cfg  {info['pyvenv_cfg']}")
        print(f"runs        {info['runs']} (named by {info['named_by']})")
        print(f"as          {info['argv0']}")
        print(f"sys.prefix  {info['prefix']}")
    elif info["pyvenv_cfg"] is not None:
        print(f"not venvlink's stub: CPython runs {info['runs']} and finds {info['pyvenv_cfg']} beside the path")
        print(f"sys.prefix  {info['prefix']}")
    else:
        print(f"not venvlink's stub: CPython runs {info['runs']} and finds no pyvenv.cfg beside {info['path']},")
        if "lost_venv" in info:
            print(f"so it runs without the venv {info['lost_venv']} (the base interpreter's packages only)")
            print(f"fix: {info['fix']}")
        else:
            print("so it runs as the base interpreter, without any venv")
    return 0


def _checked_json(items: list[Checked]) -> list[dict[str, Any]]:
    from dataclasses import asdict  # noqa: PLC0415

    return [{**asdict(i.export), "state": i.state, "problems": [asdict(p) for p in i.problems]} for i in items]


def _cmd_list(args: argparse.Namespace) -> int:
    from ._doctor import status  # noqa: PLC0415

    items = status()
    if args.json:
        _print_json(_checked_json(items))
        return 0
    for item in items:
        print(f"{item.export.dest} -> {item.export.target}  [{item.state}]")
    if not items:
        print("no exports; make one with: venvlink export VENV DEST")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    from ._export import remove  # noqa: PLC0415

    if remove(args.dest):
        print(f"removed {os.path.abspath(args.dest)}")
    else:
        print(f"{os.path.abspath(args.dest)} was already gone; venvlink forgot it")
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from ._doctor import doctor  # noqa: PLC0415

    items = doctor()
    bad = [i for i in items if i.problems]
    if args.json:
        _print_json(_checked_json(items))
    else:
        for item in bad:
            for problem in item.problems:
                print(f"{item.export.dest}: {problem.what}; {problem.fix}")
        if not bad:
            print(f"all {len(items)} exports are fine")
    return 1 if bad else 0


def _command(sub: Any, name: str, summary: str, examples: str) -> argparse.ArgumentParser:  # noqa: ANN401
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"examples:\n{examples}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``venvlink`` command."""
    parser = argparse.ArgumentParser(
        prog="venvlink",
        description="Symlink a virtual environment's python anywhere and keep the virtual environment.",
        epilog="examples:\n  venvlink export ~/venvs/tool ~/bin/tool\n  venvlink which ~/bin/tool\n  venvlink doctor",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"venvlink {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _command(
        sub,
        "export",
        "make DEST a symlink to VENV's python that runs with VENV's packages",
        "  venvlink export ~/venvs/tool ~/bin/tool\n"
        "  venvlink export --relative --name python3 /opt/venv /usr/local/bin/python3\n"
        "  venvlink export --force ~/venvs/tool-v2 ~/bin/tool",
    )
    p.add_argument("venv", metavar="VENV", help="a virtual environment (converted to linkable if it is not)")
    p.add_argument("dest", metavar="DEST", help="the symlink to create, relative to the current directory")
    p.add_argument("--name", default="python", help="the interpreter in VENV/bin to link to (default: python)")
    p.add_argument("--relative", action="store_true", help="write a relative link")
    p.add_argument("--force", action="store_true", help="replace an existing DEST (atomically, never through it)")
    p.add_argument("--no-convert", action="store_true", help="refuse a VENV that is not linkable yet")
    p.set_defaults(run=_cmd_export)

    p = _command(
        sub,
        "convert",
        "make an existing CPython venv linkable in place (or plain again, with --revert)",
        "  venvlink convert .venv\n  venvlink convert --revert .venv",
    )
    p.add_argument("venv", metavar="VENV")
    p.add_argument("--revert", action="store_true", help="put links to the base interpreter back")
    p.set_defaults(run=_cmd_convert)

    p = _command(
        sub,
        "which",
        "explain what running PATH does: each hop, the pyvenv.cfg, the interpreter, the sys.prefix",
        "  venvlink which ~/bin/tool\n  venvlink which --json /usr/local/bin/python",
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_cmd_which)

    p = _command(sub, "list", "list the exports venvlink made, with their state", "  venvlink list --json")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_cmd_list)

    p = _command(
        sub, "remove", "remove an export venvlink made (never the venv itself)", "  venvlink remove ~/bin/tool"
    )
    p.add_argument("dest", metavar="DEST")
    p.set_defaults(run=_cmd_remove)

    p = _command(
        sub,
        "doctor",
        "check every export, run each once; exit 1 with a fix for each problem",
        "  venvlink doctor\n  venvlink doctor --json",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``venvlink`` command; user errors are one line on stderr and exit status 1."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except VenvlinkError as error:
        print(f"venvlink: error: {error}", file=sys.stderr)
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        print(f"venvlink: error:{where}: {error.strerror or error}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
