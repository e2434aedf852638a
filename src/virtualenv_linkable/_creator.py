"""The ``linkable`` virtualenv creator: virtualenv's own CPython or PyPy venv, with venvlink's stub as the
interpreter."""

from __future__ import annotations

import configparser
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from virtualenv.create.pyenv_cfg import PyEnvCfg
from virtualenv.create.via_global_ref.api import ViaGlobalRefApi, ViaGlobalRefMeta
from virtualenv.create.via_global_ref.builtin.cpython.cpython3 import CPython3Posix
from virtualenv.create.via_global_ref.builtin.pypy.pypy3 import PyPy3Posix

from ._atomic import Steps
from ._convert import interpreter_of, make_linkable
from ._interpreter import SUPPORTED
from ._venv import KEYS, State
from .exceptions import VenvlinkError

if TYPE_CHECKING:
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
        super().__init__(options, interpreter)
        # options.meta is the meta the builtin's can_create made, with the files it links or copies.
        self._builtin = found[0](options, interpreter)
        builtin_cfg = self._builtin.pyenv_cfg
        self.pyenv_cfg = self._builtin.pyenv_cfg = _PyEnvCfg(builtin_cfg.content, builtin_cfg.path)
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

    def create(self) -> None:
        """Create the builtin venv, then put the stub in place of each interpreter, recording what was there."""
        self._builtin.create()
        state = State.read(Path(self.dest))
        with Steps() as steps:
            make_linkable(state, interpreter_of(state), steps)
        values = State.read(Path(self.dest)).values
        self._keys = {key: values[key] for key in KEYS if key in values}

    def set_pyenv_cfg(self) -> None:
        """Write what the builtin writes, plus venvlink's keys (virtualenv rewrites pyvenv.cfg after create)."""
        self._builtin.set_pyenv_cfg()
        for key, value in self._keys.items():
            self.pyenv_cfg[key] = value


class _PyEnvCfg(PyEnvCfg):
    """virtualenv's pyvenv.cfg, written whatever the umask without others' write bit: the stub refuses a
    pyvenv.cfg every user can write (anyone could point it at any program), and virtualenv writes it last."""

    def write(self) -> None:
        super().write()
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISREG(mode) and mode & stat.S_IWOTH:
                os.fchmod(fd, stat.S_IMODE(mode) & ~stat.S_IWOTH)
        finally:
            os.close(fd)


def _decline_reason(interpreter: PythonInfo) -> str:
    version = ".".join(map(str, interpreter.version_info[:3]))
    supported = " or ".join(f"{name} {major}.{minor}+" for name, (major, minor) in SUPPORTED.items())
    return (
        f"the linkable creator needs {supported} on Linux or another POSIX system; "
        f"{interpreter.executable} is {interpreter.implementation} {version} on {interpreter.platform}"
        " (macOS framework builds are not supported either)"
    )
