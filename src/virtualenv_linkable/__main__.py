"""The ``venvlink`` command: a thin layer over venvlink's Python API."""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import sys

from . import TYPE_CHECKING, __version__
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ._doctor import Item, Mended
    from ._resolve import Resolution

# Each command imports what it uses when it runs: `venvlink convert` starts in a fraction of the time.

#: the exit statuses, documented in docs/reference.rst
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: the version of every --json document; a new field keeps it, a changed or removed one raises it
SCHEMA = 2


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


def _command(argv: list[str] | None) -> str:
    return shlex.join(argv) if argv else ""


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
    out.detail(f"checked: the stub walks {result.dest} to {result.venv}, whose python runs")
    out.detail(f"recorded in {result.registry}")
    if result.path_note:
        out.note(result.path_note)
    return EXIT_OK


def _cmd_convert(args: argparse.Namespace, out: Output) -> int:
    from ._convert import convert  # noqa: PLC0415

    if args.revert and args.python:
        print("venvlink: error: --revert and --python do not go together", file=sys.stderr)
        return EXIT_USAGE
    result = convert(args.venv, revert=args.revert, python=args.python)
    names = ", ".join(result.entries)
    out.detail(f"interpreter: {result.executable}{f' ({result.interpreter})' if result.interpreter else ''}")
    if not result.changed:
        out.answer(
            f"{result.venv} has no stub; nothing to revert" if args.revert else f"{result.venv} is already linkable"
        )
    elif args.revert:
        out.answer(f"reverted {result.venv}: {names or 'pyvenv.cfg'} as before the conversion")
    elif args.python:
        out.answer(f"moved {result.venv} to {result.executable}: {names or 'pyvenv.cfg'} now run it")
    elif names:
        out.answer(f"converted {result.venv}: {names} now run {result.executable} through venvlink's stub")
    else:
        out.answer(f"converted {result.venv}: pyvenv.cfg names {result.executable} for the stub again")
    if result.note:
        out.note(result.note)
    return EXIT_OK


def which_document(resolution: Resolution) -> dict[str, Any]:
    """``venvlink which --json``: the same keys for every path; paths absolute, null where not known."""
    lost = resolution.lost_venv
    cfg = resolution.pyvenv_cfg
    venv = cfg.parent.parent if cfg is not None and cfg.parent.name == "bin" else cfg.parent if cfg else None
    # a stub that finds its venv but execs a #! wrapper outside it (as venvlink 0.2 did): CPython misses the venv
    missed = resolution.via_stub and venv is not None and resolution.prefix is None and not resolution.error
    fix = None
    if lost is not None:
        fix = ["venvlink", "convert", str(lost)]
    elif venv is not None and (resolution.stale or missed):
        fix = ["venvlink", "convert", str(venv)]
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
        "fix": fix,
    }


def _cmd_which(args: argparse.Namespace, out: Output) -> int:
    from ._resolve import resolve  # noqa: PLC0415

    resolution = resolve(args.path)
    info = which_document(resolution)
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
        out.detail(f"found by    the walk: {resolution.found}; stub of venvlink {resolution.stub_version}")
        if info["stale"]:
            out.note(f"this stub is not the installed venvlink's; upgrade it: {_command(info['fix'])}")
        elif info["fix"]:
            out.note(f"CPython will not see {info['pyvenv_cfg']} from that argv[0]; fix: {_command(info['fix'])}")
    elif info["pyvenv_cfg"] is not None:
        out.answer(f"not venvlink's stub: {info['executable']} runs and finds {info['pyvenv_cfg']} beside the path")
        out.answer(f"sys.prefix  {info['prefix']}")
    else:
        out.answer(f"not venvlink's stub: {info['executable']} runs and finds no pyvenv.cfg beside {info['path']},")
        if info["lost_venv"]:
            out.answer(f"so it runs without the venv {info['lost_venv']} (the base interpreter's packages only)")
            out.answer(f"fix: {_command(info['fix'])}")
        else:
            out.answer("so it runs as the base interpreter, without any venv")
    return EXIT_OK


def _problems(item: Item) -> list[dict[str, Any]]:
    return [{"what": p.what, "detail": p.detail, "fix": p.fix, "automatic": p.automatic} for p in item.problems]


def records_document(items: list[Item], registry: str) -> dict[str, Any]:
    """``venvlink list --json`` and ``venvlink doctor --json``: the exports, then the converted venvs no export
    runs; a registry entry that does not parse is among the exports, with nulls."""
    exports, venvs = [], []
    for item in items:
        if item.converted is not None:
            venvs.append(
                {
                    "venv": item.converted.venv,
                    "converted": item.converted.converted,
                    "state": item.state,
                    "problems": _problems(item),
                }
            )
            continue
        export = item.export
        exports.append(
            {
                "dest": item.key,
                "venv": export.venv if export else None,
                "target": export.target if export else None,
                "name": export.name if export else None,
                "created": export.created if export else None,
                "state": item.state,
                "problems": _problems(item),
            }
        )
    return {"registry": registry, "exports": exports, "venvs": venvs}


def _cmd_list(args: argparse.Namespace, out: Output) -> int:
    from ._doctor import status  # noqa: PLC0415
    from ._registry import Registry  # noqa: PLC0415

    registry = Registry()
    items = status(registry)
    if args.json:
        out.json(records_document(items, str(registry.path)))
        return EXIT_OK
    for item in items:
        if item.converted is not None:
            out.answer(f"{item.key} (converted)  [{item.state}]")
            out.detail(f"  converted {item.converted.converted}")
        else:
            out.answer(f"{item.key} -> {item.export.target if item.export else '?'}  [{item.state}]")
            if item.export is not None:
                out.detail(f"  venv {item.export.venv}, entry {item.export.name}, exported {item.export.created}")
        for problem in item.problems:
            out.detail(f"  {problem.detail}")
    if not items:
        out.note("nothing exported or converted yet; export a venv with: venvlink export VENV")
    out.detail(f"registry: {registry.path}")
    return EXIT_OK


def _cmd_remove(args: argparse.Namespace, out: Output) -> int:
    from ._export import remove  # noqa: PLC0415
    from ._paths import absolute  # noqa: PLC0415
    from ._registry import Registry  # noqa: PLC0415

    dest = absolute(args.dest)
    registry = Registry()
    done = remove(dest, forget=args.forget, registry=registry)
    out.answer(
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


def _doctor_lines(items: list[Item], out: Output) -> None:
    for item in items:
        for problem in item.problems:
            fix = f"; fix: {_command(problem.fix)}" if problem.fix else ""
            automatic = " (venvlink doctor --fix does it)" if problem.automatic else ""
            out.answer(f"{item.key}: {problem.what}; {problem.detail}{fix}{automatic}")
        if not item.problems:
            out.detail(f"{item.key}: ok")


def _fixed_line(mended: Mended) -> str:
    if mended.error:
        return f"could not fix {mended.venv} ({mended.what}): {mended.error}"
    if mended.what == "gone":
        return f"forgot {mended.venv}, which is gone"
    return f"fixed {mended.venv} ({mended.what}): converted it again"


def _cmd_doctor(args: argparse.Namespace, out: Output) -> int:
    from ._doctor import doctor, fix  # noqa: PLC0415
    from ._registry import Registry  # noqa: PLC0415

    registry = Registry()
    mended = fix(registry) if args.fix else []
    items = doctor(registry)
    bad = [i for i in items if i.problems]
    if args.json:
        document = records_document(items, str(registry.path))
        document["fixed"] = [{"venv": m.venv, "what": m.what, "error": m.error} for m in mended]
        out.json(document)
        return EXIT_PROBLEM if bad else EXIT_OK
    for one in mended:
        out.answer(_fixed_line(one))
    _doctor_lines(items, out)
    if not bad:
        exports = sum(1 for i in items if i.converted is None)
        venvs = len(items) - exports
        counted = [_counted(n, noun) for n, noun in ((exports, "export"), (venvs, "converted venv")) if n]
        if not items:
            out.answer("nothing to check: nothing exported or converted yet")
        elif len(items) == 1:
            out.answer(f"the {counted[0]} is fine")
        else:
            out.answer(f"all {' and '.join(counted)} are fine")
    return EXIT_PROBLEM if bad else EXIT_OK


def _cmd_completion(args: argparse.Namespace, out: Output) -> int:
    from argcomplete.shell_integration import shellcode  # noqa: PLC0415

    sys.stdout.write(shellcode(["venvlink"], shell=args.shell))
    return EXIT_OK


def _loudness(parser: argparse.ArgumentParser, default: object) -> None:
    """-q and -v, before the command (``venvlink -v doctor``) or after it (``venvlink doctor -v``)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", action="store_const", const=-1, dest="verbosity", default=default, help="print only errors"
    )
    group.add_argument(
        "-v", "--verbose", action="store_const", const=1, dest="verbosity", default=default, help="print details"
    )


def _command_parser(sub: Any, name: str, summary: str, examples: str, *, loud: bool = True) -> argparse.ArgumentParser:  # noqa: ANN401
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"examples:\n{examples}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if loud:  # SUPPRESS: a -v given before the command is not undone here
        _loudness(parser, argparse.SUPPRESS)
    return parser


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

    p = _command_parser(
        sub,
        "export",
        "make DEST a symlink to VENV's python that runs with VENV's packages",
        "  venvlink export ~/venvs/black\n"
        "  venvlink export ~/venvs/tool ~/bin/tool\n"
        "  venvlink export --relative --name python3 /opt/venv /usr/local/bin/python3\n"
        "  venvlink export --force ~/venvs/tool-v2 ~/bin/tool",
    )
    p.add_argument("venv", metavar="VENV", help="a virtual environment (converted to linkable if it is not)")
    p.add_argument(
        "dest",
        metavar="DEST",
        nargs="?",
        help="the symlink to create, as ln -s takes it (default: VENV's directory name in $VENVLINK_BIN_DIR, "
        "$XDG_BIN_HOME or ~/.local/bin)",
    )
    p.add_argument("--name", default="python", help="the interpreter in VENV/bin to link to (default: python)")
    p.add_argument("--relative", action="store_true", help="write a relative link")
    p.add_argument("--force", action="store_true", help="replace an existing DEST (atomically, never through it)")
    p.add_argument("--no-convert", action="store_true", help="refuse a VENV that is not linkable yet")
    p.set_defaults(run=_cmd_export)

    p = _command_parser(
        sub,
        "convert",
        "make an existing venv linkable in place (--revert: exactly as it was; --python: onto another interpreter "
        "of the same version)",
        "  venvlink convert .venv\n  venvlink convert --revert .venv\n"
        "  venvlink convert --python ~/.pyenv/versions/3.12.8/bin/python3.12 .venv",
    )
    p.add_argument("venv", metavar="VENV")
    p.add_argument("--revert", action="store_true", help="put back what was there before the conversion")
    p.add_argument(
        "--python",
        metavar="PYTHON",
        help="move VENV to this interpreter: the same implementation and X.Y (free-threaded or not) as VENV's, "
        "for a base interpreter removed or upgraded to a new patch release",
    )
    p.set_defaults(run=_cmd_convert)

    p = _command_parser(
        sub,
        "which",
        "explain what running PATH does: each hop, the pyvenv.cfg, the interpreter, the sys.prefix",
        "  venvlink which ~/bin/tool\n  venvlink which python3\n  venvlink which --json /usr/local/bin/python",
    )
    p.add_argument("path", metavar="PATH", help="a path, or a name looked up on PATH as the shell would")
    p.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")
    p.set_defaults(run=_cmd_which)

    p = _command_parser(
        sub, "list", "list the exports and converted venvs venvlink made, with their state", "  venvlink list --json"
    )
    p.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")
    p.set_defaults(run=_cmd_list)

    p = _command_parser(
        sub,
        "remove",
        "remove an export venvlink made (never the venv itself)",
        "  venvlink remove ~/bin/tool\n  venvlink remove --forget ~/bin/tool",
    )
    p.add_argument("dest", metavar="DEST", help="an export's link (with --forget: or a converted venv)")
    p.add_argument("--forget", action="store_true", help="only drop its entry from venvlink's registry; leave the file")
    p.set_defaults(run=_cmd_remove)

    p = _command_parser(
        sub,
        "doctor",
        "check everything venvlink made; exit 1 with a fix for each problem (--fix: apply the fixes that need "
        "no choice)",
        "  venvlink doctor\n  venvlink doctor --fix\n  venvlink doctor --json",
    )
    p.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")
    p.add_argument(
        "--fix",
        action="store_true",
        help="convert again the venvs a tool recreated, refresh stale stubs, forget converted venvs that are gone",
    )
    p.set_defaults(run=_cmd_doctor)

    p = _command_parser(
        sub,
        "completion",
        "print the shell code that completes venvlink's commands and options (argcomplete)",
        "  venvlink completion bash > ~/.local/share/bash-completion/completions/venvlink\n"
        "  venvlink completion fish > ~/.config/fish/completions/venvlink.fish\n"
        '  eval "$(venvlink completion zsh)"',
        loud=False,
    )
    p.add_argument("shell", choices=["bash", "zsh", "fish"])
    p.set_defaults(run=_cmd_completion)
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
        print(f"venvlink: error: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    except OSError as error:
        where = f" {error.filename}:" if error.filename else ""
        print(f"venvlink: error:{where} {error.strerror or error}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        if verbosity > 0:
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
