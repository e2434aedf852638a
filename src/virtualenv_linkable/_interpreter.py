"""Interpreters: their names, what one is (read from its files, never run: see :mod:`._reading`), and where to find
another of the same kind."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import NamedTuple

from . import TYPE_CHECKING, _pyvenv_cfg
from ._trust import open_regular, others_can_change
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from ._reading import Facts

#: what the stub has been tested with (docs/platforms.rst); others are refused
SUPPORTED = {"CPython": (3, 8), "PyPy": (3, 9)}
#: the names venv creators give interpreters in bin/: python, python3, python3.X, free-threaded python3.Xt; pypy...
ENTRY_NAME = re.compile(r"(python|pypy)(\d+(\.\d+)?t?)?")
#: an entry named with its X.Y, as CPython 3.11+ wants argv[0]'s name (the stub names it after its target)
VERSIONED_NAME = re.compile(r"[a-z]+\d+\.\d+t?")
#: a venv's lib/ directory, which says what its site-packages suit: python3.12, python3.13t, pypy3.9
LIB_NAME = re.compile(r"(python|pypy)(\d+\.\d+)(t?)")


def _read(path: Path) -> Facts | None:
    from ._reading import read_interpreter  # noqa: PLC0415  # which, list and export of a linkable venv need none

    return read_interpreter(path)


def is_python(path: Path) -> bool:
    """Whether the file at ``path`` is a Python interpreter, read (never run): a CPython or PyPy executable
    (:func:`._reading.read_interpreter`), or a ``#!`` script that names one within its first 4 KiB."""
    facts = _read(path)
    if facts is None or facts.script is None:
        return facts is not None
    head = _head(path)
    return b"python" in head or b"pypy" in head


def _head(path: Path) -> bytes:
    """The first 4 KiB of a script, where a wrapper names what it runs; nothing for what is not a regular file."""
    try:
        with os.fdopen(open_regular(path), "rb") as stream:
            return stream.read(4096)
    except OSError:
        return b""


class Interpreter(NamedTuple):
    """What an interpreter is, as read from its files and its venv's.

    :ivar version: ``(3, 12, 1)``, or ``(3, 12)`` where the files do not say the patch level
    """

    path: Path
    implementation: str
    version: tuple[int, ...]
    free_threaded: bool

    @property
    def describe(self) -> str:
        """``CPython 3.12.1``, ``CPython 3.13.0 (free-threaded)``, ``PyPy 3.9``."""
        version = ".".join(map(str, self.version))
        return f"{self.implementation} {version}{' (free-threaded)' if self.free_threaded else ''}"

    @property
    def kind(self) -> tuple[str, str, bool]:
        """What a venv's site-packages must suit: implementation, X.Y and whether free-threaded."""
        return self.implementation, f"{self.version[0]}.{self.version[1]}", self.free_threaded


def describe_kind(kind: tuple[str, str, bool]) -> str:
    """``CPython 3.12``, ``CPython 3.13 (free-threaded)``."""
    return f"{kind[0]} {kind[1]}{' (free-threaded)' if kind[2] else ''}"


def is_script(path: Path) -> bool:
    """Whether ``path`` is a ``#!`` script (a wrapper such as nixpkgs' makeWrapper writes); only a regular file is
    opened."""
    try:
        fd = open_regular(path)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as file:
        return file.read(2) == b"#!"


def _version(text: str | None) -> tuple[int, ...] | None:
    """``3.12.1`` of a pyvenv.cfg's ``version`` (venv), ``3.12.1.final.0`` of its ``version_info`` (virtualenv,
    uv), as numbers; None for anything else."""
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    return tuple(int(part) for part in found.groups() if part is not None) if found else None


def of_venv(
    path: Path, *, venv: Path, values: dict[str, str], kind: tuple[str, str, bool] | None, shown: Path | None = None
) -> Interpreter:
    """What ``path``, the interpreter of ``venv`` (pyvenv.cfg's ``values``; ``kind``, what its ``lib/`` was made
    for), is: read from the file, then from the venv where the file cannot say (a ``#!`` wrapper names neither its
    implementation nor its version). An error, naming it ``shown``, for anything but an interpreter the stub
    supports."""
    shown = shown or path
    facts = _read(path)
    if facts is None or (facts.script is not None and not is_python(path)):  # a wrapper names the Python it runs
        msg = (
            f"cannot convert {venv}: its interpreter {shown} is not a CPython or PyPy executable, nor a wrapper of one"
        )
        raise VenvlinkError(msg)
    implementation = facts.implementation or (kind[0] if kind else values.get("implementation", "CPython"))
    said = _version(values.get("version_info") or values.get("version"))
    version = facts.version if facts.version and len(facts.version) == 3 else said or facts.version  # X.Y.Z first
    if version is None and kind is not None:
        version = tuple(int(part) for part in kind[1].split("."))
    if version is None:
        msg = f"cannot convert {venv}: neither its interpreter {shown} nor its pyvenv.cfg and lib/ say its version"
        raise VenvlinkError(msg)
    found = Interpreter(path, implementation, version, facts.free_threaded or bool(kind and kind[2]))
    refusal = unsupported(found)
    if refusal:
        raise VenvlinkError(f"cannot convert {venv}: its interpreter {shown} is {refusal}")
    return found


def named(path: Path, kind: tuple[str, str, bool]) -> Interpreter:
    """What the interpreter the user named (``convert --python``) for a venv of ``kind`` is, read from its files;
    a ``#!`` wrapper of one says only the version its name gives, and is taken for the venv's implementation. An
    error for anything but an interpreter the stub supports, or a dispatching script such as pyenv's shims, which
    choose another Python at each start."""
    venv = venv_of(path)
    if venv is not None:
        home = _pyvenv_cfg.read(venv / "pyvenv.cfg").get("home")
        instead = f": its base, {Path(home) / path.name}" if home else ""
        msg = f"{path} is the interpreter of the venv {venv}, which no venv can rest on; give a base Python{instead}"
        raise VenvlinkError(msg)
    facts = _read(path)
    if facts is not None and facts.script is not None and is_pyenv_shim(path):
        msg = (
            f"{path} is pyenv's shim, which runs whichever Python pyenv selects at each start; give the interpreter "
            f"itself, such as the newest pyenv has: --python {behind_the_shim(path)}"
        )
        raise VenvlinkError(msg)
    if facts is None or (facts.script is not None and not is_python(path)):
        msg = f"{path} is not a CPython or PyPy executable, nor a wrapper of one; give the path of the interpreter"
        raise VenvlinkError(msg)
    version = facts.version or tuple(int(part) for part in kind[1].split("."))
    found = Interpreter(path, facts.implementation or kind[0], version, facts.free_threaded)
    refusal = unsupported(found)
    if refusal:
        raise VenvlinkError(f"{path} is {refusal}")
    return found


def venv_of(path: Path) -> Path | None:
    """The venv whose interpreter ``path`` is, as its path stands (``VENV/bin/python3.12``, or a stub beside
    pyvenv.cfg), or None: such an interpreter runs as that venv's, and whoever removes or changes that venv takes
    another venv resting on it along."""
    for venv in (path.parent.parent, path.parent):
        if (venv / "pyvenv.cfg").is_file():
            return venv
    return None


def is_pyenv_shim(path: Path) -> bool:
    """Whether the script at ``path`` hands its start to ``pyenv exec`` (pyenv's shims; asdf's and mise's work
    alike), read within its first 4 KiB."""
    head = _head(path)
    return b"pyenv" in head and b" exec " in head


def behind_the_shim(shim: Path) -> str:
    """The interpreters pyenv's ``shim`` could run, as one path to give instead: the newest version's, read from
    the pyenv root the shim names (``export PYENV_ROOT="..."``), else the command that says it for a version."""
    named = re.search(rb'PYENV_ROOT="([^"]+)"', _head(shim))
    root = os.fsdecode(named[1]) if named else os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(glob.escape(root), "versions", "*", "bin", glob.escape(shim.name))))
    if found:
        return max(found, key=lambda path: [int(n) for n in re.findall(r"\d+", Path(path).parent.parent.name)])
    return f'"$(pyenv prefix VERSION)/bin/{shim.name}"'


def unsupported(found: Interpreter) -> str | None:
    """What ``found`` is, and what venvlink supports, when the stub does not support it; None when it does."""
    minimum = SUPPORTED.get(found.implementation)
    if minimum is not None and found.version[:2] >= minimum:
        return None
    supported = ", ".join(f"{name} {major}.{minor}+" for name, (major, minor) in SUPPORTED.items())
    return f"{found.describe}; venvlink supports {supported}"


def installation(python: Path, xy: str) -> tuple[Path, Path] | None:
    """The prefix and exec prefix of the installation ``python`` belongs to, as getpath finds them up from its real
    directory: the first directory whose ``lib/pythonX.Y`` holds ``os.py`` (or ``os.pyc``), and the first whose
    ``lib/pythonX.Y`` holds ``lib-dynload``; None when the files do not say (``convert --python`` then drops
    virtualenv's ``base-prefix`` rather than leave the old one)."""
    start = Path(os.path.realpath(python)).parent
    prefix = exec_prefix = None
    for directory in [start, *start.parents]:
        for lib in ("lib", "lib64"):
            stdlib = directory / lib / f"python{xy}"
            if prefix is None and ((stdlib / "os.py").is_file() or (stdlib / "os.pyc").is_file()):
                prefix = directory
            if exec_prefix is None and (stdlib / "lib-dynload").is_dir():
                exec_prefix = directory
        if prefix is not None and exec_prefix is not None:
            return prefix, exec_prefix
    return None


def _search_directories() -> list[str]:
    """Where interpreters are installed: ``PATH`` (what you run by name anyway), then pyenv's versions and uv's
    managed Pythons where no other user can change them: under ``sudo -E`` those paths come from another user's
    environment, and root is not told to rest its venvs on them."""
    # pyenv's shims are scripts that pick a version at each start: not an interpreter a venv can rest on
    found = [
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry and os.path.basename(entry) != "shims"
    ]
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    installed = sorted(glob.glob(os.path.join(glob.escape(pyenv), "versions", "*", "bin")), reverse=True)
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    uv = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.join(data, "uv", "python")
    installed += sorted(glob.glob(os.path.join(glob.escape(uv), "*", "bin")), reverse=True)
    return found + [directory for directory in installed if not others_can_change(directory)]


def candidates(kind: tuple[str, str, bool], *, most: int = 1) -> list[Path]:
    """Up to ``most`` interpreters of ``kind`` on this machine (by name on ``PATH``, in pyenv's and uv's
    directories, newest first there), each confirmed by reading its file."""
    implementation, xy, free_threaded = kind
    names = [f"pypy{xy}", "pypy3"] if implementation == "PyPy" else [f"python{xy}{'t' if free_threaded else ''}"]
    seen: set[str] = set()
    found: list[Path] = []
    for directory in _search_directories():
        for name in names:
            path = os.path.join(directory, name)
            real = os.path.realpath(path)
            if real in seen or not os.access(path, os.X_OK) or not os.path.isfile(path):
                continue
            seen.add(real)
            facts = None if venv_of(Path(path)) else _read(Path(path))  # an active venv's python is first on PATH
            if facts is None or facts.implementation is None or facts.version is None:
                continue
            if (facts.implementation, "{}.{}".format(*facts.version[:2]), facts.free_threaded) == kind:
                found.append(Path(path))
                if len(found) == most:
                    return found
    return found
