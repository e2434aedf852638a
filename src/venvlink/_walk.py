"""The walk of docs/walk.rst in Python: what the stub does when started as a given path.

It mirrors src/venvlink/_stub/stub.c step for step, messages included; tests/walk_cases.json runs both.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from . import _pyvenv_cfg
from ._install import EXECUTABLE_KEY, is_stub
from .exceptions import VenvlinkError

MAX_HOPS = 40
MAX_LEVELS = 8
PATH_MAX = 4096
_INTERPRETER_KEYS = (EXECUTABLE_KEY, "base-executable", "executable")
_VERSION_KEYS = ("version_info", "version", "python-version")


@dataclass(frozen=True)
class Resolution:
    """What running ``path`` does when it leads to a venvlink stub.

    :ivar path: the path asked about
    :ivar via_stub: whether ``path`` leads to a venvlink stub; only then does the walk happen
    :ivar hops: the chain walked, from the start path to the hop where ``pyvenv.cfg`` was found
    :ivar pyvenv_cfg: the ``pyvenv.cfg`` found, or ``None``
    :ivar argv0: the in-venv path the interpreter gets as ``argv[0]``; its ``sys.prefix`` is ``prefix``
    :ivar executable: the interpreter the stub execs
    :ivar named_by: the ``pyvenv.cfg`` key that named ``executable``, or ``home`` for a guess from it
    :ivar error: the stub's one-line message when it cannot run anything (exit status 127)
    """

    path: str
    via_stub: bool
    hops: list[str] = field(default_factory=list)
    pyvenv_cfg: Path | None = None
    argv0: str | None = None
    executable: Path | None = None
    named_by: str | None = None
    error: str | None = None

    @property
    def prefix(self) -> Path | None:
        """The ``sys.prefix`` that results: the directory above ``argv0``'s, as CPython's ``site.py`` takes it."""
        return None if self.argv0 is None else Path(self.argv0).parent.parent


class _Stop(Exception):  # noqa: N818  # the stub's die(): not an error of this module
    pass


def _dir_of(path: str) -> str:
    return path.rpartition("/")[0] or "/"


def _fold(path: str) -> str:
    """The stub's fold(): drop "." components and repeated slashes; ".." stays, for the kernel to resolve."""
    out, i, end = [], 0, len(path)
    while i < end:
        if path[i] == "/" and i + 1 < end:
            after = path[i + 1]
            if after == "/" or (after == "." and (i + 2 == end or path[i + 2] == "/")):
                i += 1 if after == "/" else 2
                continue
        out.append(path[i])
        i += 1
    return "".join(out) or "/"


def _join(directory: str, name: str) -> str:
    """``directory/name`` folded; the stub's error when it does not fit in PATH_MAX (a cut path names another file)."""
    if len(os.fsencode(directory)) + 1 + len(os.fsencode(name)) >= PATH_MAX:
        msg = f"path too long: {directory}/{name}"
        raise _Stop(msg)
    return _fold(f"{directory}/{name}")


def _absolute(path: str) -> str | None:
    """``path`` made absolute against the cwd and folded; ``None`` when that does not fit in PATH_MAX."""
    joined = path if path.startswith("/") else f"{os.getcwd()}/{path}"
    return _fold(joined) if len(os.fsencode(joined)) < PATH_MAX else None


def _search_path(name: str, search_path: str | None) -> str | None:
    for directory in (search_path if search_path is not None else "/bin:/usr/bin").split(":"):
        if len(os.fsencode(directory or ".")) + len(os.fsencode(name)) + 2 >= PATH_MAX:
            continue
        candidate = f"{directory or '.'}/{name}"
        if os.access(candidate, os.X_OK) and os.path.isfile(candidate):
            return _absolute(candidate)
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _start(path: str, argv0: str | None, search_path: str | None) -> str:
    """Step 1: argv[0] is trusted only when it leads to the same file as ``path`` (the running stub)."""
    start = None
    if argv0:
        start = _absolute(argv0) if "/" in argv0 else _search_path(argv0, search_path)
    if start is not None and _same_file(start, path):
        return start
    return os.path.realpath(path)


def _find_cfg(path: str) -> Path | None:
    directory = _dir_of(path)
    for candidate in (_join(directory, "pyvenv.cfg"), _join(_dir_of(directory), "pyvenv.cfg")):
        if os.path.isfile(candidate):
            return Path(candidate)
    return None


def find_pyvenv_cfg(path: str) -> Path | None:
    """``pyvenv.cfg`` where CPython looks for one: beside ``path``, then one directory up."""
    try:
        return _find_cfg(path)
    except _Stop:
        return None


def _check_trust(cfg: Path) -> None:
    """The stub's StrictModes: no pyvenv.cfg that another user could have written."""
    try:
        info = cfg.stat()
    except OSError as error:
        raise _Stop(f"cannot open {cfg}: {error.strerror}") from None
    if info.st_mode & stat.S_IWOTH:
        msg = f"refusing {cfg}: every user can write it; fix: chmod o-w {cfg}"
        raise _Stop(msg)
    if info.st_uid not in {0, os.geteuid()}:
        msg = f"refusing {cfg}: it belongs to uid {info.st_uid}, not to you or root; fix: chown {os.geteuid()} {cfg}"
        raise _Stop(msg)


def _walk(start: str, hops: list[str]) -> Path:
    """Step 2: follow the chain one link at a time until a pyvenv.cfg turns up."""
    path = start
    for hop in range(MAX_HOPS + 1):
        hops.append(path)
        cfg = _find_cfg(path)
        if cfg is not None:
            return cfg
        chain = " -> ".join(hops)
        if hop == MAX_HOPS:
            msg = f"more than {MAX_HOPS} symlinks from {chain}; is there a loop?"
            raise _Stop(msg)
        try:
            target = os.readlink(path)
        except OSError as error:
            if error.errno == 22:  # EINVAL: not a link
                msg = (
                    f"no pyvenv.cfg beside {path} or its parent directory (checked {chain}); "
                    "link to a venv's bin/python"
                )
                raise _Stop(msg) from None
            msg = f"cannot read the link {path}: {error.strerror}"
            raise _Stop(msg) from None
        path = _fold(target) if target.startswith("/") else _join(_dir_of(path), target)
    raise AssertionError  # pragma: no cover  # the loop returns or raises


def _is_executable_file(path: str) -> bool:
    return os.access(path, os.X_OK) and os.path.isfile(path)


def _choose(cfg: Path) -> tuple[str, str]:
    """Step 4: the interpreter a pyvenv.cfg names, and the key that named it."""
    _check_trust(cfg)
    try:
        values = _pyvenv_cfg.read(cfg)
    except OSError as error:
        raise _Stop(f"cannot read {cfg}: {error.strerror}") from None
    except VenvlinkError as error:
        raise _Stop(str(error)) from None
    home = values.get("home")
    if not home:
        msg = f"no 'home' key in {cfg}; recreate the venv"
        raise _Stop(msg)
    for key in _INTERPRETER_KEYS:
        value = values.get(key)
        if not value:
            continue
        if not value.startswith("/"):
            msg = f"{key} in {cfg} is not an absolute path: {value}"
            raise _Stop(msg)
        absolute = _absolute(value)
        if absolute is None:
            raise _Stop(f"path too long: {value}")
        # The stub checks venvlink-executable only by exec'ing it: a missing file is reported, anything else
        # (a file that is not executable) only shows when it runs, as exit status 126.
        missing = not os.path.exists(absolute) if key == EXECUTABLE_KEY else not _is_executable_file(value)
        if missing:
            shown = absolute if key == EXECUTABLE_KEY else value
            msg = (
                f"interpreter {shown} named by {key} in {cfg} does not exist; "
                "the Python this venv was made from was moved or removed (recreate the venv)"
            )
            raise _Stop(msg)
        return absolute, key
    version = next((v for k in _VERSION_KEYS if (v := _major_minor(values.get(k)))), "")
    for name in ([f"python{version}"] if version else []) + ["python3", "python"]:
        if _is_executable_file(_join(home, name)):
            return _join(home, name), "home"
    msg = (
        f"no python in {home} (home in {cfg}); "
        "the Python this venv was made from was moved or removed (recreate the venv)"
    )
    raise _Stop(msg)


def _major_minor(value: str | None) -> str:
    """``3.8`` from ``3.8.18.final.0``, ``3.8.18`` or ``3.8``; empty when there is none."""
    major, dot, rest = (value or "").partition(".")
    minor = rest[: len(rest) - len(rest.lstrip("0123456789"))]
    return f"{major}.{minor}" if dot and minor and len(major) + 1 + len(minor) < 16 else ""


def _tidy(path: str) -> str:
    """The hop path as argv[0]: '..' resolved, as a venv's own python never shows it."""
    if "/../" not in path:
        return path
    directory = _dir_of(path)
    if not os.path.isdir(directory):
        return path
    return f"{os.path.realpath(directory)}/{path.rpartition('/')[2]}"


def resolve(path: str | os.PathLike[str], *, argv0: str | None = None, search_path: str | None = None) -> Resolution:
    """What the stub does when the kernel runs ``path`` with ``argv[0]`` (default: ``path`` itself).

    :param path: the file executed, as a user or program would name it
    :param argv0: the ``argv[0]`` it gets, if not ``path``; a bare name is searched on ``search_path``
    :param search_path: the ``PATH`` for a bare ``argv0`` (default: ``$PATH``)
    """
    path = os.fspath(path)
    if search_path is None:
        search_path = os.environ.get("PATH")
    hops: list[str] = []
    via_stub = is_stub(Path(path))
    try:
        start = _absolute(path) or path
        cfg = _walk(_start(start, start if argv0 is None else argv0, search_path), hops)
        found, argv = cfg, _tidy(hops[-1])
        for level in range(MAX_LEVELS):
            executable, named_by = _choose(found)
            nested = None if named_by == EXECUTABLE_KEY else _find_cfg(executable)
            if nested is None:
                return Resolution(path, via_stub, hops, cfg, argv, Path(executable), named_by)
            if level + 1 == MAX_LEVELS:
                msg = f"more than {MAX_LEVELS} venvs made from venvs; is there a loop? (last: {nested})"
                raise _Stop(msg)
            found = nested
    except _Stop as stop:
        return Resolution(path, via_stub, hops, error=str(stop))
    raise AssertionError  # pragma: no cover
