"""The state of each export, and a check that each still does what it was made for."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import _stub
from ._export import prefix_of, same_directory
from ._registry import Export, Registry
from ._venv import State
from .exceptions import VenvlinkError


@dataclass(frozen=True)
class Problem:
    """Something wrong with an export, and the command that fixes it."""

    what: str
    fix: str


@dataclass(frozen=True)
class Checked:
    """An export (``None`` for a registry entry that does not parse) and what is wrong with it."""

    dest: str
    export: Export | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.problems[0].what if self.problems else "ok"


def _venv_states(exports: list[Export]) -> dict[str, State | None]:
    """Each distinct venv read once; ``None`` for one that is gone."""
    states: dict[str, State | None] = {}
    for export in exports:
        if export.venv not in states:
            try:
                states[export.venv] = State.read(Path(export.venv))
            except VenvlinkError:
                states[export.venv] = None
    return states


def _static_problems(export: Export, state: State | None) -> list[Problem]:
    """What can be seen without running anything: the link, the venv, its stubs."""
    dest, venv = Path(export.dest), Path(export.venv)
    remake = f"venvlink export --force {venv} {dest}"
    if not os.path.lexists(dest):
        return [Problem("link missing", f"re-create it: {remake}; or forget it: venvlink remove {dest}")]
    now = os.readlink(dest) if dest.is_symlink() else None
    if now != export.target:
        return [Problem("link changed", f"{dest} is not the link venvlink made; to restore it: {remake}")]
    if state is None and not (venv / "pyvenv.cfg").is_file():
        return [Problem("venv missing", f"{venv} is gone; remove the export: venvlink remove {dest}")]
    if state is None or not state.linkable or not state.runs_stub(export.name):
        return [Problem("not linkable", f"{venv}'s python is no longer venvlink's stub; run: venvlink convert {venv}")]
    if state.stale:
        return [
            Problem(
                "stale stub",
                f"{venv}'s stubs are not the installed venvlink's (upgrade them): venvlink convert {venv}",
            )
        ]
    return []


def status(registry: Registry | None = None) -> list[Checked]:
    """Each export with what can be seen wrong without running it (``venvlink list``)."""
    registry = registry or Registry()
    exports = registry.load()
    states = _venv_states(list(exports.values()))
    checked = [Checked(dest, e, _static_problems(e, states[e.venv])) for dest, e in exports.items()]
    checked += [
        Checked(dest, None, [Problem("malformed", f"its registry entry {why}; forget it: venvlink remove {dest}")])
        for dest, why in registry.malformed.items()
    ]
    return sorted(checked, key=lambda item: item.dest)


def _runs_in(venv: str, name: str) -> Problem | None:
    """Run the venv's own interpreter once: it must start, with the venv as sys.prefix."""
    python = Path(venv) / "bin" / name
    try:
        prefix = prefix_of(python)
    except VenvlinkError as error:
        return Problem("does not run", str(error))
    if not same_directory(prefix, venv):
        return Problem("wrong prefix", f"{python} runs with sys.prefix {prefix}; see: venvlink which {python}")
    return None


def doctor(registry: Registry | None = None) -> list[Checked]:
    """Each export checked: the stub walks every link (one batch), and each distinct venv's interpreter runs once
    (in parallel); together they say that the link runs its venv."""
    checked = status(registry)
    healthy = [item for item in checked if not item.problems and item.export is not None]
    walks = dict(zip([item.dest for item in healthy], _stub.explain([item.dest for item in healthy])))
    venvs = sorted({(item.export.venv, item.export.name) for item in healthy if item.export})
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        runs = dict(zip(venvs, pool.map(lambda pair: _runs_in(*pair), venvs)))
    result = []
    for item in checked:
        export = item.export
        if item.dest in walks and export is not None:
            walked = walks[item.dest]
            problem = runs[(export.venv, export.name)]
            if walked.status != 0:
                problem = Problem("cannot run", walked.error or f"the stub would exit {walked.status}")
            elif walked.prefix is None or not same_directory(walked.prefix, export.venv):
                problem = Problem(
                    "wrong venv",
                    f"{item.dest} runs with sys.prefix {walked.prefix or 'of the base interpreter'}; "
                    f"see: venvlink which {item.dest}",
                )
            item = Checked(item.dest, export, [problem] if problem else [])  # noqa: PLW2901
        result.append(item)
    return result
