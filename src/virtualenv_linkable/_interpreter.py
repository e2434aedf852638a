"""Interpreters: their names, what one is (asked of the file, or of it running once), and where to find another of
the same kind."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ._trust import SAFE, open_regular, others_can_change, others_can_change_inside
from .exceptions import VenvlinkError

_PROBE = (
    "import json, platform, sys, sysconfig; print(json.dumps([platform.python_implementation(), "
    "list(sys.version_info[:3]), sysconfig.get_config_var('Py_GIL_DISABLED') == 1]))"
)
#: what the stub has been tested with (docs/platforms.rst); others run as Python but are refused
SUPPORTED = {"CPython": (3, 8), "PyPy": (3, 9)}
#: the names venv creators give interpreters in bin/: python, python3, python3.X, free-threaded python3.Xt; pypy...
ENTRY_NAME = re.compile(r"(python|pypy)(\d+(\.\d+)?t?)?")
#: an entry named with its X.Y, as CPython 3.11+ wants argv[0]'s name (the stub names it after its target)
VERSIONED_NAME = re.compile(r"[a-z]+\d+\.\d+t?")
#: a venv's lib/ directory, which says what its site-packages suit: python3.12, python3.13t, pypy3.9
LIB_NAME = re.compile(r"(python|pypy)(\d+\.\d+)(t?)")
# What an interpreter's executable carries, whatever its name: CPython 3.8+ calls Py_BytesMain (from a linked
# libpython, or built in), PyPy pypy_main_startup. A #! wrapper names the Python it runs.
_MARKERS = (b"Py_BytesMain", b"pypy_main_startup")
_EXECUTABLE_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe")  # ELF, 64-bit Mach-O
# The entry point's name lies in the dynamic string table, near the start: 1.4 KB into pyenv's pythons, 95 KB into
# Debian's static python3.11. A sparse "ELF" of terabytes is not read to its end.
_SCAN = 32 << 20


def is_python(path: Path) -> bool:
    """Whether the file at ``path`` is a Python interpreter, asked of the file itself (read, never run): an
    executable that carries CPython's or PyPy's entry point, or a #! script that names one."""
    try:
        with os.fdopen(open_regular(path), "rb") as stream:
            head = stream.read(4096)
            if head.startswith(b"#!"):
                return b"python" in head or b"pypy" in head
            if not head.startswith(_EXECUTABLE_MAGIC):
                return False
            chunk, tail, left = head, b"", _SCAN
            while chunk and left > 0:
                if any(marker in tail + chunk for marker in _MARKERS):
                    return True
                tail, chunk, left = chunk[-32:], stream.read(1 << 20), left - len(chunk)
    except OSError:
        return False
    return False


@dataclass(frozen=True)
class Interpreter:
    path: Path
    implementation: str
    version: tuple[int, int, int]
    free_threaded: bool

    @property
    def describe(self) -> str:
        """``CPython 3.12.1``, ``CPython 3.13.0 (free-threaded)``, ``PyPy 3.9.16``."""
        version = ".".join(map(str, self.version))
        return f"{self.implementation} {version}{' (free-threaded)' if self.free_threaded else ''}"

    @property
    def kind(self) -> tuple[str, str, bool]:
        """What a venv's site-packages must suit: implementation, X.Y and whether free-threaded."""
        return self.implementation, f"{self.version[0]}.{self.version[1]}", self.free_threaded


def describe_kind(kind: tuple[str, str, bool]) -> str:
    """``CPython 3.12``, ``CPython 3.13 (free-threaded)``."""
    return f"{kind[0]} {kind[1]}{' (free-threaded)' if kind[2] else ''}"


def identify(path: Path, keep: tuple[int, ...] = ()) -> Interpreter | None:
    """Run ``path`` once, isolated, and say what Python it is; None when it is not one that answers. ``keep``:
    descriptors it inherits, with their numbers (a ``/proc/self/fd/N/...`` path runs through them)."""
    try:
        done = subprocess.run(
            [str(path), "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            pass_fds=keep,
        )
        implementation, version, free_threaded = json.loads(done.stdout)[:3]
        return Interpreter(path, str(implementation), (version[0], version[1], version[2]), bool(free_threaded))
    except (OSError, subprocess.SubprocessError, ValueError, TypeError, IndexError):
        return None


def others_can_change_its_start(interpreter: str | os.PathLike[str], home: str | None = None) -> str | None:
    """Why another user could change what ``interpreter`` runs as it starts (with ``-I -S``, as venvlink runs one):
    its path, or the installation it takes its standard library from, which CPython finds as getpath does: up from
    pyvenv.cfg's ``home`` when it runs as a venv's (``home`` given), else up from its own real directory; None when
    nobody but you and root can."""
    real = Path(os.path.realpath(interpreter))
    doubt = others_can_change(interpreter) or others_can_change(real)
    if doubt or is_script(real):  # a #! wrapper's getpath is that of the program it runs, which it names itself
        return doubt
    start = Path(home) if home else real.parent
    return others_can_change(start) or _installation(start)


def is_script(path: Path) -> bool:
    """Whether ``path`` is a ``#!`` script (a wrapper such as nixpkgs' makeWrapper writes); only a regular file is
    opened."""
    try:
        fd = open_regular(path)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as file:
        return file.read(2) == b"#!"


def _installation(start: Path) -> str | None:
    """Why another user could change the installation getpath finds up from ``start``: it takes the first
    directory whose ``lib/python3.X`` holds ``os.py`` or ``os.pyc`` (or whose ``lib/`` a zip of it) as the prefix,
    and, searching apart, the first with ``lib/python3.X/lib-dynload`` as the exec prefix. Up to both, each
    ``lib/`` and ``lib64/`` (there or not: whoever could create one chooses), each standard library in them (its
    site-packages left out: no ``-S`` start reads them), and each libpython and zip there."""
    prefix = exec_prefix = False
    for directory in [start, *start.parents]:
        for lib in (directory / "lib", directory / "lib64"):
            doubt = others_can_change(lib)
            stdlibs = sorted(p for p in [*lib.glob("python3*"), *lib.glob("pypy3*")] if p.is_dir())
            for stdlib in stdlibs:
                doubt = doubt or others_can_change_inside(stdlib, leaving_out=("site-packages", "dist-packages"))
            for path in sorted([*lib.glob("libpython*"), *lib.glob("libpypy*"), *lib.glob("python3*.zip")]):
                doubt = doubt or others_can_change(path)
            if doubt:
                return doubt
            prefix = (
                prefix
                or any(lib.glob("python3*.zip"))
                or any((p / "os.py").is_file() or (p / "os.pyc").is_file() for p in stdlibs)
            )
            exec_prefix = exec_prefix or any((p / "lib-dynload").is_dir() for p in stdlibs)
        if prefix and exec_prefix:
            return None
    return None


def probe(
    path: Path, *, venv: Path, keep: tuple[int, ...] = (), shown: Path | None = None, home: str | None = None
) -> Interpreter:
    """:func:`identify`, refusing anything but an interpreter the stub supports (for converting ``venv``); messages
    name it ``shown``. ``home``: the venv's, when ``path`` is in the venv (a copy), which then runs as the venv's."""
    if not path.exists():
        msg = (
            f"cannot convert {venv}: its interpreter {path} does not exist; the Python it was made from was moved or "
            f"removed: move the venv to another, of the same version: venvlink convert --python PYTHON {venv}"
        )
        raise VenvlinkError(msg)
    doubt = others_can_change_its_start(path, home)  # a team's bin/ or lib/: what its members put there would run
    if doubt:
        msg = f"refusing to convert {venv}: {doubt}, so another user could change what {shown or path} runs"
        raise VenvlinkError(f"{msg}; {SAFE}; nothing was changed")
    found = identify(path, keep)
    path = shown or path
    if found is None:
        msg = f"cannot convert {venv}: its interpreter {path} is not a Python that venvlink can run it with"
        raise VenvlinkError(msg)
    minimum = SUPPORTED.get(found.implementation)
    if minimum is None or found.version[:2] < minimum:
        supported = ", ".join(f"{name} {major}.{minor}+" for name, (major, minor) in SUPPORTED.items())
        msg = f"cannot convert {venv}: its interpreter {path} is {found.describe}; venvlink supports {supported}"
        raise VenvlinkError(msg)
    return found


def _search_directories() -> list[str]:
    """Where interpreters are installed: ``PATH`` (what you run by name anyway), then pyenv's versions and uv's
    managed Pythons, where only you and root can change them: under ``sudo -E`` those paths come from another
    user's environment, and their programs are not run as root."""
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
    directories, newest first there), each confirmed by running it once."""
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
            if directory not in os.environ.get("PATH", "").split(os.pathsep) and others_can_change_its_start(path):
                continue  # pyenv's or uv's, which under sudo -E are another user's
            interpreter = identify(Path(path))
            if interpreter is not None and interpreter.kind == kind:
                found.append(Path(path))
                if len(found) == most:
                    return found
    return found
