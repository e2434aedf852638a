"""Whether anyone but you could change what a path names, for the writes venvlink makes by path (a link at DEST,
a venv virtualenv fills); and reading only regular files, so that no path makes venvlink open a device or a FIFO,
or read a procfs file. venvlink runs no program of a venv (it reads), so nothing here judges what would run.

venvlink runs as whoever calls it, root included, on paths other users may have made. A path is yours when every
directory and link on the way to it (as the kernel follows them), and the file itself, belong to you or root (or
are a directory a group you are in can write: its owner is one of that group, trusted as you trust it), and none of
those directories lets a user who is not you add or replace an entry: writable by every user or by a group you are
not in, or by a user or group an ACL names, unless sticky (then only the entry taken must be yours or root's, as in
``/tmp``). Inside a venv, what a member of a group you are in owns where that group can write is trusted too.

``VENVLINK_SAFE_DIRECTORIES`` (absolute directories, separated as in ``PATH``) says whom else you trust, as git's
``safe.directory`` does: under each, who owns and who can write is not asked (a container's root on a workspace
mounted from a user's home; a project directory an HPC group leader owns).
"""

from __future__ import annotations

import contextlib
import errno
import grp
import os
import pwd
import stat
import struct
from pathlib import Path

from . import TYPE_CHECKING
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Iterator

_MAX_LINKS = 40  # as the kernel follows them
# procfs and sysfs files are the kernel's: reading one can take what others wait for (/proc/kmsg drains its log),
# block, or clear a device's state; those of size 0 are not read anyway
_KERNEL_FILES = ("/proc/", "/sys/")


def user(uid: int) -> str:
    """``alice (uid 1000)``, or ``uid 1000`` for a uid without a name."""
    with contextlib.suppress(KeyError):
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    return f"uid {uid}"


def _group(gid: int) -> str:
    with contextlib.suppress(KeyError):
        return f"group {grp.getgrgid(gid).gr_name}"
    return f"group {gid}"


def _owned(found: os.stat_result) -> bool:
    return found.st_uid in (0, os.geteuid())


_ACL = "system.posix_acl_access"
_ACL_USER, _ACL_GROUP, _ACL_WRITE = 0x02, 0x08, 0x02  # linux/posix_acl_xattr.h: entries of (tag u16, perm u16, id u32)


def _who_else_writes(found: os.stat_result, path: Path) -> str | None:
    """Who, besides the owner, can write the file or directory: every user, a group the caller is not in, or a user
    or group its ACL names (whose write the group bits, then the ACL's mask, show)."""
    groups = {os.getegid(), *os.getgroups()}
    if found.st_mode & stat.S_IWOTH:
        return "every user"
    if not found.st_mode & stat.S_IWGRP:
        return None
    acl = b""
    with contextlib.suppress(OSError):
        acl = os.getxattr(path, _ACL, follow_symlinks=False)
    for at in range(4, len(acl) - 7, 8):
        tag, perm, who = struct.unpack_from("<HHI", acl, at)
        if perm & _ACL_WRITE and tag == _ACL_USER and who != os.geteuid():
            return f"{user(who)}, named in its ACL,"
        if perm & _ACL_WRITE and tag == _ACL_GROUP and who not in groups:
            return f"every member of {_group(who)}, named in its ACL,"
    if found.st_gid not in groups:
        return f"every member of {_group(found.st_gid)}"
    return None


def _steps(
    path: str | os.PathLike[str],
) -> Iterator[tuple[Path, os.stat_result, Path, os.stat_result | None, bool]]:
    """Each entry the kernel takes on the way to ``path``, links followed: the directory, its status, the entry, its
    own status (None: it does not exist, and the walk ends), and whether it is the last name of the path as it
    stands (a link there is followed further)."""
    current, pending, links = Path("/"), list(Path(os.path.join(os.getcwd(), path)).parts[1:]), 0
    found = os.lstat(current)
    while pending:
        name = pending.pop(0)
        if name in ("", ".", ".."):
            current = current.parent if name == ".." else current
            found = os.lstat(current)
            continue
        entry = current / name
        try:
            inside: os.stat_result | None = os.lstat(entry)
        except FileNotFoundError:
            inside = None
        yield current, found, entry, inside, not pending
        if inside is None:
            return
        if stat.S_ISLNK(inside.st_mode):
            links += 1
            if links > _MAX_LINKS:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), os.fspath(path))
            target = os.readlink(entry)
            pending[:0] = Path(target).parts[1:] if target.startswith("/") else Path(target).parts
            current = Path("/") if target.startswith("/") else current
            found = os.lstat(current)
        else:
            current, found = entry, inside


def others_can_change(path: str | os.PathLike[str], *, shared_end: bool = False) -> str | None:
    """Why a user who is not you could change what ``path`` names, such as ``every member of group staff can write
    /usr/local, where /usr/local/venv is``; None when nobody but you and root can (see the module's rule). A path
    that does not exist is judged up to where it stops: nobody else can create what is missing. ``shared_end``: the
    directory ``path`` names may itself be another user's, or writable by others (DEST's: they can change what is
    in it, not which directory it is)."""
    last: tuple[os.stat_result, Path] | None = None
    safe = safe_directories()
    try:
        for directory, found, entry, inside, at_end in _steps(path):
            trusted = any(entry == safe_dir or safe_dir in entry.parents for safe_dir in safe)
            # whoever can write a directory you trust is as you trust them; who can replace it is still asked
            writer = None if trusted and entry not in safe else _who_else_writes(found, directory)
            if inside is None:
                return f"{writer} can write {directory}, where {entry} would be" if writer else None
            if writer and not (found.st_mode & stat.S_ISVTX and _owned(inside)):
                return f"{writer} can write {directory}, where {entry} is"
            link = stat.S_ISLNK(inside.st_mode)
            mine = _owned(inside) or trusted or _shared(inside) or (shared_end and at_end and not link)
            if not mine:  # a link too: whoever made it could write there
                return f"{entry} belongs to {user(inside.st_uid)}"
            last = None if trusted else (inside, entry) if not link else last
        writer = _who_else_writes(*last) if last is not None and not shared_end else None
    except OSError as error:
        return f"cannot check {path}: {error.strerror}"
    return f"{writer} can write {path}" if writer else None


def others_can_change_inside(path: str | os.PathLike[str]) -> str | None:
    """As :func:`others_can_change`, for a directory and everything in it: each directory, link and file below it
    yours or root's (or, in a directory a group you are in can write, a member's), and none but a link writable by
    others. A program writing into a directory by path (virtualenv filling an existing DEST) writes where whoever
    can swap a directory in it chooses."""
    doubt = others_can_change(path)
    top = Path(os.path.realpath(path))  # as it stays: nobody else can change the way there
    if doubt or not top.is_dir() or any(d == top or d in top.parents for d in safe_directories()):
        return doubt
    try:
        # each directory, its status, and the fellow members whose directories it is in (what they own below theirs
        # they put there, as they could anyway)
        pending: list[tuple[Path, os.stat_result, frozenset[int]]] = [(top, os.stat(top), frozenset())]
        while pending:
            directory, directory_found, fellows = pending.pop()
            with os.scandir(directory) as entries:
                for entry in entries:
                    found, where = entry.stat(follow_symlinks=False), Path(entry.path)
                    if not (_owned(found) or found.st_uid in fellows or _fellow_member(found.st_uid, directory_found)):
                        return f"{where} belongs to {user(found.st_uid)}"
                    writer = None if stat.S_ISLNK(found.st_mode) else _who_else_writes(found, where)
                    if writer:
                        return f"{writer} can write {where}"
                    if stat.S_ISDIR(found.st_mode):
                        pending.append((where, found, fellows if _owned(found) else fellows | {found.st_uid}))
    except OSError as error:
        return f"cannot check {error.filename or top}: {error.strerror}"
    return None


def _shared(found: os.stat_result) -> bool:
    """Whether ``found`` is a directory a group you are in can write: whoever owns it (a PI's project directory, a
    lab's venv one member made) is of that group, trusted as you trust it; who else can write it is still asked."""
    groups = {os.getegid(), *os.getgroups()}
    return stat.S_ISDIR(found.st_mode) and bool(found.st_mode & stat.S_IWGRP) and found.st_gid in groups


def _fellow_member(uid: int, directory: os.stat_result) -> bool:
    """Whether ``uid`` is a member of a group you are in that can write ``directory``: what they own there (a
    package a lab member installed into the lab's venv) they could have put there anyway, and that group is
    trusted as you trust it."""
    if not directory.st_mode & stat.S_IWGRP or directory.st_gid not in {os.getegid(), *os.getgroups()}:
        return False
    try:
        member = pwd.getpwuid(uid)
        return member.pw_gid == directory.st_gid or member.pw_name in grp.getgrgid(directory.st_gid).gr_mem
    except KeyError:
        return False


def safe_directories() -> list[Path]:
    """VENVLINK_SAFE_DIRECTORIES's entries, each absolute (as git's safe.directory: a relative one would name a
    directory relative to wherever venvlink runs) and reached through no link: trusted is the directory named, not
    where a link leads, which whoever made the link could turn to ``/`` and have every path trusted."""
    entries = [d for d in os.environ.get("VENVLINK_SAFE_DIRECTORIES", "").split(os.pathsep) if d]
    found = []
    for d in entries:
        if not os.path.isabs(d):
            msg = f"VENVLINK_SAFE_DIRECTORIES has a relative entry {d!r}; give absolute paths"
            raise VenvlinkError(msg)
        given, real = Path(os.path.normpath(d)), Path(os.path.realpath(d))
        if given != real:
            msg = (
                f"VENVLINK_SAFE_DIRECTORIES lists {d}, which a link makes {real}; list the directory itself "
                "(whoever made the link could make it lead elsewhere)"
            )
            raise VenvlinkError(msg)
        found.append(given)
    return found


def open_regular(path: str | os.PathLike[str]) -> int:
    """A descriptor to read the regular file at ``path`` (links followed); OSError for anything else, which is
    never opened: opening a device can act (a watchdog starts counting), a FIFO blocks or wakes its writer. Nor is a
    file of size 0 read (OSError ENODATA: it reads as empty): procfs files say 0, and reading one can take what
    others wait for (root reading ``/proc/kmsg`` drains the kernel's log) or block. Linux checks the file through
    an ``O_PATH`` descriptor, which opens nothing, then reopens that very file; elsewhere a check before the open
    and one after leave a race only a device's open can lose."""
    if hasattr(os, "O_PATH"):
        handle = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            _check_regular(os.fstat(handle), path)
            with contextlib.suppress(FileNotFoundError):  # no /proc
                if os.readlink(f"/proc/self/fd/{handle}").startswith(_KERNEL_FILES):
                    raise OSError(errno.EINVAL, "a file of the kernel's, not read", os.fspath(path))
                return os.open(f"/proc/self/fd/{handle}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        finally:
            os.close(handle)
    before = os.stat(path)
    _check_regular(before, path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    after = os.fstat(fd)
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise OSError(errno.EINVAL, "not the file checked", os.fspath(path))
    return fd


def _check_regular(found: os.stat_result, path: str | os.PathLike[str]) -> None:
    if not stat.S_ISREG(found.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
    if found.st_size == 0:
        raise OSError(errno.ENODATA, "empty, or a file of procfs: not read", os.fspath(path))
