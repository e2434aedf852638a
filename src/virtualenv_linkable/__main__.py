"""The ``venvlink`` command: a thin layer over venvlink's Python API."""

from __future__ import annotations

import argparse
import io
import json
import sys

from . import TYPE_CHECKING, __version__
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ._doctor import Checked
    from ._resolve import Resolution

# Each command imports what it uses when it runs: `venvlink convert` starts in a fraction of the time.

#: the exit statuses, documented in docs/reference.rst
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: the version of every --json document; a new field keeps it, a changed or removed one raises it
SCHEMA = 1


class Output:
    """Where a command's words go: its answer on stdout, notes on stderr; -q keeps only answers asked for as
    JSON and errors, -v adds details."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity

    def answer(self, line: str) -> None:
        if self.verbosity >= 0:
            print(line)

    def note(self, line: str) -> None:
        if self.verbosity >= 0:
            print(f"note: {line}", file=sys.stderr)

    def detail(self, line: str) -> None:
        if self.verbosity > 0:
            print(line, file=sys.stderr)

    @staticmethod
    def json(document: dict[str, Any]) -> None:
        print(json.dumps({"schema": SCHEMA, **document}, indent=2))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _cmd_export(args: argparse.Namespace, out: Output) -> int:
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
        out.answer(f"converted {result.venv}: its interpreters are now venvlink's stub")
    out.answer(f"{'replaced' if result.replaced else 'exported'} {result.dest} -> {result.target}")
    if result.path_note:
        out.note(result.path_note)
    return EXIT_OK


def _cmd_convert(args: argparse.Namespace, out: Output) -> int:
    from ._convert import convert  # noqa: PLC0415

    result = convert(args.venv, revert=args.revert)
    names = ", ".join(result.entries)
    if result.interpreter:
        out.detail(f"interpreter: {result.executable} ({result.interpreter})")
    if not result.changed:
        out.answer(
            f"{result.venv} has no stub; nothing to revert" if args.revert else f"{result.venv} is already linkable"
        )
    elif args.revert:
        out.answer(f"reverted {result.venv}: {names or 'pyvenv.cfg'} as before the conversion")
    elif names:
        out.answer(f"converted {result.venv}: {names} now run {result.executable} through venvlink's stub")
    else:
        out.answer(f"converted {result.venv}: pyvenv.cfg names {result.executable} for the stub again")
    return EXIT_OK


def which_document(resolution: Resolution) -> dict[str, Any]:
    """``venvlink which --json``: the same keys for every path; paths absolute, null where not known."""
    lost = resolution.lost_venv
    cfg = resolution.pyvenv_cfg
    venv = cfg.parent.parent if cfg is not None and cfg.parent.name == "bin" else cfg.parent if cfg else None
    # a stub that finds its venv but execs a #! wrapper outside it (as venvlink 0.2 did): CPython misses the venv
    missed = resolution.via_stub and venv is not None and resolution.prefix is None and not resolution.error
    return {
        "path": resolution.path,
        "via_stub": resolution.via_stub,
        "hops": resolution.hops,
        "pyvenv_cfg": _text(resolution.pyvenv_cfg),
        "executable": _text(resolution.executable),
        "named_by": resolution.named_by,
        "argv0": resolution.argv0,
        "prefix": _text(resolution.prefix),
        "error": resolution.error,
        "stale": resolution.stale,
        "lost_venv": _text(lost),
        "fix": f"venvlink convert {lost}"
        if lost
        else (f"venvlink convert {venv}" if resolution.stale or missed else None),
    }


def _cmd_which(args: argparse.Namespace, out: Output) -> int:
    from ._resolve import resolve  # noqa: PLC0415

    info = which_document(resolve(args.path))
    if args.json:
        out.json(info)
        return EXIT_PROBLEM if info["error"] else EXIT_OK
    out.answer(info["hops"][0])
    for hop in info["hops"][1:]:
        out.answer(f"  -> {hop}")
    if info["error"]:
        print(f"venvlink: error: {info['error']}", file=sys.stderr)
        return EXIT_PROBLEM
    if info["via_stub"]:
        out.answer(f"pyvenv.cfg  {info['pyvenv_cfg'] or '(none: the interpreter recorded in this stub)'}")
        out.answer(f"runs        {info['executable']} (named by {info['named_by']})")
        out.answer(f"as          {info['argv0']}")
        out.answer(f"sys.prefix  {info['prefix'] or '(no venv)'}")
        if info["stale"]:
            out.note(f"this stub is not the installed venvlink's; upgrade it: {info['fix']}")
        elif info["fix"]:
            out.note(f"CPython will not see {info['pyvenv_cfg']} from that argv[0]; fix: {info['fix']}")
    elif info["pyvenv_cfg"] is not None:
        out.answer(f"not venvlink's stub: {info['executable']} runs and finds {info['pyvenv_cfg']} beside the path")
        out.answer(f"sys.prefix  {info['prefix']}")
    else:
        out.answer(f"not venvlink's stub: {info['executable']} runs and finds no pyvenv.cfg beside {info['path']},")
        if info["lost_venv"]:
            out.answer(f"so it runs without the venv {info['lost_venv']} (the base interpreter's packages only)")
            out.answer(f"fix: {info['fix']}")
        else:
            out.answer("so it runs as the base interpreter, without any venv")
    return EXIT_OK


def exports_document(items: list[Checked], registry: str) -> dict[str, Any]:
    """``venvlink list --json`` and ``venvlink doctor --json``."""
    rows = []
    for item in items:
        export = item.export
        rows.append(
            {
                "dest": item.dest,
                "venv": export.venv if export else None,
                "target": export.target if export else None,
                "name": export.name if export else None,
                "created": export.created if export else None,
                "state": item.state,
                "problems": [{"what": p.what, "fix": p.fix} for p in item.problems],
            }
        )
    return {"registry": registry, "exports": rows}


def _cmd_list(args: argparse.Namespace, out: Output) -> int:
    from ._doctor import status  # noqa: PLC0415
    from ._registry import Registry  # noqa: PLC0415

    registry = Registry()
    items = status(registry)
    if args.json:
        out.json(exports_document(items, str(registry.path)))
        return EXIT_OK
    for item in items:
        target = item.export.target if item.export else "?"
        out.answer(f"{item.dest} -> {target}  [{item.state}]")
    if not items:
        out.note("no exports; make one with: venvlink export VENV DEST")
    return EXIT_OK


def _cmd_remove(args: argparse.Namespace, out: Output) -> int:
    from ._export import remove  # noqa: PLC0415
    from ._venv import absolute  # noqa: PLC0415

    dest = absolute(args.dest)
    out.answer(f"removed {dest}" if remove(dest) else f"forgot {dest}, which was already gone")
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace, out: Output) -> int:
    from ._doctor import doctor  # noqa: PLC0415
    from ._registry import Registry  # noqa: PLC0415

    registry = Registry()
    items = doctor(registry)
    bad = [i for i in items if i.problems]
    if args.json:
        out.json(exports_document(items, str(registry.path)))
    else:
        for item in items:
            for problem in item.problems:
                out.answer(f"{item.dest}: {problem.what}; {problem.fix}")
            if not item.problems:
                out.detail(f"{item.dest}: ok")
        if not bad:
            out.answer(f"all {len(items)} exports are fine")
    return EXIT_PROBLEM if bad else EXIT_OK


def _issues() -> str:
    """Where bugs are reported: the distribution's ``Issues`` address, once it has one."""
    from importlib.metadata import PackageNotFoundError, metadata  # noqa: PLC0415

    try:
        urls = metadata("virtualenv-linkable").get_all("Project-URL") or []
    except PackageNotFoundError:
        return ""
    found = [url.partition(",")[2].strip() for url in urls if url.partition(",")[0].strip().lower() == "issues"]
    return f" at {found[0]}" if found else ""


def _command(sub: Any, name: str, summary: str, examples: str) -> argparse.ArgumentParser:  # noqa: ANN401
    common = argparse.ArgumentParser(add_help=False)
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_const", const=-1, dest="verbosity", help="print only errors")
    loudness.add_argument("-v", "--verbose", action="store_const", const=1, dest="verbosity", help="print details")
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"examples:\n{examples}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.set_defaults(verbosity=0)
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
    p.add_argument("dest", metavar="DEST", help="the symlink to create, as ln -s takes it")
    p.add_argument("--name", default="python", help="the interpreter in VENV/bin to link to (default: python)")
    p.add_argument("--relative", action="store_true", help="write a relative link")
    p.add_argument("--force", action="store_true", help="replace an existing DEST (atomically, never through it)")
    p.add_argument("--no-convert", action="store_true", help="refuse a VENV that is not linkable yet")
    p.set_defaults(run=_cmd_export)

    p = _command(
        sub,
        "convert",
        "make an existing venv linkable in place (or, with --revert, exactly as it was)",
        "  venvlink convert .venv\n  venvlink convert --revert .venv",
    )
    p.add_argument("venv", metavar="VENV")
    p.add_argument("--revert", action="store_true", help="put back what was there before the conversion")
    p.set_defaults(run=_cmd_convert)

    p = _command(
        sub,
        "which",
        "explain what running PATH does: each hop, the pyvenv.cfg, the interpreter, the sys.prefix",
        "  venvlink which ~/bin/tool\n  venvlink which python3\n  venvlink which --json /usr/local/bin/python",
    )
    p.add_argument("path", metavar="PATH", help="a path, or a name looked up on PATH as the shell would")
    p.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")
    p.set_defaults(run=_cmd_which)

    p = _command(sub, "list", "list the exports venvlink made, with their state", "  venvlink list --json")
    p.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")
    p.set_defaults(run=_cmd_list)

    p = _command(
        sub, "remove", "remove an export venvlink made (never the venv itself)", "  venvlink remove ~/bin/tool"
    )
    p.add_argument("dest", metavar="DEST")
    p.set_defaults(run=_cmd_remove)

    p = _command(
        sub,
        "doctor",
        "check every export and run each venv once; exit 1 with a fix for each problem",
        "  venvlink doctor\n  venvlink doctor --json",
    )
    p.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")
    p.set_defaults(run=_cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``venvlink`` command. Errors are one line on stderr; the exit status says which kind."""
    args = build_parser().parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a path is bytes: one that is not UTF-8 is printed as it is
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
    try:
        return int(args.run(args, Output(args.verbosity)))
    except VenvlinkError as error:
        print(f"venvlink: error: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    except OSError as error:
        where = f" {error.filename}:" if error.filename else ""
        print(f"venvlink: error:{where} {error.strerror or error}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        if args.verbosity > 0:
            import traceback  # noqa: PLC0415

            traceback.print_exc()
        print(
            f"venvlink: internal error: {type(error).__name__}: {error}; "
            f"please report it{_issues()} (-v shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
