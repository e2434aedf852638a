"""Make an existing CPython venv linkable in place, or plain again."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import __version__, _pyvenv_cfg
from ._install import EXECUTABLE_KEY, MARKER_KEY, install_stub, is_stub, replace_with_symlink
from ._walk import resolve
from .exceptions import VenvlinkError

# python, python3, python3.X (and free-threaded python3.Xt): what venv creators put in bin/.
_INTERPRETER_NAME = re.compile(r"python(3(\.\d+t?)?)?")


@dataclass(frozen=True)
class Conversion:
    """What :func:`convert` did.

    :ivar venv: the venv
    :ivar executable: the interpreter its stubs run (or, reverted, its links point at)
    :ivar entries: the names in ``bin/`` that were replaced
    :ivar rewrote_cfg: whether venvlink's keys in ``pyvenv.cfg`` were added, corrected or removed
    """

    venv: Path
    executable: Path
    entries: list[str]
    rewrote_cfg: bool

    @property
    def changed(self) -> bool:
        return bool(self.entries) or self.rewrote_cfg


def pyvenv_cfg_of(venv: Path) -> Path:
    """``venv/pyvenv.cfg``, or an error saying ``venv`` is not a virtual environment."""
    cfg = venv / "pyvenv.cfg"
    if not cfg.is_file():
        msg = (
            f"{venv} is not a virtual environment (no pyvenv.cfg); "
            f"create one with: virtualenv --creator linkable {venv}"
        )
        raise VenvlinkError(msg)
    return cfg


def is_linkable(venv: Path, name: str = "python") -> bool:
    """Whether ``venv/bin/name`` is a stub that knows its interpreter."""
    try:
        values = _pyvenv_cfg.read(venv / "pyvenv.cfg")
    except (OSError, VenvlinkError):
        return False
    return EXECUTABLE_KEY in values and is_stub(venv / "bin" / name)


def _interpreter_entries(bin_dir: Path, executable: Path) -> list[Path]:
    """The interpreters in ``bin/``: by their usual names, or as links to the interpreter (3.12+'s 𝜋thon)."""
    entries = []
    for entry in sorted(bin_dir.iterdir()):
        if _INTERPRETER_NAME.fullmatch(entry.name) or (
            entry.is_symlink() and os.path.realpath(entry) == os.path.realpath(executable)
        ):
            entries.append(entry)
    return entries


def _target(venv: Path) -> tuple[Path, dict[str, str]]:
    """The interpreter the venv runs, as the stub would find it; refused unless it is a CPython."""
    cfg = pyvenv_cfg_of(venv)
    values = _pyvenv_cfg.read(cfg)
    resolution = resolve(venv / "bin" / "python")
    if resolution.error is not None or resolution.executable is None:
        msg = f"cannot convert {venv}: {resolution.error}"
        raise VenvlinkError(msg)
    executable = resolution.executable
    real_name = Path(os.path.realpath(executable)).name
    implementation = values.get("implementation", "CPython")
    if implementation.lower() != "cpython" or not real_name.startswith("python") or is_stub(executable):
        msg = f"cannot convert {venv}: its interpreter {executable} is not CPython; venvlink supports CPython only"
        raise VenvlinkError(msg)
    return executable, values


def convert(venv: str | os.PathLike[str], *, revert: bool = False) -> Conversion:
    """Make ``venv`` linkable in place: each interpreter in ``bin/`` becomes the stub. Idempotent.

    With ``revert``, make it plain again: each stub becomes a symlink to the interpreter it ran.
    Every step is an atomic rename, ordered so that the venv runs at every moment: the pyvenv.cfg keys go in
    before the stubs, and come out after them.
    """
    venv = Path(os.path.abspath(venv))
    executable, values = _target(venv)
    bin_dir = venv / "bin"
    entries = _interpreter_entries(bin_dir, executable)
    if not entries:
        msg = f"{bin_dir} has no python; is {venv} a complete virtual environment?"
        raise VenvlinkError(msg)
    had_keys = MARKER_KEY in values or EXECUTABLE_KEY in values
    if revert:
        stubs = [entry for entry in entries if is_stub(entry)]
        _unlink_stubs(venv, executable, stubs, drop_keys=had_keys)
        return Conversion(venv, executable, [e.name for e in stubs], rewrote_cfg=had_keys)
    wanted = {MARKER_KEY: __version__, EXECUTABLE_KEY: str(executable)}
    rewrite = any(values.get(key) != value for key, value in wanted.items())
    plain = [entry for entry in entries if not is_stub(entry)]
    try:
        if rewrite:
            _pyvenv_cfg.rewrite(venv / "pyvenv.cfg", dict(wanted))
        install_stub(bin_dir, [entry.name for entry in plain])
    except BaseException:
        # Back to where we started: the entries this call made stubs, and the keys if it added them.
        _unlink_stubs(venv, executable, [e for e in plain if is_stub(e)], drop_keys=not had_keys)
        raise
    return Conversion(venv, executable, [e.name for e in plain], rewrote_cfg=rewrite)


def _unlink_stubs(venv: Path, executable: Path, stubs: list[Path], *, drop_keys: bool) -> None:
    """Stubs back to links to the interpreter, then the keys out: the order in which the venv runs throughout."""
    for entry in stubs:
        replace_with_symlink(entry, str(executable))
    if drop_keys:
        _pyvenv_cfg.rewrite(venv / "pyvenv.cfg", {MARKER_KEY: None, EXECUTABLE_KEY: None})
