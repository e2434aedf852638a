"""Put venvlink's stub and files into a venv without ever writing through a symlink."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from . import TYPE_CHECKING
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: pyvenv.cfg keys venvlink writes: the marker with venvlink's version, and the interpreter the stub execs.
MARKER_KEY = "venvlink"
EXECUTABLE_KEY = "venvlink-executable"

_STUB = Path(__file__).parent / "_stub" / "venvlink-stub"
_IDENTITY = b"venvlink resolving stub"  # stub.c's IDENTITY, in every build of the stub
_MAX_STUB_SIZE = 1 << 20  # interpreters are larger or do not carry the identity; the stub is ~50 KiB


def stub_path() -> Path:
    """The compiled stub that ships inside the package."""
    if not _STUB.is_file():
        msg = f"venvlink's stub is missing at {_STUB}; reinstall venvlink (pip install --force-reinstall venvlink)"
        raise VenvlinkError(msg)
    return _STUB


def is_stub(path: Path) -> bool:
    """Whether ``path`` (links followed) is a venvlink stub, of any version."""
    try:
        if not path.is_file() or path.stat().st_size > _MAX_STUB_SIZE:
            return False
        return _IDENTITY in path.read_bytes()
    except OSError:
        return False


def replace_file(path: Path, data: bytes, mode: int) -> None:
    """Make ``path`` a new regular file holding ``data``, atomically.

    ``path`` itself is never opened: a venv's ``bin/python`` is usually a symlink to the base interpreter, and
    writing through it would overwrite the system's Python. The data goes to a temporary file in the same
    directory, which then replaces ``path`` (the link itself, not its target) in one rename.
    """
    while True:
        temporary = _temporary_name(path.parent, path.name)
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as error:
            raise _cannot_write(path, error) from None
        break
    with _removed_on_failure(temporary, path):
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            os.fchmod(stream.fileno(), mode)
        temporary.replace(path)


@contextmanager
def _removed_on_failure(temporary: Path, path: Path) -> Iterator[None]:
    """If anything fails before ``temporary`` is renamed over ``path``, remove it; an OSError becomes one line."""
    try:
        yield
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _cannot_write(path, error) from None
        raise


def _temporary_name(directory: Path, name: str) -> Path:
    """A fresh hidden name beside ``name``; os.urandom, as secrets and tempfile cost more to import than to use."""
    return directory / f".{name}.{os.urandom(4).hex()}.venvlink"


def _cannot_write(path: Path, error: OSError) -> VenvlinkError:
    return VenvlinkError(f"cannot write {path}: {error.strerror or error}; nothing was changed")


def replace_with_symlink(path: Path, target: str) -> None:
    """Make ``path`` a symlink to ``target``, atomically: a new link under a temporary name, renamed over ``path``."""
    temporary = new_symlink(path.parent, path.name, target)
    with _removed_on_failure(temporary, path):
        temporary.replace(path)


def new_symlink(directory: Path, name: str, target: str) -> Path:
    """A new symlink to ``target`` under a fresh temporary name in ``directory``."""
    while True:
        temporary = _temporary_name(directory, name)
        try:
            temporary.symlink_to(target)
        except FileExistsError:
            continue
        except OSError as error:
            raise _cannot_write(directory / name, error) from None
        return temporary


def install_stub(bin_dir: Path, names: list[str]) -> None:
    """Make each of ``names`` in ``bin_dir`` a copy of the stub."""
    data = stub_path().read_bytes()
    for name in names:
        replace_file(bin_dir / name, data, 0o755)
