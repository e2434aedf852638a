"""What venvlink knows about a venv: its pyvenv.cfg keys, its interpreter entries, what they run, whether the venv
is linkable."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import _pyvenv_cfg, _stub
from .exceptions import VenvlinkError

#: pyvenv.cfg keys venvlink writes: the marker with venvlink's version, the interpreter the stubs exec, and what
#: ``convert --revert`` puts back (JSON: each entry's link text or the place its copy was moved aside to).
MARKER_KEY = "venvlink"
EXECUTABLE_KEY = "venvlink-executable"
RESTORE_KEY = "venvlink-restore"
KEYS = (MARKER_KEY, EXECUTABLE_KEY, RESTORE_KEY)

# python, python3, python3.X and free-threaded python3.Xt; pypy, pypy3, pypy3.X: what venv creators put in bin/.
_INTERPRETER_NAME = re.compile(r"(python|pypy)(\d+(\.\d+)?t?)?")


def absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute as the kernel reads it: a ``..`` is the parent of what the directory before it really
    is (so that directory is resolved), while the last name, and a path without ``..``, stay as written."""
    joined = os.path.join(os.getcwd(), os.fspath(path))
    if ".." not in Path(joined).parts:
        return Path(os.path.normpath(joined))
    head, name = os.path.split(joined.rstrip("/"))
    if name == "..":
        return Path(os.path.realpath(joined))
    return Path(os.path.realpath(head)) / name


def pyvenv_cfg_of(venv: Path) -> Path:
    """``venv/pyvenv.cfg``, or an error saying ``venv`` is not a virtual environment."""
    cfg = venv / "pyvenv.cfg"
    if not cfg.is_file():
        what = "does not exist" if not os.path.lexists(venv) else "is not a virtual environment (no pyvenv.cfg)"
        msg = f"{venv} {what}; create one with: virtualenv --creator linkable {venv}"
        raise VenvlinkError(msg)
    return cfg


def entries(venv: Path) -> list[Path]:
    """The interpreters in ``bin/``: by their usual names, stubs, and links to the same file as ``python`` (such
    as CPython 3.13's 𝜋thon)."""
    bin_dir = venv / "bin"
    if bin_dir.is_symlink():  # venvlink never follows it out of the venv: see _atomic
        msg = (
            f"{bin_dir} is a symlink (to {os.readlink(bin_dir)}); venvlink changes only what is inside the venv "
            "itself: put the directory in its place"
        )
        raise VenvlinkError(msg)
    try:
        names = sorted(os.listdir(bin_dir))
    except OSError as error:
        msg = f"cannot list {bin_dir}: {error.strerror}; is {venv} a complete virtual environment?"
        raise VenvlinkError(msg) from None
    python = os.path.realpath(bin_dir / "python")
    found = []
    for name in names:
        entry = bin_dir / name
        if name.startswith(".") or not (entry.is_file() or entry.is_symlink()):
            continue  # a link whose interpreter is gone stays an entry: convert must say what is missing
        if (
            _INTERPRETER_NAME.fullmatch(name)
            or (entry.is_symlink() and os.path.realpath(entry) == python)
            or _stub.is_stub(entry)
        ):
            found.append(entry)
    return found


@dataclass(frozen=True)
class State:
    """A venv as venvlink sees it."""

    venv: Path
    cfg_bytes: bytes
    values: dict[str, str]
    entries: list[Path]

    @classmethod
    def read(cls, venv: Path) -> State:
        """The venv as it is now; an error when it is not a venv with an interpreter."""
        data = _pyvenv_cfg.read_bytes(pyvenv_cfg_of(venv))
        found = entries(venv)
        if not found:
            msg = f"{venv / 'bin'} has no python; is {venv} a complete virtual environment?"
            raise VenvlinkError(msg)
        return cls(venv, data, _pyvenv_cfg.parse(data), found)

    @cached_property
    def stubs(self) -> list[Path]:
        return [entry for entry in self.entries if not entry.is_symlink() and _stub.is_stub(entry)]

    @property
    def linkable(self) -> bool:
        """Every interpreter entry is a stub, and pyvenv.cfg names the interpreter they run."""
        return EXECUTABLE_KEY in self.values and len(self.stubs) == len(self.entries)

    def runs_stub(self, name: str) -> bool:
        """Whether ``bin/name`` is a stub and pyvenv.cfg names the interpreter it runs."""
        return EXECUTABLE_KEY in self.values and self.venv / "bin" / name in self.stubs

    @cached_property
    def stale(self) -> list[Path]:
        """The stubs that are not the installed stub (an older or newer venvlink made them)."""
        return [entry for entry in self.stubs if not _stub.is_current(entry.read_bytes())]
