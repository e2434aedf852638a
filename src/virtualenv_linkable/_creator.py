"""The ``linkable`` virtualenv creator: virtualenv's own CPython or PyPy venv, with venvlink's stub as the
interpreter."""

from __future__ import annotations

import atexit
import configparser
import errno
import os
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
from ._paths import make_directories
from ._registry import remember
from ._trust import SAFE, others_can_change_inside
from ._venv import KEYS, Venv
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from argparse import ArgumentParser
    from typing import Any

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
        found = _builtin_for(interpreter)
        if found is None:
            raise VenvlinkError(_decline_reason(interpreter))
        unseeded = _cannot_seed(options, interpreter)
        if unseeded is not None:
            raise VenvlinkError(unseeded)
        super().__init__(options, interpreter)
        # options.meta is the meta the builtin's can_create made, with the files it links or copies.
        self._builtin = found[0](options, interpreter)
        builtin_cfg = self._builtin.pyenv_cfg
        self._cfg = _PyEnvCfg(builtin_cfg.content, builtin_cfg.path)
        self.pyenv_cfg = self._builtin.pyenv_cfg = self._cfg
        self._exports: list[str] = list(getattr(options, "export", None) or [])
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
        """virtualenv's checks, after venvlink's on DEST as given: virtualenv resolves the links in it, then deletes
        (``--clear``) and writes where they lead, by path, so a link or directory on the way, or in an existing DEST,
        that another user could make or swap is refused first, while it can still be seen, and before anything is
        deleted or made."""
        doubt = others_can_change_inside(raw_value)
        if doubt:
            msg = f"refusing to make a venv at {raw_value}: {doubt}, so another user could change what it runs; {SAFE}"
            raise ArgumentTypeError(msg)
        return str(super().validate_dest(raw_value))

    def create(self) -> None:
        """Create the builtin venv, put the stub in place of each interpreter (recording what was there), and make
        each ``--export``; remember the venv in venvlink's registry, for ``venvlink doctor --fix``."""
        private = _Private.make(Path(self.dest))  # before the builtin makes anything in DEST
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

    @classmethod
    def make(cls, dest: Path) -> _Private | None:
        """DEST made private, created if it is not there; None when the umask keeps others out anyway."""
        umask = os.umask(0)
        os.umask(umask)
        if umask & stat.S_IWOTH:
            return None
        try:
            make_directories(dest.parent)
            os.mkdir(dest, 0o700)
            made = True
        except FileExistsError:
            made = False  # virtualenv writes into it (--clear has deleted it by now)
        except OSError as error:
            raise cannot_write(dest, error) from None
        venv = Directory.open(dest, follow=False)
        found = os.fstat(venv.fd)
        if found.st_uid != os.geteuid():
            venv.close()
            msg = (
                f"refusing to create a venv in {dest}: it belongs to uid {found.st_uid}, and under umask {umask:03o} "
                "only its owner could keep other users from writing into it while it is made; make it as its owner, "
                "or under umask 022"
            )
            raise VenvlinkError(msg)
        # nobody else can change DEST's path nor what is in it (validate_dest): private from here on
        os.fchmod(venv.fd, 0o700)  # only now: a DEST refused keeps its mode
        mode = (0o777 & ~umask) if made else stat.S_IMODE(found.st_mode)  # what it would have been without us
        return cls(venv, mode & ~stat.S_IWOTH)

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
        " (macOS framework builds are not supported either)"
    )
