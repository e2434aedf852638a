"""``venvlink which``."""

from __future__ import annotations

from .. import TYPE_CHECKING
from . import EXIT_OK, EXIT_PROBLEM, shown, text

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from typing import Any

    from .._resolve import Resolution
    from . import Output

NAME = "which"
SUMMARY = "explain what running PATH does: each hop, the pyvenv.cfg, the interpreter, the sys.prefix"
EXAMPLES = """\
  venvlink which ~/bin/tool
  venvlink which python3
  venvlink which --json ~/bin/tool"""


def arguments(parser: ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a path, or a name looked up on PATH as the shell would")
    parser.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")


def document(resolution: Resolution) -> dict[str, Any]:
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
        "pyvenv_cfg": text(resolution.pyvenv_cfg),
        "executable": text(resolution.executable),
        "named_by": resolution.named_by,
        "argv0": resolution.argv0,
        "prefix": text(resolution.prefix),
        "error": resolution.error,
        "stale": resolution.stale,
        "lost_venv": text(lost),
        "fix": fix,
    }


def run(args: Namespace, out: Output) -> int:
    from .._resolve import resolve  # noqa: PLC0415

    resolution = resolve(args.path)
    info = document(resolution)
    if args.json:
        out.json(info)
        return EXIT_PROBLEM if info["error"] else EXIT_OK
    out.answer(info["hops"][0])
    for hop in info["hops"][1:]:
        out.answer(f"  -> {hop}")
    if info["error"]:
        out.error(info["error"])
        return EXIT_PROBLEM
    if info["via_stub"]:
        out.answer(f"pyvenv.cfg  {info['pyvenv_cfg'] or '(none: the interpreter recorded in this stub)'}")
        out.answer(f"runs        {info['executable']} (named by {info['named_by']})")
        out.answer(f"as          {info['argv0']}")
        out.answer(f"sys.prefix  {info['prefix'] or '(no venv)'}")
        out.detail(f"found by    the walk: {resolution.found}; stub of venvlink {resolution.stub_version}")
        if info["stale"]:
            out.warning(f"this stub is not the installed venvlink's; upgrade it: {shown(info['fix'])}")
        elif info["fix"]:
            out.warning(f"CPython will not see {info['pyvenv_cfg']} from that argv[0]; fix: {shown(info['fix'])}")
    elif info["pyvenv_cfg"] is not None:
        out.answer(f"not venvlink's stub: {info['executable']} runs and finds {info['pyvenv_cfg']} beside the path")
        out.answer(f"sys.prefix  {info['prefix']}")
    else:
        out.answer(f"not venvlink's stub: {info['executable']} runs and finds no pyvenv.cfg beside {info['path']},")
        if info["lost_venv"]:
            out.answer(f"so it runs without the venv {info['lost_venv']} (the base interpreter's packages only)")
            out.answer(f"fix: {shown(info['fix'])}")
        else:
            out.answer("so it runs as the base interpreter, without any venv")
    return EXIT_OK
