"""The state of each export, and a check that each still does what it was made for."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ._convert import is_linkable
from ._export import foreign_prefix
from ._registry import Export, Registry
from ._walk import resolve
from .exceptions import VenvlinkError


@dataclass(frozen=True)
class Problem:
    """Something wrong with an export, and the command that fixes it."""

    what: str
    fix: str


@dataclass(frozen=True)
class Checked:
    """An export and what is wrong with it (nothing, when ``problems`` is empty)."""

    export: Export
    problems: list[Problem] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.problems[0].what if self.problems else "ok"


def _static_problems(export: Export) -> list[Problem]:
    """What can be seen without running anything: the link, the venv, the stub, the interpreter."""
    dest, venv = Path(export.dest), Path(export.venv)
    remake = f"venvlink export --force {venv} {dest}"
    if not os.path.lexists(dest):
        return [Problem("link missing", f"re-create it: {remake}; or forget it: venvlink remove {dest}")]
    now = os.readlink(dest) if dest.is_symlink() else None
    if now != export.target:
        return [Problem("link changed", f"{dest} is not the link venvlink made; to restore it: {remake}")]
    if not (venv / "pyvenv.cfg").is_file():
        return [Problem("venv missing", f"{venv} is gone; remove the export: venvlink remove {dest}")]
    if not is_linkable(venv, export.name):
        return [Problem("not linkable", f"{venv}'s python is no longer venvlink's stub; run: venvlink convert {venv}")]
    resolution = resolve(dest)
    if resolution.error is not None:
        return [Problem("cannot run", f"{resolution.error}")]
    return []


def status(registry: Registry | None = None) -> list[Checked]:
    """Each export with what can be seen wrong without running it (``venvlink list``)."""
    exports = (registry or Registry()).load()
    return [Checked(e, _static_problems(e)) for _, e in sorted(exports.items())]


def doctor(registry: Registry | None = None) -> list[Checked]:
    """Each export checked, and run once when nothing else is wrong: its ``sys.prefix`` must be its venv."""
    checked = []
    for item in status(registry):
        problems = item.problems
        if not problems:
            dest, venv = Path(item.export.dest), Path(item.export.venv)
            try:
                prefix = foreign_prefix(dest, venv)
                if prefix is not None:
                    problems = [
                        Problem("wrong prefix", f"it runs with sys.prefix {prefix}; see: venvlink which {dest}")
                    ]
            except VenvlinkError as error:
                problems = [Problem("does not run", str(error))]
        checked.append(Checked(item.export, problems))
    return checked
