"""Every change venvlink makes is a rename inside a directory held open, and each is recorded with its undo.

A venv's ``bin/python`` is usually a symlink to the base interpreter; opening it for writing would overwrite the
system's Python. So nothing here opens an existing name for writing: new content goes to a fresh temporary name in
the same directory, which is then renamed over the name (the link itself, never its target). Each directory is held
by a descriptor, opened without following a link for its last name where venvlink did not expect one: a change
lands in the directory that was checked, whatever its path names by the time of the change. Messages name the path
the user knows, never the temporary one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from pathlib import Path

from . import TYPE_CHECKING
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_LOCK_POLL = 0.05  # seconds between two tries of a held lock


def temporary_name(name: str) -> str:
    """A fresh hidden name beside ``name``, within a name's 255 bytes whatever ``name``'s length; os.urandom, as
    secrets and tempfile cost more to import than to use."""
    return f".{os.fsdecode(os.fsencode(name)[:200])}.{os.urandom(4).hex()}.venvlink"


def cannot_write(path: Path, error: OSError) -> VenvlinkError:
    return VenvlinkError(f"cannot write {path}: {error.strerror or error}; nothing was changed")


class LockHeldError(Exception):
    """Another process held the lock for the whole wait; ``holder`` is what it wrote in the lock file (its PID)."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


class Directory:
    """A directory held open by a descriptor; names are relative to it, ``path`` serves for messages."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    @classmethod
    def open(cls, path: Path, *, follow: bool = True) -> Directory:
        """``path`` as a directory; with ``follow`` false, refused when its last name is a symlink."""
        try:
            return cls(os.open(path, _DIRECTORY | (0 if follow else os.O_NOFOLLOW)), path)
        except OSError as error:
            raise _not_a_directory(path, error) from None

    def sub(self, name: str) -> Directory:
        """The directory ``name`` in this one, itself and never a symlink to elsewhere."""
        try:
            return Directory(os.open(name, _DIRECTORY | os.O_NOFOLLOW, dir_fd=self.fd), self.path / name)
        except OSError as error:
            raise _not_a_directory(self.path / name, error) from None

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lstat(self, name: str) -> os.stat_result | None:
        """The entry ``name`` itself (a link is not followed), or None when there is none."""
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def is_link(self, name: str) -> bool:
        found = self.lstat(name)
        return found is not None and stat.S_ISLNK(found.st_mode)

    def readlink(self, name: str) -> str:
        return os.readlink(name, dir_fd=self.fd)

    def write(self, name: str, data: bytes, mode: int, *, durable: bool = False) -> None:
        """Make ``name`` a new regular file holding ``data``, in one rename; with ``durable``, on disk before
        returning."""
        while True:
            temporary = temporary_name(name)
            try:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600, dir_fd=self.fd)
            except FileExistsError:
                continue
            except OSError as error:
                raise cannot_write(self.path / name, error) from None
            break
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                self._as_its_owner(fd)
                os.fchmod(fd, mode)
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            self._take(temporary, name)
        except BaseException as error:
            self._discard(temporary)
            if isinstance(error, OSError):
                raise cannot_write(self.path / name, error) from None
            raise
        if durable:
            os.fsync(self.fd)

    def symlink(self, name: str, target: str) -> None:
        """Make ``name`` a symlink to ``target``, in one rename: over what is there, never through it."""
        while True:
            temporary = temporary_name(name)
            try:
                os.symlink(target, temporary, dir_fd=self.fd)
            except FileExistsError:
                continue
            except OSError as error:
                raise cannot_write(self.path / name, error) from None
            break
        try:
            self._take(temporary, name)
        except BaseException as error:
            self._discard(temporary)
            if isinstance(error, OSError):
                raise cannot_write(self.path / name, error) from None
            raise

    def _as_its_owner(self, fd: int) -> None:
        """Root's new file (open as ``fd``) in another user's directory, given to that directory's owner and group:
        root changes a venv of theirs only when told to trust them (a container's root on the host user's
        workspace), and they must still be able to change it (``python -m venv --upgrade`` rewrites pyvenv.cfg in
        place). Through the descriptor, never by name: the directory's owner could swap the name for a hard link
        to a file of root's. Another caller's files are theirs, as the kernel makes them; links are not given
        (whoever owns the directory can replace them anyway)."""
        directory = os.fstat(self.fd)
        if os.geteuid() == 0 and directory.st_uid != 0:
            os.fchown(fd, directory.st_uid, directory.st_gid)

    def given_as(self, parent: Directory) -> Directory:
        """This directory, just made in ``parent`` and held open, given as :meth:`_as_its_owner` gives a file."""
        parent._as_its_owner(self.fd)
        return self

    def _take(self, temporary: str, name: str) -> None:
        os.replace(temporary, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def _discard(self, temporary: str) -> None:
        with contextlib.suppress(OSError):  # gone already, or never made
            os.unlink(temporary, dir_fd=self.fd)

    def rename(self, name: str, to: Directory, to_name: str) -> None:
        """Rename ``name`` over ``to_name`` in ``to`` (one file system), in one step."""
        try:
            os.replace(name, to_name, src_dir_fd=self.fd, dst_dir_fd=to.fd)
        except OSError as error:
            raise cannot_write(to.path / to_name, error) from None

    def link_aside(self, name: str, to: Directory, to_name: str) -> None:
        """Give the regular file ``name`` a second name in ``to`` (a hard link, or a copy where the file system has
        none), so that ``name`` can then be replaced without a moment in which the file is missing."""
        there = to.lstat(to_name)
        if there is not None:
            here = self.lstat(name)
            if here is not None and (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino):
                return  # linked aside by a run that was interrupted
            msg = (
                f"cannot move {self.path / name} aside: {to.path / to_name} already exists; "
                "move it away, then run this again"
            )
            raise VenvlinkError(msg)
        try:
            os.link(name, to_name, src_dir_fd=self.fd, dst_dir_fd=to.fd, follow_symlinks=False)
        except OSError:  # rare: a file system without hard links
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.fd)
            with os.fdopen(fd, "rb") as stream:
                data, mode = stream.read(), os.fstat(fd).st_mode
            to.write(to_name, data, stat.S_IMODE(mode))

    def keep_aside(self, name: str) -> str:
        """A second name for the file ``name`` in this directory (a hard link, never through a link), so that the
        file can be put back after ``name`` is replaced; that name."""
        while True:
            aside = temporary_name(name)
            try:
                os.link(name, aside, src_dir_fd=self.fd, dst_dir_fd=self.fd, follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError as error:
                raise cannot_write(self.path / name, error) from None
            return aside

    def unlink(self, name: str) -> None:
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise cannot_write(self.path / name, error) from None

    def lock(self, name: str, timeout: float) -> int:
        """Lock the file ``name`` (made if missing) with ``flock``, and write this process's PID in it; the
        descriptor, whose closing releases the lock. Waits ``timeout`` seconds (forever if negative), then raises
        :class:`LockHeldError`.

        The file is opened through this directory, never through a link, and must be a regular file of the user's
        own: a lock reopened by path (filelock) went wherever a link swapped in there named, and was truncated and
        chmod'ed there. It is never removed: a process waiting on it would then lock a file no longer there while
        another locked a new one."""
        path = self.path / name
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO is never waited on
        try:
            fd = os.open(name, flags, 0o600, dir_fd=self.fd)
        except OSError as error:
            what = {errno.ELOOP: "a symlink", errno.EISDIR: "a directory"}.get(error.errno or 0)
            if what is None:
                raise
            raise _not_a_lock(path, what) from None
        try:
            found = os.fstat(fd)
            if found.st_uid != os.geteuid():
                raise _not_a_lock(path, f"owned by uid {found.st_uid}")
            if not stat.S_ISREG(found.st_mode):
                raise _not_a_lock(path, "not a regular file")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if timeout >= 0 else 0))
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockHeldError(os.read(fd, 64).decode(errors="replace").strip()) from None
                    time.sleep(_LOCK_POLL)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except BaseException:
            os.close(fd)
            raise
        return fd

    def mkdir(self, name: str, mode: int = 0o755) -> bool:
        """Make the directory ``name``; whether it was made (False: it was there)."""
        try:
            os.mkdir(name, mode, dir_fd=self.fd)
        except FileExistsError:
            return False
        except OSError as error:
            raise cannot_write(self.path / name, error) from None
        return True

    def rmdir_if_empty(self, name: str) -> None:
        with contextlib.suppress(OSError):  # not empty (or gone): it holds more than what venvlink put there
            os.rmdir(name, dir_fd=self.fd)


def _not_a_directory(path: Path, error: OSError) -> VenvlinkError:
    if os.path.islink(path):
        msg = (
            f"{path} is a symlink (to {os.readlink(path)}); venvlink changes only what is inside the venv itself: "
            "put the directory in its place"
        )
    else:
        msg = f"cannot open the directory {path}: {error.strerror or error}"
    return VenvlinkError(msg)


def _not_a_lock(path: Path, what: str) -> VenvlinkError:
    msg = f"refusing the lock file {path}: it is {what}, and venvlink locks only a regular file of your own; "
    return VenvlinkError(msg + "move it away, then run this again")


class Steps:
    """Changes made one after another, each recorded with what undoes it. When the block they are made in fails,
    the changes are undone in reverse order: what is left is what was there before. The directories the changes
    are made in stay open until the block ends."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self._last: list[Callable[[], None]] = []
        self._open: list[Directory] = []

    def __enter__(self) -> Steps:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            if kind is not None:
                while self._undo:
                    self._undo.pop()()
            for last in self._last:
                last()
        finally:
            for directory in self._open:
                directory.close()

    def did(self, undo: Callable[[], None]) -> None:
        """Record a change just made, and what undoes it."""
        self._undo.append(undo)

    def finally_(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` when the block ends, after any undo: for what is kept only so that it can be undone."""
        self._last.append(cleanup)

    def hold(self, directory: Directory) -> Directory:
        """Keep ``directory`` open until the block ends (the undos may need it)."""
        self._open.append(directory)
        return directory
