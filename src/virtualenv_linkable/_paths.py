"""Paths as the kernel and ``ln -s`` read them, and the places venvlink puts things by default."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from .exceptions import VenvlinkError


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


def destination(path: str | os.PathLike[str]) -> Path:
    """``path`` as ``ln -s`` and the kernel take it: its directory resolved, its last name kept (it may be a link
    that is about to be replaced)."""
    given = absolute(path)
    return Path(os.path.realpath(given.parent)) / given.name


def same_directory(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` are one file (any name, links followed); False when either does not exist."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def on_path(directory: Path) -> bool:
    """Whether ``directory`` is one of the ``PATH`` entries (the same directory, by any name)."""
    return any(entry and same_directory(entry, directory) for entry in os.environ.get("PATH", "").split(os.pathsep))


def bin_home() -> Path:
    """Where ``venvlink export VENV`` puts its link, in uv's order: ``$VENVLINK_BIN_DIR``, ``$XDG_BIN_HOME``, else
    ``~/.local/bin`` (pipx's and uv's)."""
    for name in ("VENVLINK_BIN_DIR", "XDG_BIN_HOME"):
        if os.environ.get(name):
            return absolute(os.environ[name])
    return Path(os.path.expanduser("~/.local/bin"))


def umask() -> int:
    """The process's umask (reading it means setting it: set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_directories(path: Path) -> None:
    """``mkdir -p path``, each directory made without others' write permission whatever the umask: under umask
    000, a ``~/.local`` made 0777 would let any user add to your user site-packages, or replace your commands."""
    mask = umask()
    missing = []
    while not os.path.isdir(path) and path.parent != path:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.mkdir(directory, 0o777 & ~(mask | stat.S_IWOTH))


def located(name: str, search_path: str | None = None) -> Path:
    """The file a shell runs for ``name``: the path itself when it has a ``/``, else the first executable regular
    file on ``PATH``; an error naming what is wrong with it when it cannot run."""
    if not name:
        msg = "an empty name is no path; give the path of a python, or its name on PATH"
        raise VenvlinkError(msg)
    if "/" not in name:
        directories = (search_path if search_path is not None else os.environ.get("PATH", "")).split(os.pathsep)
        for directory in directories:
            candidate = Path(directory or ".") / name
            if os.access(candidate, os.X_OK) and candidate.is_file():
                return absolute(candidate)
        msg = f"{name} is not on PATH; give its path (./{name} for one in the current directory)"
        raise VenvlinkError(msg)
    path = absolute(name)
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            what = "is a loop of symbolic links, or a chain of more than 40, which the kernel does not follow"
        elif path.is_symlink():
            what = "is a broken symlink"
        else:
            what = "does not exist" if error.errno == errno.ENOENT else f"cannot be reached: {error.strerror}"
        msg = f"{path} {what}"
        raise VenvlinkError(msg) from None
    if not path.is_file() or not os.access(path, os.X_OK):
        msg = f"{path} is {'a directory' if path.is_dir() else 'not executable'}; give the path of a python"
        raise VenvlinkError(msg)
    return path
