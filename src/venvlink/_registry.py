"""The record of the exports venvlink made: one JSON file in the user's state directory, locked while it changes."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from filelock import FileLock

from ._install import replace_file
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Iterator

_FORMAT = 1


@dataclass(frozen=True)
class Export:
    """One symlink venvlink made.

    :ivar dest: the link's absolute path, symlinks in it not resolved
    :ivar venv: the venv it runs
    :ivar target: the link's text, as written
    :ivar name: the interpreter name in the venv's ``bin/`` the link points at
    :ivar created: when, in ISO 8601 (UTC)
    """

    dest: str
    venv: str
    target: str
    name: str
    created: str


def default_path() -> Path:
    """``exports.json`` in venvlink's user state directory (``$XDG_STATE_HOME/venvlink`` on Linux)."""
    return platformdirs.user_state_path("venvlink", appauthor=False) / "exports.json"


class Registry:
    """The exports, keyed by ``dest``. Read with :meth:`load`; change inside :meth:`change`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._written: dict[str, Export] = {}

    def load(self) -> dict[str, Export]:
        """The exports recorded; none when the file does not exist yet. A corrupt file is an error, never reset."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as error:
            msg = f"cannot read the registry {self.path}: {error}"
            raise VenvlinkError(msg) from None
        try:
            data = json.loads(text)
            if data["format"] != _FORMAT:
                msg = f"the registry {self.path} has format {data['format']!r}; upgrade venvlink to read it"
                raise VenvlinkError(msg)
            return {dest: Export(**fields) for dest, fields in data["exports"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            msg = f"the registry {self.path} is corrupt ({error}); repair or delete it (the links themselves stay)"
            raise VenvlinkError(msg) from None

    @contextmanager
    def change(self) -> Iterator[dict[str, Export]]:
        """Hold the lock and hand out the exports; write them back atomically if they changed and nothing failed."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            msg = f"cannot create {self.path.parent} for the registry: {error.strerror}"
            raise VenvlinkError(msg) from None
        try:
            lock = FileLock(f"{self.path}.lock")
            lock.acquire()
        except OSError as error:
            msg = f"cannot lock the registry {self.path}: {error.strerror or error}"
            raise VenvlinkError(msg) from None
        try:
            exports = self.load()
            self._written = dict(exports)
            yield exports
            if exports != self._written:
                self.save(exports)
        finally:
            lock.release()

    def save(self, exports: dict[str, Export]) -> None:
        """Write ``exports`` in one atomic replace; only while :meth:`change` holds the lock."""
        data = {"format": _FORMAT, "exports": {dest: asdict(e) for dest, e in sorted(exports.items())}}
        replace_file(self.path, (json.dumps(data, indent=2) + "\n").encode(), 0o644)
        self._written = dict(exports)
