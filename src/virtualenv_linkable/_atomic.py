"""Atomic file operations: every file venvlink changes is replaced by a rename, never written in place.

A venv's ``bin/python`` is usually a symlink to the base interpreter; opening it for writing would overwrite the
system's Python. So nothing here opens an existing path for writing: new content goes to a fresh temporary name in
the same directory, which is then renamed over the path (the link itself, not its target). Messages name the path
the user knows, never the temporary one.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from . import TYPE_CHECKING
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Iterator


def _temporary_name(directory: Path, name: str) -> Path:
    """A fresh hidden name beside ``name``; os.urandom, as secrets and tempfile cost more to import than to use."""
    return directory / f".{name}.{os.urandom(4).hex()}.venvlink"


def cannot_write(path: Path, error: OSError) -> VenvlinkError:
    return VenvlinkError(f"cannot write {path}: {error.strerror or error}; nothing was changed")


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX: the directory entry is data of the directory)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _removed_on_failure(temporary: Path, path: Path) -> Iterator[None]:
    """If anything fails before ``temporary`` takes ``path``'s place, remove it; an OSError becomes one line."""
    try:
        yield
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise cannot_write(path, error) from None
        raise


def replace_file(path: Path, data: bytes, mode: int, *, durable: bool = False) -> None:
    """Make ``path`` a new regular file holding ``data``, atomically; with ``durable``, on disk before returning."""
    while True:
        temporary = _temporary_name(path.parent, path.name)
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as error:
            raise cannot_write(path, error) from None
        break
    with _removed_on_failure(temporary, path):
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            os.fchmod(stream.fileno(), mode)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        temporary.replace(path)
        if durable:
            fsync_directory(path.parent)


def new_symlink(directory: Path, name: str, target: str) -> Path:
    """A new symlink to ``target`` under a fresh temporary name in ``directory``, for ``name``."""
    while True:
        temporary = _temporary_name(directory, name)
        try:
            temporary.symlink_to(target)
        except FileExistsError:
            continue
        except OSError as error:
            raise cannot_write(directory / name, error) from None
        return temporary


def replace_with_symlink(path: Path, target: str) -> None:
    """Make ``path`` a symlink to ``target``, atomically: a new link under a temporary name, renamed over ``path``."""
    temporary = new_symlink(path.parent, path.name, target)
    with _removed_on_failure(temporary, path):
        temporary.replace(path)


def move(source: Path, path: Path) -> None:
    """Rename ``source`` over ``path`` in one step (both in one file system)."""
    try:
        source.replace(path)
    except OSError as error:
        raise cannot_write(path, error) from None


def link_aside(path: Path, aside: Path) -> None:
    """Give the regular file ``path`` a second name ``aside`` (a hard link, or a copy where the file system has
    none), so that ``path`` can then be replaced without a moment in which the file is missing."""
    if os.path.lexists(aside):
        if os.path.samefile(path, aside):
            return  # linked aside by a run that was interrupted
        msg = f"cannot move {path} aside: {aside} already exists; move it away, then run this again"
        raise VenvlinkError(msg)
    try:
        os.link(path, aside, follow_symlinks=False)
    except OSError:
        import shutil  # noqa: PLC0415  # rare: a file system without hard links

        temporary = _temporary_name(aside.parent, aside.name)
        with _removed_on_failure(temporary, aside):
            shutil.copy2(path, temporary, follow_symlinks=False)
            temporary.replace(aside)
