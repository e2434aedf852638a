"""``venvlink doctor``."""

from __future__ import annotations

from .. import TYPE_CHECKING
from . import EXIT_OK, EXIT_PROBLEM, shown
from .listing import document

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from .._doctor import Health, Mended
    from . import Output

NAME = "doctor"
SUMMARY = (
    "check everything venvlink made; exit 1 with a fix for each problem (--fix: apply the fixes that need no choice)"
)
EXAMPLES = """\
  venvlink doctor
  venvlink doctor --fix
  venvlink doctor --json"""


def arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON document (see the reference)")
    parser.add_argument(
        "--fix",
        action="store_true",
        help="convert again the venvs a tool recreated, refresh stale stubs, forget converted venvs that are gone",
    )


def _lines(healths: list[Health], out: Output, failed: set[str]) -> None:
    """Each problem with its fix; ``failed``: the venvs ``--fix`` just tried to mend and could not (their fix is not
    offered again as one ``--fix`` does)."""
    for health in healths:
        for problem in health.problems:
            fix = f"; fix: {shown(problem.fix)}" if problem.fix else ""
            automatic = " (venvlink doctor --fix does it)" if problem.automatic and health.venv not in failed else ""
            out.answer(f"{health.key}: {problem.what}; {problem.detail}{fix}{automatic}")
        if not health.problems:
            out.detail(f"{health.key}: ok")


def _mended(mended: Mended) -> str:
    if mended.error:
        return f"could not fix {mended.venv} ({mended.what}): {mended.error}"
    if mended.what == "gone":
        return f"forgot {mended.venv}, which is gone"
    return f"fixed {mended.venv} ({mended.what}): converted it again"


def _all_fine(healths: list[Health]) -> str:
    """``the 1 export is fine``, ``all 3 exports and 2 converted venvs are fine``."""
    exports = sum(1 for health in healths if health.converted is None)
    counts = ((exports, "export"), (len(healths) - exports, "converted venv"))
    counted = [f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts if n]
    if not healths:
        return "nothing to check: nothing exported or converted yet"
    if len(healths) == 1:
        return f"the {counted[0]} is fine"
    return f"all {' and '.join(counted)} are fine"


def run(args: Namespace, out: Output) -> int:
    from .._doctor import doctor, fix, status  # noqa: PLC0415
    from .._registry import Registry  # noqa: PLC0415

    registry = Registry()
    checked = status(registry)
    mended = fix(registry, checked) if args.fix else []
    healths = doctor(registry, None if mended else checked)  # anything mended is read again
    bad = [health for health in healths if health.problems]
    if args.json:
        report = document(healths, str(registry.path))
        report["fixed"] = [{"venv": m.venv, "what": m.what, "error": m.error} for m in mended]
        out.json(report)
        return EXIT_PROBLEM if bad else EXIT_OK
    for one in mended:  # a fix that failed is a problem, which -q shows
        (out.answer if one.error else out.done)(_mended(one))
    _lines(healths, out, {one.venv for one in mended if one.error})
    if not bad:
        out.done(_all_fine(healths))
    return EXIT_PROBLEM if bad else EXIT_OK
