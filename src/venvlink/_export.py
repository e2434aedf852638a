"""Export a venv's interpreter as a symlink elsewhere, and take such an export back."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ._convert import convert, is_linkable, pyvenv_cfg_of
from ._install import new_symlink
from ._registry import Export, Registry
from ._walk import _same_file
from .exceptions import VenvlinkError

_PREFIX = "import sys; print(sys.prefix)"


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` did.

    :ivar dest: the link made
    :ivar target: the link's text
    :ivar venv: the venv it runs
    :ivar converted: whether the venv had to be made linkable first
    :ivar replaced: whether ``dest`` existed and was replaced (``force``)
    :ivar on_path: whether ``dest``'s directory is on ``PATH``
    """

    dest: Path
    target: str
    venv: Path
    converted: bool
    replaced: bool
    on_path: bool

    @property
    def path_note(self) -> str | None:
        """What to tell the user when ``dest`` cannot be run by its name, as pipx does; ``None`` when it can."""
        if self.on_path:
            return None
        return f"{self.dest.parent} is not on PATH; add it to run {self.dest.name} by name"


def _absolute(path: str | os.PathLike[str]) -> Path:
    """Absolute against the cwd, as ``ln -s`` takes it: no symlink resolved, nothing normalised but the join."""
    return Path(os.path.abspath(path))


def prefix_of(python: Path) -> str:
    """The ``sys.prefix`` ``python`` runs with, or an error with what it printed."""
    try:
        result = subprocess.run(
            [str(python), "-I", "-c", _PREFIX], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        msg = f"cannot run {python}: {error}"
        raise VenvlinkError(msg) from None
    if result.returncode != 0:
        said = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        msg = f"running {python} failed: {said}"
        raise VenvlinkError(msg)
    return result.stdout.strip()


def foreign_prefix(python: Path, venv: Path) -> str | None:
    """Run ``python`` once: the ``sys.prefix`` it runs with when that is not ``venv``, else ``None``."""
    prefix = prefix_of(python)
    return None if _same_file(prefix, str(venv)) else prefix


def on_path(directory: Path) -> bool:
    """Whether ``directory`` is one of the ``PATH`` entries (the same directory, by any name)."""
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        try:
            if entry and os.path.samefile(entry, directory):
                return True
        except OSError:
            continue
    return False


def _check(venv: Path, dest: Path, name: str, *, force: bool) -> Path:
    """Refuse what export must not do, before anything changes; the interpreter entry to link to."""
    pyvenv_cfg_of(venv)
    entry = venv / "bin" / name
    if not os.path.lexists(entry):
        msg = f"{entry} does not exist; choose one of the interpreters in {venv / 'bin'} with --name"
        raise VenvlinkError(msg)
    if dest.is_dir() and not dest.is_symlink():
        msg = f"{dest} is a directory; give the path of the link to create in it, such as {dest / name}"
        raise VenvlinkError(msg)
    if os.path.lexists(dest) and not force:
        msg = f"{dest} already exists; pass --force to replace it"
        raise VenvlinkError(msg)
    if not dest.parent.is_dir():
        msg = f"{dest.parent} does not exist; create it first (mkdir -p {dest.parent})"
        raise VenvlinkError(msg)
    return entry


def _place(temporary: Path, record: Export, exports: dict[str, Export], registry: Registry) -> None:
    """Check the new link runs its venv, record it, then rename it over dest; on any failure, record nothing."""
    dest, venv = Path(record.dest), Path(record.venv)
    previous = exports.get(record.dest)
    try:
        # The link runs under its temporary name, in dest's directory: the walk is the same as from dest.
        prefix = foreign_prefix(temporary, venv)
        if prefix is not None:
            msg = (
                f"{dest} would run with sys.prefix = {prefix}, not {venv}; nothing was changed "
                f"(see: venvlink which {venv / 'bin' / record.name})"
            )
            raise VenvlinkError(msg)
        # Recorded before the rename: if we die between the two, doctor knows the export and how to mend it;
        # the other order would leave a link venvlink knows nothing of.
        exports[record.dest] = record
        registry.save(exports)
        try:
            temporary.replace(dest)
        except OSError as error:
            msg = f"cannot replace {dest}: {error.strerror}; nothing was changed"
            raise VenvlinkError(msg) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        if exports.get(record.dest) is not previous:
            if previous is None:
                del exports[record.dest]
            else:
                exports[record.dest] = previous
            registry.save(exports)
        raise


def export(  # noqa: PLR0913  # keyword-only options, one per CLI flag
    venv: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    name: str = "python",
    relative: bool = False,
    force: bool = False,
    convert_venv: bool = True,
    registry: Registry | None = None,
) -> ExportResult:
    """Make ``dest`` a symlink to ``venv``'s interpreter ``name`` that runs with ``venv``'s packages.

    A venv that is not linkable yet is converted first (unless ``convert_venv`` is false). An existing
    ``dest`` is replaced only with ``force``, atomically, and never written through. The new link is run once
    before it takes ``dest``'s place; if its ``sys.prefix`` is not ``venv``, nothing is changed.
    """
    venv, dest = _absolute(venv), _absolute(dest)
    entry = _check(venv, dest, name, force=force)
    existed = os.path.lexists(dest)
    registry = registry or Registry()
    target = os.path.relpath(entry, dest.parent) if relative else str(entry)
    record = Export(str(dest), str(venv), target, name, datetime.now(timezone.utc).isoformat(timespec="seconds"))

    with registry.change() as exports:
        converted = not is_linkable(venv, name)
        if converted and not convert_venv:
            msg = (
                f"{venv} is not linkable: a link to it would run the base interpreter without it; "
                f"run: venvlink convert {venv}"
            )
            raise VenvlinkError(msg)
        try:
            if converted:
                convert(venv)  # undoes its own steps if one fails
            _place(new_symlink(dest.parent, dest.name, target), record, exports, registry)
        except BaseException:
            if converted and is_linkable(venv, name):
                convert(venv, revert=True)
            raise
    return ExportResult(dest, target, venv, converted, existed, on_path(dest.parent))


def remove(dest: str | os.PathLike[str], *, registry: Registry | None = None) -> bool:
    """Remove an export venvlink made, if it is still the link venvlink made; never touch the venv.

    Returns whether a link was removed (``False``: it was already gone, and is now forgotten).
    """
    dest = _absolute(dest)
    registry = registry or Registry()
    with registry.change() as exports:
        record = exports.get(str(dest))
        if record is None:
            msg = f"{dest} is not an export of venvlink (not in {registry.path}); if you made it, remove it yourself"
            raise VenvlinkError(msg)
        if not os.path.lexists(dest):
            del exports[str(dest)]
            return False
        now = os.readlink(dest) if dest.is_symlink() else None
        if now != record.target:
            what = "is no longer a symlink" if now is None else f"now points to {now}, not {record.target}"
            msg = f"{dest} {what}; venvlink did not make it so and leaves it; remove it yourself, then run this again"
            raise VenvlinkError(msg)
        dest.unlink()
        del exports[str(dest)]
        return True
