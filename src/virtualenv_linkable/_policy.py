"""Whether venvlink may write where it was asked to: the one place that decides, over what was read, and the
caller.

venvlink runs nothing of a venv (it reads what an interpreter is), so what it must judge is its own writes: into a
venv (convert, ``doctor --fix``, ``export`` of a venv to convert) only where the caller could make that change
anyway, every write then through descriptors held from the first read, so that nobody can redirect it; and a link
placed by path (``export``'s DEST) only where nobody else could make the path lead elsewhere. Who owns the base
installation, or the directories above a venv, is no reason to refuse: nothing there is run or written.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

from ._paths import bin_home
from ._trust import others_can_change, safe_directories, user

#: the directories of a venv that converting writes into: its own (pyvenv.cfg), bin/ and libexec/
WRITTEN = ("", "bin", "libexec")


def _yours(found: os.stat_result) -> bool:
    """Whether the caller could change what is in the directory ``found`` describes without venvlink: it is
    theirs (root's, for root), or a group they are in can write it (a lab's venv, a PI's project directory)."""
    if found.st_uid == os.geteuid():
        return True
    return bool(found.st_mode & stat.S_IWGRP) and found.st_gid in {os.getegid(), *os.getgroups()}


def trust_line(owner: int, where: Path, listed: Path) -> str:
    """``, or, if you trust alice (uid 1000), run: export VENVLINK_SAFE_DIRECTORIES=DIR``: the line that would let
    a refusal through, offered only to whom it would help, a caller who can write ``where`` anyway (root)."""
    if not os.access(where, os.W_OK):
        return ""
    return f", or, if you trust {user(owner)}, run: {safe_export(listed)}"


def safe_export(directory: Path) -> str:
    """The shell line that lists ``directory`` in VENVLINK_SAFE_DIRECTORIES, beside what it lists already."""
    listed = os.pathsep.join(d for d in (str(directory), os.environ.get("VENVLINK_SAFE_DIRECTORIES", "")) if d)
    return f"export VENVLINK_SAFE_DIRECTORIES={shlex.quote(listed)}"


def refusal_to_change(venv: Path, directories: dict[str, os.stat_result]) -> str | None:
    """Why the caller may not change ``venv``, given the status of each of its :data:`WRITTEN` directories that
    exists (read through the descriptors the change then writes through); None when they may.

    Stops: root (or any user) writing stubs and keys into a venv another user owns, as a command run in their
    directory, without having been told to trust them; the venv's owner could then not tell who changed it, and
    ``doctor --fix`` would keep changing it. Lets through: your own venvs, wherever they are; a group's venv or a
    venv in a group's directory you can write anyway; anything under ``VENVLINK_SAFE_DIRECTORIES`` (a container's
    root on a workspace mounted from the host's user)."""
    real = Path(os.path.realpath(venv))
    if any(safe == real or safe in real.parents for safe in safe_directories()):
        return None
    for name, found in directories.items():
        if not _yours(found):
            where = venv / name if name else venv
            owner = user(found.st_uid)
            return (
                f"refusing to change {venv}: {where} belongs to {owner} and is not writable by a group you are in; "
                f"ask its owner to run venvlink{trust_line(found.st_uid, where, real)}; nothing was changed"
            )
    return None


def refusal_to_place(dest: str | os.PathLike[str]) -> str | None:
    """Why a link may not be placed at (or removed from) ``dest``, judged as given, ``..`` included; None when it
    may. DEST's own directory may be shared (what is in it is theirs to change anyway, not which directory it is).

    Stops: a team member who can write a directory on the way (``/srv/team``, a group root is not in) making its
    ``bin/`` a link to ``/usr/bin``, where root's ``export --force`` would replace a file and ``remove`` delete one.
    Lets through: your directories, root's, ``/tmp`` (sticky: an entry of yours stays yours), a directory a group
    you are in can write, whoever owns it, and anything under ``VENVLINK_SAFE_DIRECTORIES``."""
    given = Path(os.path.join(os.getcwd(), os.fspath(dest)))
    doubt = others_can_change(given.parent, shared_end=True)
    if doubt is None:
        return None
    return (
        f"refusing {given}: {doubt}, so another user could make it name a file elsewhere; give a DEST in a "
        f"directory of your own (such as {bin_home()}), or, if you trust them, list the directory in "
        "VENVLINK_SAFE_DIRECTORIES"
    )
