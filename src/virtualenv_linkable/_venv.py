"""What venvlink knows about a venv: its pyvenv.cfg keys, its interpreter entries, what they run, whether the venv
is linkable."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from . import TYPE_CHECKING, _pyvenv_cfg, _stub
from ._interpreter import ENTRY_NAME, LIB_NAME
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from ._atomic import Directory

#: pyvenv.cfg keys venvlink writes: the marker with venvlink's version, the interpreter the stubs exec, and what
#: ``convert --revert`` puts back (JSON: each entry's link text or the place its copy was moved aside to).
MARKER_KEY = "venvlink"
EXECUTABLE_KEY = "venvlink-executable"
RESTORE_KEY = "venvlink-restore"
KEYS = (MARKER_KEY, EXECUTABLE_KEY, RESTORE_KEY)

# python, python3, python3.X and free-threaded python3.Xt; pypy, pypy3, pypy3.X: what venv creators put in bin/.


def pyvenv_cfg_of(venv: Path, root: Path | None = None) -> Path:
    """``venv/pyvenv.cfg`` (read through ``root``), or an error saying what ``venv`` is, and what it should be."""
    cfg = (root or venv) / "pyvenv.cfg"
    if cfg.is_file():
        return cfg
    if not os.path.lexists(venv):
        msg = f"{venv} does not exist; create a venv there with: virtualenv --creator linkable {venv}"
    elif not os.path.isdir(venv):
        owner = venv.parent.parent
        inside = f": give its venv, {owner}" if venv.parent.name == "bin" and (owner / "pyvenv.cfg").is_file() else ""
        msg = f"{venv} is a file, not a virtual environment's directory{inside}"
    else:
        inner = sorted(str(p.parent) for p in venv.glob("*/pyvenv.cfg"))
        hint = f"; did you mean {inner[0]}?" if len(inner) == 1 else "; give the directory that holds pyvenv.cfg"
        msg = f"{venv} is not a virtual environment (no pyvenv.cfg in it){hint}"
    raise VenvlinkError(msg)


def entries(venv: Path, root: Path | None = None) -> list[Path]:
    """The interpreters in ``bin/``: by their usual names, stubs, and links to the same file as ``python`` (such
    as CPython 3.13's 𝜋thon). Read through ``root``, the paths are ``root``'s."""
    bin_dir = (root or venv) / "bin"
    if bin_dir.is_symlink():  # venvlink never follows it out of the venv: see _atomic
        msg = (
            f"{venv / 'bin'} is a symlink (to {os.readlink(bin_dir)}); venvlink changes only what is inside the venv "
            "itself: put the directory in its place"
        )
        raise VenvlinkError(msg)
    try:
        names = sorted(os.listdir(bin_dir))
    except OSError as error:
        msg = f"cannot list {venv / 'bin'}: {error.strerror}; is {venv} a complete virtual environment?"
        raise VenvlinkError(msg) from None
    python, real_bin = os.path.realpath(bin_dir / "python"), os.path.realpath(bin_dir)
    found = []
    for name in names:
        entry = bin_dir / name
        try:
            status = entry.lstat()
        except OSError:
            continue  # gone meanwhile
        link = stat.S_ISLNK(status.st_mode)
        if name.startswith(".") or not (link or stat.S_ISREG(status.st_mode)):
            continue  # a link whose interpreter is gone stays an entry: convert must say what is missing
        if (
            ENTRY_NAME.fullmatch(name)
            # a link to the same file as python, or to another entry (3.14's venv --upgrade: 𝜋thon -> python3.14)
            or (link and ((real := os.path.realpath(entry)) == python or _is_entry_in(real, real_bin)))
            # a stub under another name; activate scripts and pip's are not opened (doctor reads thousands of bin/)
            or ((link or _stub.could_be_stub(status)) and _stub.is_stub(entry))
        ):
            found.append(entry)
    return found


def _is_entry_in(real: str, real_bin: str) -> bool:
    return os.path.dirname(real) == real_bin and ENTRY_NAME.fullmatch(os.path.basename(real)) is not None


def _through(directory: Directory) -> Path:
    """A path that reaches what ``directory`` holds, whatever its own path names meanwhile (Linux's
    ``/proc/self/fd``); its path where there is no ``/proc``."""
    pinned = Path(f"/proc/self/fd/{directory.fd}")
    return pinned if pinned.is_dir() else directory.path


class Venv(NamedTuple):
    """A venv as venvlink sees it, when it was read (:meth:`read`).

    :ivar venv: its path, as given (absolute): in messages, and in what venvlink records
    :ivar root: where it is read: ``venv``, or, for a venv held open to be changed, a path through that descriptor
    :ivar entries: its interpreter entries, as paths under ``root``
    :ivar stubs: the entries that are venvlink stubs (files, not links to one)
    """

    venv: Path
    cfg_bytes: bytes
    values: dict[str, str]
    entries: list[Path]
    root: Path
    stubs: list[Path]

    @classmethod
    def read(cls, venv: Path, through: Directory | None = None) -> Venv:
        """The venv as it is now; an error when it is not a venv with an interpreter. ``through``: the venv's
        directory held open, which every read then goes through (so that what is changed is what was read)."""
        root = _through(through) if through is not None else venv
        data = _pyvenv_cfg.read_bytes(pyvenv_cfg_of(venv, root))
        found = entries(venv, root)
        if not found:
            msg = f"{venv / 'bin'} has no python; is {venv} a complete virtual environment?"
            raise VenvlinkError(msg)
        stubs = [entry for entry in found if not entry.is_symlink() and _stub.is_stub(entry)]
        return cls(venv, data, _pyvenv_cfg.parse(data), found, root, stubs)

    @property
    def linkable(self) -> bool:
        """Every interpreter entry is a stub, and pyvenv.cfg names the interpreter they run."""
        return EXECUTABLE_KEY in self.values and len(self.stubs) == len(self.entries)

    def shown(self, path: Path) -> Path:
        """``path``, read under :attr:`root`, as the user knows it: under :attr:`venv`."""
        return self.venv / path.relative_to(self.root) if self.root in path.parents else path

    def runs_stub(self, name: str) -> bool:
        """Whether ``bin/name`` is a stub and pyvenv.cfg names the interpreter it runs."""
        return EXECUTABLE_KEY in self.values and self.root / "bin" / name in self.stubs

    @property
    def stale(self) -> list[Path]:
        """The stubs that are not the installed stub (an older or newer venvlink made them); each file is read
        once while it is unchanged (:func:`._stub.facts`)."""
        return [entry for entry in self.stubs if not ((facts := _stub.facts(entry)) and facts.current)]

    @property
    def interpreter(self) -> Path | None:
        """The interpreter venvlink's key names (None: no key)."""
        named = self.values.get(EXECUTABLE_KEY)
        return Path(named) if named else None

    def made_for(self) -> tuple[str, str, bool] | None:
        """What the venv's site-packages suit, ``("CPython", "3.12", False)``: read from ``lib/`` (``python3.12``,
        ``python3.13t`` for a free-threaded build, ``pypy3.9``) and pyvenv.cfg's ``implementation`` and version
        keys; None when they do not say."""
        try:
            names = os.listdir(self.root / "lib")
        except OSError:
            names = []
        found = {m.groups() for n in names if (m := LIB_NAME.fullmatch(n))}
        version = self.values.get("version_info") or self.values.get("version") or ""
        xy = ".".join(version.split(".")[:2])
        if len(found) > 1:
            found = {f for f in found if f[1] == xy}
        if len(found) != 1:
            return None
        ((kind, xy, threads),) = found
        implementation = "PyPy" if kind == "pypy" else self.values.get("implementation", "CPython")
        return implementation, xy, threads == "t"
