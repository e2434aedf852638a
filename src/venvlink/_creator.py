"""The ``linkable`` virtualenv creator: virtualenv's own CPython venv, with venvlink's stub as the interpreter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from virtualenv.create.via_global_ref.api import ViaGlobalRefApi, ViaGlobalRefMeta
from virtualenv.create.via_global_ref.builtin.cpython.cpython3 import CPython3Posix

from . import __version__
from ._install import EXECUTABLE_KEY, MARKER_KEY, install_stub

if TYPE_CHECKING:
    from python_discovery import PythonInfo
    from virtualenv.config.cli.parser import VirtualEnvOptions


class LinkableCreator(ViaGlobalRefApi):
    """Create what ``cpython3-posix`` creates, then replace the interpreters in ``bin/`` with the stub.

    This class wraps the builtin creator instead of subclassing it: virtualenv takes the first
    ``VirtualenvBuiltin`` subclass among its plugins as ``builtin`` and as the describer, and third-party
    plugins load first, so a subclass would silently become everybody's default creator.
    """

    def __init__(self, options: VirtualEnvOptions, interpreter: PythonInfo) -> None:
        super().__init__(options, interpreter)
        # options.meta is the meta CPython3Posix.can_create made, with the files it links or copies.
        self._builtin = CPython3Posix(options, interpreter)
        self.pyenv_cfg = self._builtin.pyenv_cfg

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401  # proxies the builtin's typed attributes
        # Layout (exe, bin_dir, purelib, libs, env_name, ...) is the builtin's: seeders and activators ask for it.
        if name == "_builtin":
            raise AttributeError(name)
        return getattr(self._builtin, name)

    @classmethod
    def can_create(cls, interpreter: PythonInfo) -> ViaGlobalRefMeta | None:
        """Create wherever virtualenv's ``cpython3-posix`` can: CPython 3 on POSIX, not a macOS framework build."""
        meta = CPython3Posix.can_create(interpreter)
        if meta is None:
            reason = (
                "the linkable creator needs CPython 3 on Linux or another POSIX system "
                f"(not {interpreter.implementation} on {interpreter.platform} or a macOS framework build)"
            )
            declined = ViaGlobalRefMeta()
            declined.error = reason  # type: ignore[assignment]  # CreatorMeta.error is unannotated: mypy says None
            return declined
        return meta

    @property
    def target(self) -> Path:
        """The interpreter the stub execs: the base interpreter, or with ``--copies`` the venv's own copy."""
        if self.symlinks:
            return Path(os.path.realpath(self.interpreter.system_executable or self.interpreter.executable))
        return self.dest / "libexec" / self._versioned_name

    @property
    def _versioned_name(self) -> str:
        return f"python{self.interpreter.version_info.major}.{self.interpreter.version_info.minor}"

    def create(self) -> None:
        """Create the builtin venv, record the stub's target, then put the stub in place of each interpreter."""
        self._builtin.create()
        bin_dir: Path = self._builtin.bin_dir
        if not self.symlinks:
            # The copy of the interpreter moves out of the stub's way; libexec/ is as deep as bin/, so a
            # $ORIGIN/../lib run path still finds a copied libpython.
            (self.dest / "libexec").mkdir(exist_ok=True)
            copied = bin_dir / self._versioned_name
            if copied.is_symlink() or not copied.is_file():
                msg = f"expected a copy of the interpreter at {copied}"
                raise RuntimeError(msg)
            copied.replace(self.target)
        # The key goes in before the stubs, so that a stub never runs without knowing its target.
        self.set_pyenv_cfg()
        self.pyenv_cfg.write()
        install_stub(bin_dir, ["python", "python3", self._versioned_name])

    def set_pyenv_cfg(self) -> None:
        """Write what ``cpython3-posix`` writes, plus venvlink's marker and the stub's target."""
        self._builtin.set_pyenv_cfg()
        self.pyenv_cfg[MARKER_KEY] = __version__
        self.pyenv_cfg[EXECUTABLE_KEY] = str(self.target)
