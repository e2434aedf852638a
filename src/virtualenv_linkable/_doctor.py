"""The state of everything venvlink made (exports, converted venvs), what is wrong with it, and mending it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import TYPE_CHECKING, _stub
from ._convert import convert
from ._interpreter import candidates, is_pyenv_shim
from ._paths import same_directory
from ._registry import Converted, Export, Registry
from ._venv import EXECUTABLE_KEY, Venv
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any


@dataclass(frozen=True)
class Problem:
    """Something wrong, and the command that mends it.

    :ivar what: the state, in a few words (``recreated``, ``stale stub``, ...)
    :ivar detail: one sentence on what is wrong
    :ivar fix: the command that mends it, as the arguments a program runs; None when venvlink cannot
    :ivar automatic: whether ``venvlink doctor --fix`` runs it (it needs no choice of yours)
    """

    what: str
    detail: str
    fix: list[str] | None = None
    automatic: bool = False


@dataclass(frozen=True)
class Health:
    """An export (``export`` set), a converted venv no export runs (``converted`` set), or a registry entry that
    does not parse (neither), with what is wrong with it."""

    key: str
    export: Export | None = None
    converted: Converted | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def venv(self) -> str | None:
        return self.export.venv if self.export else self.converted.venv if self.converted else None

    @property
    def state(self) -> str:
        return self.problems[0].what if self.problems else "ok"


def _read(venv: str) -> Venv | str:
    """The venv, or why it cannot be read (its files may be another user's, made to fail)."""
    try:
        return Venv.read(Path(venv))
    except VenvlinkError as error:
        return str(error)
    except OSError as error:
        return f"cannot read {error.filename}: {error.strerror}"


def _venv_problems(venv: str, name: str, state: Venv | str, *, dest: str | None) -> list[Problem]:
    """What can be seen wrong with a venv without running anything (``name``: the entry links lead to; ``dest``:
    the export's link, None for a converted venv); the first of :func:`_venv_checks` that finds something."""
    return next(([problem] for problem in _venv_checks(venv, name, state, dest=dest)), [])


def _venv_checks(venv: str, name: str, state: Venv | str, *, dest: str | None) -> Iterator[Problem]:
    convert_it = ["venvlink", "convert", venv]
    exported = dest is not None
    if isinstance(state, str):
        if os.path.lexists(venv):
            yield Problem("not a venv", state)
        elif dest is not None:  # the link venvlink made leads nowhere now: remove it, and forget it
            yield Problem("venv missing", f"{venv} is gone", ["venvlink", "remove", dest])
        else:
            yield Problem("gone", f"{venv} is gone", ["venvlink", "remove", "--forget", venv], automatic=True)
        return
    entry = state.venv / "bin" / name
    if state.root / "bin" / name not in state.stubs:
        runs = "runs the base interpreter without the venv" if exported else "would run without the venv"
        detail = f"{entry} is no longer venvlink's stub (a tool recreated or reverted the venv): a link to it {runs}"
        yield Problem("recreated", detail, convert_it, automatic=True)
    if state.interpreter is not None and not os.path.exists(state.interpreter):  # False for a name too long, too
        fix = ["venvlink", "convert", "--python", "PYTHON", venv]
        detail = f"its interpreter {state.interpreter} was removed; move the venv to another of the same version"
        yield Problem("interpreter gone", detail, fix)
    if state.interpreter is not None and is_pyenv_shim(state.interpreter):
        fix = ["venvlink", "convert", "--python", "PYTHON", venv]
        detail = f"its interpreter {state.interpreter} is pyenv's shim, which runs whichever Python pyenv selects"
        yield Problem("shim", detail, fix)
    if EXECUTABLE_KEY not in state.values:
        detail = f"{venv}/pyvenv.cfg lost venvlink's keys (python -m venv --upgrade rewrites it)"
        yield Problem("keys lost", detail, convert_it, automatic=True)
    if not state.linkable:
        names = ", ".join(e.name for e in state.entries if e not in state.stubs)
        yield Problem("not linkable", f"{names} in {venv}/bin are not venvlink's stub", convert_it, automatic=True)
    if state.stale:
        yield Problem("stale stub", f"{venv}'s stubs are not the installed venvlink's", convert_it, automatic=True)


def _export_problems(export: Export, state: Venv | str) -> list[Problem]:
    """What can be seen wrong with an export without running anything: the link, then its venv."""
    dest, venv = export.dest, export.venv
    if not os.path.lexists(dest):
        detail = f"{dest} is gone; to forget it: venvlink remove {dest}"
        return [Problem("link missing", detail, ["venvlink", "export", "--force", venv, dest])]
    now = os.readlink(dest) if os.path.islink(dest) else None
    if now != export.target:
        detail = f"{dest} is not the link venvlink made; to restore it: venvlink export --force {venv} {dest}"
        return [Problem("link changed", detail, ["venvlink", "remove", "--forget", dest])]
    return _venv_problems(venv, export.name, state, dest=dest)


def _unless_unreadable(check: Callable[..., list[Problem]], *args: Any, **kwargs: Any) -> list[Problem]:  # noqa: ANN401
    """``check``'s problems; what made it fail as the one problem, for one entry's files (another user's, made
    to fail) must not stop the command for every other entry."""
    try:
        return check(*args, **kwargs)
    except VenvlinkError as error:
        return [Problem("unreadable", str(error))]
    except OSError as error:
        return [Problem("unreadable", f"cannot read {error.filename}: {error.strerror}")]


def status(registry: Registry | None = None) -> list[Health]:
    """Everything venvlink made, with what can be seen wrong without running anything (``venvlink list``)."""
    registry = registry or Registry()
    records = registry.load()
    exported = {export.venv for export in records.exports.values()}
    states = {venv: _read(venv) for venv in sorted(exported | set(records.venvs))}
    healths = [
        Health(key, export=e, problems=_unless_unreadable(_export_problems, e, states[e.venv]))
        for key, e in records.exports.items()
    ]
    healths += [
        Health(venv, converted=c, problems=_unless_unreadable(_venv_problems, venv, "python", states[venv], dest=None))
        for venv, c in records.venvs.items()
        if venv not in exported
    ]
    healths += [
        Health(key, problems=[Problem("malformed", f"its registry entry {why}", ["venvlink", "remove", key])])
        for key, why in registry.malformed.items()
    ]
    return sorted(healths, key=lambda item: (item.converted is not None, item.key))


def _with_candidate(problem: Problem, state: Venv | str) -> Problem:
    """A same-version interpreter in the command that moves a venv whose interpreter is gone, if one is found."""
    if problem.what != "interpreter gone" or isinstance(state, str) or problem.fix is None:
        return problem
    kind = state.made_for()
    found = candidates(kind) if kind else []
    fix = [*problem.fix[:3], str(found[0]) if found else "PYTHON", *problem.fix[4:]]
    where = f"found {found[0]}" if found else "none found on PATH, in pyenv or in uv's Pythons"
    return Problem(problem.what, f"{problem.detail} ({where})", fix)


def doctor(registry: Registry | None = None, checked: list[Health] | None = None) -> list[Health]:
    """Everything checked: the stub explains each export's link and each converted venv's python (in batches; no
    Python is started), which must run its venv. ``checked``: :func:`status`'s answer, if it is at hand."""
    checked = status(registry) if checked is None else checked
    healthy = {item.key: item for item in checked if not item.problems and item.venv is not None}
    paths = {key: key if item.export else str(Path(key) / "bin" / "python") for key, item in healthy.items()}
    walks = dict(zip(paths, _stub.explain(list(paths.values()))))
    result = []
    for item in checked:
        problems = [_with_candidate(p, _read(item.venv)) if item.venv else p for p in item.problems]
        walked = walks.get(item.key)
        if walked is not None and walked.status != 0:
            problems = [Problem("cannot run", walked.error or f"the stub would exit {walked.status}")]
        elif walked is not None and (walked.prefix is None or not same_directory(walked.prefix, item.venv or "")):
            runs = walked.prefix or "the base interpreter, without a venv"
            detail = f"{paths[item.key]} runs with sys.prefix {runs}; see: venvlink which {paths[item.key]}"
            problems = [Problem("wrong venv", detail)]
        result.append(Health(item.key, item.export, item.converted, problems))
    return result


@dataclass(frozen=True)
class Mended:
    """What ``doctor --fix`` did for one venv: the problem mended, or why it could not be."""

    venv: str
    what: str
    error: str | None = None


def fix(registry: Registry | None = None, checked: list[Health] | None = None) -> list[Mended]:
    """Run every automatic fix: convert again each venv a tool recreated, whose keys were lost or whose stubs are
    stale (once per venv), and forget converted venvs that are gone. ``checked``: :func:`status`'s answer, if it
    is at hand."""
    registry = registry or Registry()
    mended: list[Mended] = []
    done: set[str] = set()
    for item in status(registry) if checked is None else checked:
        for problem in item.problems:
            venv = item.venv
            if not problem.automatic or venv is None or venv in done:
                continue
            done.add(venv)
            try:
                if problem.what == "gone":
                    with registry.change() as records:
                        records.venvs.pop(venv, None)
                else:
                    convert(venv)
            except VenvlinkError as error:
                mended.append(Mended(venv, problem.what, str(error)))
            except OSError as error:  # one venv's files, made to fail, stop no other venv's fix
                mended.append(Mended(venv, problem.what, f"cannot change {error.filename}: {error.strerror}"))
            else:
                mended.append(Mended(venv, problem.what))
    return mended
