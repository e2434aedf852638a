"""The ``linkable`` virtualenv creator: virtualenv's own CPython or PyPy venv, with venvlink's stub as the
interpreter."""

from __future__ import annotations

import atexit
import configparser
import errno
import grp
import logging
import os
import shlex
import stat
import sys
from argparse import ArgumentTypeError
from datetime import datetime, timezone
from pathlib import Path

from virtualenv.create.pyenv_cfg import PyEnvCfg
from virtualenv.create.via_global_ref.api import ViaGlobalRefApi, ViaGlobalRefMeta
from virtualenv.create.via_global_ref.builtin.cpython.cpython3 import CPython3Posix
from virtualenv.create.via_global_ref.builtin.pypy.pypy3 import PyPy3Posix

from . import TYPE_CHECKING
from ._atomic import Directory, Steps, cannot_write
from ._convert import hold, interpreter_of, make_linkable
from ._export import export
from ._interpreter import SUPPORTED
from ._paths import absolute, destination
from ._paths import umask as current_umask
from ._policy import safe_export, trust_line
from ._registry import remember
from ._trust import others_can_change, others_can_change_inside, user
from ._venv import KEYS, Venv
from .commands import printable
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from argparse import ArgumentParser
    from typing import Any, ClassVar

    from python_discovery import PythonInfo
    from virtualenv.config.cli.parser import VirtualEnvOptions

_BUILTINS: tuple[type[CPython3Posix] | type[PyPy3Posix], ...] = (CPython3Posix, PyPy3Posix)


def _requested() -> bool:
    """Whether this virtualenv run asks for ``linkable``: on its command line, in VIRTUALENV_CREATOR or in
    virtualenv.ini. Only then does a declined interpreter get its reason shown instead of "invalid choice"."""
    argv = sys.argv[1:]
    if "--creator=linkable" in argv or any(a == "--creator" and b == "linkable" for a, b in zip(argv, argv[1:])):
        return True
    if os.environ.get("VIRTUALENV_CREATOR") == "linkable":
        return True
    import platformdirs  # noqa: PLC0415

    ini = os.environ.get("VIRTUALENV_CONFIG_FILE") or str(
        platformdirs.user_config_path("virtualenv", appauthor=False) / "virtualenv.ini"
    )
    config = configparser.ConfigParser()
    try:
        config.read(ini, encoding="utf-8")
    except configparser.Error:
        return False
    return config.get("virtualenv", "creator", fallback="").strip() == "linkable"


def _builtin_for(interpreter: PythonInfo) -> tuple[type[CPython3Posix] | type[PyPy3Posix], ViaGlobalRefMeta] | None:
    for builtin in _BUILTINS:
        minimum = SUPPORTED.get(interpreter.implementation)
        meta = builtin.can_create(interpreter)
        if meta is not None and minimum and tuple(interpreter.version_info[:2]) >= minimum:
            return builtin, meta
    return None


class LinkableCreator(ViaGlobalRefApi):
    """Create what ``cpython3-posix`` (or ``pypy3-posix``) creates, then replace the interpreters in ``bin/``
    with the stub, exactly as ``venvlink convert`` would.

    This class wraps the builtin creator instead of subclassing it: virtualenv takes the first
    ``VirtualenvBuiltin`` subclass among its plugins as ``builtin`` and as the describer, and third-party
    plugins load first, so a subclass would silently become everybody's default creator.
    """

    def __init__(self, options: VirtualEnvOptions, interpreter: PythonInfo) -> None:
        """Refuse, before anything is made, what the builtin would make but venvlink could not finish: an
        interpreter it does not serve, seeds this virtualenv lacks, an ``--export`` that would fail."""
        _say_refusals_in_one_line()
        try:
            found = _builtin_for(interpreter)
            if found is None:
                raise VenvlinkError(_decline_reason(interpreter))
            unseeded = _cannot_seed(options, interpreter)
            if unseeded is not None:
                raise VenvlinkError(unseeded)
            self._exports: list[str] = list(getattr(options, "export", None) or [])
            _check_exports(self._exports, Path(options.dest))
            super().__init__(options, interpreter)
            # options.meta is the meta the builtin's can_create made, with the files it links or copies.
            self._builtin = found[0](options, interpreter)
        except BaseException:
            _Made.take_back_for(str(options.dest))  # the directories validate_dest made: a refusal leaves none
            raise
        builtin_cfg = self._builtin.pyenv_cfg
        self._cfg = _PyEnvCfg(builtin_cfg.content, builtin_cfg.path)
        self.pyenv_cfg = self._builtin.pyenv_cfg = self._cfg
        self._keys: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401  # proxies the builtin's typed attributes
        # Layout (exe, bin_dir, purelib, libs, env_name, ...) is the builtin's: seeders and activators ask for it.
        if name == "_builtin":
            raise AttributeError(name)
        return getattr(self._builtin, name)

    @classmethod
    def can_create(cls, interpreter: PythonInfo) -> ViaGlobalRefMeta | None:
        """Create wherever virtualenv's builtin creator for CPython 3.8+ or PyPy 3.9+ on POSIX can."""
        found = _builtin_for(interpreter)
        if found is not None:
            return found[1]
        declined = ViaGlobalRefMeta()
        if not _requested():
            declined.error = _decline_reason(interpreter)  # type: ignore[assignment]  # CreatorMeta.error: None
        # asked for by name: accepted here, so that __init__ can say why it cannot, not argparse "invalid choice"
        return declined

    @classmethod
    def add_parser_arguments(cls, parser: ArgumentParser, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        """The builtin's options, and ``--export``: the creator's own, so that it works whatever activators are
        chosen, and virtualenv's list of activators stays as it was."""
        super().add_parser_arguments(parser, *args, **kwargs)
        parser.add_argument(
            "--export",
            action="append",
            metavar="PATH",
            default=[],
            help="make PATH a symlink to the new venv's python, as venvlink export does; repeatable",
        )

    @classmethod
    def validate_dest(cls, raw_value: str) -> str:
        """virtualenv's own checks; then DEST's missing directories, DEST included, made yours (:class:`_Made`):
        where every user can add entries but only an entry's owner can take it away (sticky, as ``/tmp``), a name
        made now is yours, where a name only written to later could be anybody's by then. Then DEST as given is
        judged, before virtualenv resolves it: virtualenv resolves the links in it, then deletes (``--clear``) and
        writes where they lead, by path, so a link or directory on the way, or in DEST, that another user could
        make or swap is refused while it can still be seen, before anything is deleted, and what was made is taken
        back. A refusal is one line, and SystemExit(2) to a program calling virtualenv, as argparse's errors are."""
        _say_refusals_in_one_line()
        try:
            super().validate_dest(raw_value)  # its own checks (a file at DEST, a directory it cannot write) first
        except ArgumentTypeError as error:
            raise _refused(str(error)) from None
        made = _Made.make(raw_value)
        doubt = others_can_change_inside(raw_value)
        if doubt:
            msg = (
                f"refusing to make a venv at {raw_value}: {doubt}, so another user could change what it runs; "
                f"{_way_out(raw_value)}"
            )
            made.take_back()
            raise _refused(msg)
        try:
            resolved = str(super().validate_dest(raw_value))
        except ArgumentTypeError as error:
            made.take_back()
            raise _refused(str(error)) from None
        made.keep(resolved)
        return resolved

    def create(self) -> None:
        """Create the builtin venv, put the stub in place of each interpreter (recording what was there), and make
        each ``--export``; remember the venv in venvlink's registry, for ``venvlink doctor --fix``."""
        _Made.claimed(str(self.dest))  # what validate_dest made is the venv's now, whatever follows
        private = _claim(Path(self.dest))  # before the builtin makes anything in DEST
        self._builtin.create()  # it writes pyvenv.cfg itself once: not the last write
        if private is not None:
            # the stub refuses a bin/ others can write (it cannot know that DEST keeps them out): the bit comes off
            # what the builtin made before anything runs it (--export's check, the pip seeder); DEST stays 0700
            _drop_others_write(private.venv)
        with Steps() as steps:
            venv_dir = hold(Path(self.dest), steps)
            state = Venv.read(Path(self.dest), through=venv_dir)
            make_linkable(state, interpreter_of(state), steps, venv_dir)
        for dest in self._exports:
            result = export(self.dest, dest)
            if result.path_note:
                print(f"note: {result.path_note}", file=sys.stderr)
        note = remember(Path(self.dest), datetime.now(timezone.utc).isoformat(timespec="seconds"))
        if note:
            print(f"note: {note}", file=sys.stderr)
        values = Venv.read(Path(self.dest)).values
        self._keys = {key: values[key] for key in KEYS if key in values}
        self._cfg.private = private  # the next write of pyvenv.cfg is the session's last, after seeds and activators

    def set_pyenv_cfg(self) -> None:
        """Write what the builtin writes, plus venvlink's keys (virtualenv rewrites pyvenv.cfg after create)."""
        self._builtin.set_pyenv_cfg()
        for key, value in self._keys.items():
            self.pyenv_cfg[key] = value


class _PyEnvCfg(PyEnvCfg):
    """virtualenv's pyvenv.cfg, which its session writes last of all, after the seeders and activators: the venv
    made private by :class:`_Private` is opened to others then."""

    private: _Private | None = None

    def write(self) -> None:
        super().write()
        if self.private is not None:
            private, self.private = self.private, None
            private.finish()


class _Private:
    """DEST, held open and private to its owner (mode 0700) while virtualenv fills it, under a umask that lets
    others write (000; not 002, which a group's shared venv is made with). virtualenv makes each directory 0777 as it
    goes: another user could drop a ``.pth`` into site-packages, which would stay, theirs, and run as the venv's
    owner. So nobody else enters DEST until the end; then others' write bit comes off everything in it, and DEST
    gets the mode it would have had, less that bit."""

    def __init__(self, venv: Directory, mode: int) -> None:
        self.venv = venv
        self.mode = mode
        # if virtualenv fails, or is interrupted, before the end, DEST stays private: say so, once, as it exits
        atexit.register(self._left_private)

    def finish(self) -> None:
        with self.venv:
            _drop_others_write(self.venv)
            os.fchmod(self.venv.fd, self.mode)
        atexit.unregister(self._left_private)

    def _left_private(self) -> None:
        held, named = os.fstat(self.venv.fd), os.lstat(self.venv.path)
        if (held.st_dev, held.st_ino) != (named.st_dev, named.st_ino):
            print(f"note: {self.venv.path} is not the directory venvlink made; do not use it", file=sys.stderr)
            return
        print(
            f"note: {self.venv.path} is left private to you (mode 0700), as its creation did not finish; remove it, "
            "or run virtualenv again with --clear",
            file=sys.stderr,
        )


def _claim(dest: Path) -> _Private | None:
    """DEST, made, or taken as it is if it is a directory of yours, just before the builtin writes into it by path:
    virtualenv's ``--clear`` has deleted it by now, and whoever can write DEST's directory (``/tmp``) could have put
    a link or a directory of theirs there since. Either is refused, a link never followed. Under a umask that lets
    others write, DEST is then held open and private to you until virtualenv's last write (:class:`_Private`);
    otherwise None."""
    umask = current_umask()
    private = not umask & stat.S_IWOTH
    try:
        os.mkdir(dest, 0o700 if private else 0o777 & ~stat.S_IWOTH)  # never through a link: EEXIST
        made = True
    except FileExistsError:
        made = False  # virtualenv writes into it: validate_dest's, or an existing venv judged there
    except OSError as error:
        raise cannot_write(dest, error) from None
    try:
        fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        raise VenvlinkError(_not_claimed(dest)) from None
    found = os.fstat(fd)
    if found.st_uid != os.geteuid():
        os.close(fd)
        msg = (
            f"refusing to make a venv at {dest}: it belongs to {user(found.st_uid)}, who could change what it runs; "
            f"nothing was written in it; ask its owner, or {_PRIVATE}"
        )
        raise VenvlinkError(msg)
    venv = Directory(fd, dest)
    if not private:
        venv.close()
        return None
    # nobody else can change DEST's path nor what is in it (validate_dest): private from here on
    os.fchmod(venv.fd, 0o700)  # only now: a DEST refused keeps its mode
    mode = (0o777 & ~umask) if made else stat.S_IMODE(found.st_mode)  # what it would have been without us
    return _Private(venv, mode & ~stat.S_IWOTH)


def _not_claimed(dest: Path) -> str:
    """Why ``dest``, there when the creator came to fill it, is not a directory it can fill."""
    try:
        found = os.lstat(dest)
    except OSError as error:
        return f"cannot open {dest}: {error.strerror}; nothing was changed"
    what = f"a symlink (to {os.readlink(dest)})" if stat.S_ISLNK(found.st_mode) else "not a directory"
    return (
        f"refusing to make a venv at {dest}: it is now {what} of {user(found.st_uid)}, put there after virtualenv "
        f"checked it; nothing was followed or written; {_PRIVATE}"
    )


class _Made:
    """The directories :meth:`LinkableCreator.validate_dest` made on the way to DEST, each held by its parent's
    descriptor (whatever happens to the path meanwhile, what is taken back is what was made): taken back, if still
    empty, when the creator refuses before it claims DEST in ``create``, or at exit if it never does (virtualenv
    refused an argument after DEST). A refusal leaves nothing made."""

    #: by DEST as virtualenv resolved it; the directories of a DEST given twice in one process (tox) are its first
    pending: ClassVar[dict[str, list[_Made]]] = {}
    _at_exit = False

    def __init__(self) -> None:
        self.fds: list[int] = []
        self.made: list[tuple[int, str, int, int]] = []  # parent's descriptor, name, device, inode

    @classmethod
    def make(cls, given: str) -> _Made:
        """DEST's missing directories, DEST included, made as ``mkdir -p`` would, without others' write bit
        whatever the umask: each by name in the directory made before it (O_NOFOLLOW), from the last directory
        there, and only if nobody else can change the way to that one (a link of theirs would choose where)."""
        made = cls()
        parts = Path(os.path.join(os.getcwd(), given)).parts
        at = next((at for at in range(2, len(parts) + 1) if not os.path.lexists(os.path.join(*parts[:at]))), None)
        if at is None:
            return made  # all there: judged as it is
        there = os.path.join(*parts[: at - 1])
        missing = Path(os.path.normpath(os.path.join(*parts[at - 1 :]))).parts
        if missing[0] == ".." or others_can_change(there, shared_end=True):
            return made  # nothing made: what is refused, the judgement says
        try:
            fd = os.open(there, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return made  # virtualenv says why
        made.fds.append(fd)
        mode = 0o777 & ~(current_umask() | stat.S_IWOTH)
        for name in missing:
            try:
                os.mkdir(name, mode, dir_fd=fd)
                inside = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except OSError:
                break  # made by someone else meanwhile, or not allowed: judged, or said by virtualenv, as it is
            made.fds.append(inside)
            found = os.fstat(inside)
            made.made.append((fd, name, found.st_dev, found.st_ino))
            fd = inside
        return made

    def take_back(self) -> None:
        """Remove what was made, deepest first, each only if it is still the directory made and empty."""
        for parent, name, device, inode in reversed(self.made):
            try:
                found = os.stat(name, dir_fd=parent, follow_symlinks=False)
                if (found.st_dev, found.st_ino) != (device, inode):
                    break
                os.rmdir(name, dir_fd=parent)
            except OSError:
                break  # not empty (a member of your group wrote in it): theirs to see, and yours to remove
        self.close()

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds, self.made = [], []

    def keep(self, dest: str) -> None:
        """Hold what was made until the creator claims ``dest`` (or refuses it)."""
        if not self.made:
            self.close()
            return
        self.pending.setdefault(dest, []).append(self)
        if not _Made._at_exit:
            _Made._at_exit = True
            atexit.register(_Made.take_back_all)

    @classmethod
    def take_back_for(cls, dest: str) -> None:
        for made in reversed(cls.pending.pop(dest, [])):
            made.take_back()

    @classmethod
    def claimed(cls, dest: str) -> None:
        for made in cls.pending.pop(dest, []):
            made.close()

    @classmethod
    def take_back_all(cls) -> None:
        for dest in list(cls.pending):
            cls.take_back_for(dest)


#: the way out where other users can create entries: the one fix that needs nobody else
_PRIVATE = "make a private directory first (mktemp -d), and the venv in it"


def _way_out(given: str) -> str:
    """What the caller can do about DEST, refused by :func:`others_can_change_inside`: told by the first thing on
    the way to DEST, or in it, that another user could change, from its owner and mode alone (the judgement itself
    is the rule's). Never to change the mode of a directory the caller does not own."""
    me, groups = os.geteuid(), {os.getegid(), *os.getgroups()}
    path = Path(os.path.join(os.getcwd(), given))
    try:
        for entry in [*reversed(path.parents), path][1:]:
            directory = Path(os.path.realpath(entry.parent))
            around = os.stat(directory)
            found = os.lstat(entry) if os.path.lexists(entry) else None
            everyone = around.st_mode & stat.S_IWOTH
            group = around.st_mode & stat.S_IWGRP and around.st_gid not in groups
            protected = around.st_mode & stat.S_ISVTX and found is not None and found.st_uid in (0, me)
            if (everyone or group) and not protected:
                return _way_out_of(directory, around, everyone=bool(everyone))
            if found is None:
                break
            if found.st_uid not in (0, me):
                return f"ask its owner, {user(found.st_uid)}{trust_line(found.st_uid, entry, entry)}, or {_PRIVATE}"
        top = os.path.realpath(path)
        for where, names, files in os.walk(top):  # in DEST: what is there may be another user's
            for name in (".", *names, *files):
                found = os.lstat(os.path.join(where, name))
                if found.st_uid not in (0, me):
                    trust = trust_line(found.st_uid, Path(top), Path(top))
                    return f"ask its owner, {user(found.st_uid)}{trust}, or {_PRIVATE}"
        if os.stat(top).st_uid == me:
            return f"what is in it may be another user's: remove it (rm -r {shlex.quote(top)}) and run this again"
    except OSError:
        pass
    return _PRIVATE


def _way_out_of(directory: Path, found: os.stat_result, *, everyone: bool) -> str:
    """What to do about ``directory``, which users other than you can write."""
    if everyone and found.st_mode & stat.S_ISVTX:
        return _PRIVATE  # /tmp: whose it is, it stays everybody's
    quoted = shlex.quote(str(directory))
    if found.st_uid == os.geteuid():
        change = f"take that write permission off it (it is yours): chmod {'o' if everyone else 'g'}-w {quoted}"
    else:
        change = f"ask its owner, {user(found.st_uid)}, to take that write permission off"
    if everyone:
        return f"{change}, or {_PRIVATE}"
    try:
        group = f"group {grp.getgrgid(found.st_gid).gr_name}"
    except KeyError:
        group = f"group {found.st_gid}"
    return f"if you trust every member of {group}, run: {safe_export(directory)}; otherwise {change}, or {_PRIVATE}"


def _check_exports(exports: list[str], venv: Path) -> None:
    """Each ``--export`` that ``create`` would refuse, refused now, before anything is made: a link can go only where
    nothing is (the creator has no ``--force``), in a directory that exists, and not inside the venv."""
    seen: set[Path] = set()
    for given in exports:
        link = destination(given)
        if link == venv or venv in link.parents:
            problem = f"it is inside the venv {venv}, whose files are the venv's own; choose a PATH outside it"
        elif link in seen:
            problem = "it is given twice"
        elif os.path.lexists(link):
            problem = (
                f"{link} already exists, and the creator replaces nothing; remove it first, or export it afterwards "
                f"with: venvlink export --force {shlex.quote(str(venv))} {shlex.quote(str(link))}"
            )
        elif os.path.lexists(link.parent) and not os.path.isdir(link.parent):
            problem = f"{link.parent} is not a directory; give the path of a link in a directory"
        elif not os.path.isdir(link.parent):
            problem = f"{link.parent} does not exist; create it first: mkdir -p {shlex.quote(str(link.parent))}"
        else:
            seen.add(link)
            continue
        msg = f"cannot --export {absolute(given)}: {problem}"
        raise _refused(msg)


class _BadArgument(SystemExit):
    """A refused argument, as argparse refuses one: SystemExit(2), its line said first (:func:`_refused`)."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _refused(message: str) -> _BadArgument:
    """A refused argument, said as argparse says one, before SystemExit(2): on standard error, so that a program
    calling virtualenv's ``cli_run`` (hatch) shows it too, then exits or catches it; on virtualenv's command line
    nothing follows it (:class:`_OneLine`), neither usage text nor ``SystemExit: 2``."""
    print(f"venvlink: error: {printable(message)}", file=sys.stderr)
    return _BadArgument(message)


class _OneLine(logging.Filter):
    """virtualenv's command line reports what stopped it as ``TYPE: message`` in its log, on standard output,
    then exits (1, or a SystemExit's code): a refusal of the creator is one line on standard error instead,
    ``venvlink: error: message``, as the venvlink command says its own; a refused argument has said it already."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        refusal = next((a for a in args if isinstance(a, (VenvlinkError, _BadArgument))), None)
        if isinstance(refusal, VenvlinkError):
            print(f"venvlink: error: {printable(str(refusal))}", file=sys.stderr)
        return refusal is None


_ONE_LINE = _OneLine()


def _say_refusals_in_one_line() -> None:
    """Install :class:`_OneLine` where virtualenv's ``run_with_catch`` logs: its module's logger since 21 (named
    ``__main__`` under ``python -m virtualenv``), the root logger before. Only the creator's own refusals change."""
    for logger in map(logging.getLogger, (None, "virtualenv.__main__", "__main__")):
        if _ONE_LINE not in logger.filters:
            logger.addFilter(_ONE_LINE)


def _drop_others_write(venv: Directory) -> None:
    """Others' write bit off everything in ``venv``, each entry reached through its directory's descriptor, never
    through a symlink, so that nothing outside changes whatever is swapped in meanwhile: os.fwalk descends only into
    the directory it listed (a link swapped in is skipped), and O_NOFOLLOW refuses a link where a file was."""

    def drop(fd: int, path: str) -> None:
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & stat.S_IWOTH:
                os.fchmod(fd, mode & ~stat.S_IWOTH)
        except OSError as error:
            raise cannot(path, error) from None

    def cannot(path: str, error: OSError) -> VenvlinkError:
        where = os.path.normpath(venv.path / path)
        return VenvlinkError(f"cannot take others' write permission off {where}: {error.strerror}")

    def unlisted(error: OSError) -> None:  # os.fwalk's: a directory it cannot walk would keep the bit inside
        if not isinstance(error, FileNotFoundError):
            raise VenvlinkError(f"cannot walk {venv.path} to take others' write permission off: {error}")

    for where, _, names, directory in os.fwalk(".", dir_fd=venv.fd, follow_symlinks=False, onerror=unlisted):
        drop(directory, where)
        for name in names:
            path = os.path.join(where, name)
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory)
            except OSError as error:
                if error.errno in {errno.ENOENT, errno.ELOOP}:
                    continue  # gone, or a symlink: what it points to is not the venv's to change
                raise cannot(path, error) from None
            try:
                drop(fd, path)
            finally:
                os.close(fd)


def _cannot_seed(options: VirtualEnvOptions, interpreter: PythonInfo) -> str | None:
    """Why this virtualenv cannot seed a venv of ``interpreter`` (virtualenv 21.5 dropped Python 3.8's wheels),
    said before anything is made, with what to do; tools such as tox show only the error's type otherwise."""
    if getattr(options, "no_seed", False) or getattr(options, "seeder", "app-data") not in {"app-data", "pip"}:
        return None
    try:
        from virtualenv.seed.embed.base_embed import BaseEmbed  # noqa: PLC0415
    except ImportError:
        return None
    check = getattr(BaseEmbed, "cannot_seed", None)
    if check is None or check(interpreter) is None:
        return None
    from virtualenv import __version__ as virtualenv_version  # noqa: PLC0415

    version = ".".join(map(str, interpreter.version_info[:2]))
    return (
        f"virtualenv {virtualenv_version} cannot put pip into a Python {version} venv (it seeds 3.9 and later): "
        f"pass --no-seed (then run the venv's python -m ensurepip), or use virtualenv<21.5, the last that seeds "
        f"{version} (tox: requires = virtualenv<21.5)"
    )


def _decline_reason(interpreter: PythonInfo) -> str:
    version = ".".join(map(str, interpreter.version_info[:3]))
    supported = " or ".join(f"{name} {major}.{minor}+" for name, (major, minor) in SUPPORTED.items())
    return (
        f"the linkable creator needs {supported} on Linux or another POSIX system; "
        f"{interpreter.executable} is {interpreter.implementation} {version} on {interpreter.platform}"
        " (macOS framework builds are not supported either); give another with -p, or use --creator builtin"
    )
