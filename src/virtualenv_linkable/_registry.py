"""The record of the exports venvlink made: one JSON file in the user's state directory, locked while it changes."""

from __future__ import annotations

import json
import os
import stat
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from filelock import FileLock, Timeout

from ._atomic import Directory
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Iterator

_FORMAT = 1
_LOCK_TIMEOUT = 10.0  # seconds; VENVLINK_LOCK_TIMEOUT overrides


@dataclass(frozen=True)
class Export:
    """One symlink venvlink made.

    :ivar dest: the link's absolute path (its directory resolved, as the kernel resolves it)
    :ivar venv: the venv it runs
    :ivar target: the link's text, as written
    :ivar name: the interpreter entry in the venv's ``bin/`` the link points at
    :ivar created: when, in ISO 8601 (UTC)
    """

    dest: str
    venv: str
    target: str
    name: str
    created: str


_FIELDS = [f.name for f in fields(Export)]


def _entry(dest: str, raw: object) -> Export | str:
    """The export ``raw`` describes, or why it is malformed."""
    if not isinstance(raw, dict) or sorted(raw) != sorted(_FIELDS):
        return f"has fields {sorted(raw) if isinstance(raw, dict) else type(raw).__name__}, not {_FIELDS}"
    bad = [key for key in _FIELDS if not isinstance(raw[key], str) or not raw[key]]
    if bad:
        return f"has {', '.join(bad)} not a non-empty string"
    if raw["dest"] != dest or not os.path.isabs(dest) or not os.path.isabs(raw["venv"]):
        return "has a dest or venv that is not an absolute path, or a dest other than its key"
    return Export(**raw)


def _user(uid: int) -> str:
    """``alice (uid 1000)``, or ``uid 1000`` for a uid without a name."""
    import pwd  # noqa: PLC0415

    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def default_path() -> Path:
    """``exports.json`` in venvlink's user state directory (``$XDG_STATE_HOME/venvlink`` on Linux)."""
    return platformdirs.user_state_path("venvlink", appauthor=False) / "exports.json"


class Registry:
    """The exports, keyed by ``dest``. Read with :meth:`load`; change inside :meth:`change`.

    Entries that do not parse are kept as they are and listed in :attr:`malformed` (dest: why), so that
    ``venvlink doctor`` can name them; one bad entry never costs the others.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.malformed: dict[str, str] = {}
        self._raw: dict[str, Any] = {}
        self._written: dict[str, Export] = {}
        self._dirty = False
        self._directory: Directory | None = None

    def _refuse_foreign(self) -> None:
        """venvlink runs the programs a registry names (doctor runs each venv), so it reads only the user's own, as
        git refuses another user's repository: the file and its directory must be the user's and not writable by
        every user. One yet to be made must be made in a directory of the user's own or root's (``/tmp``), not in
        another user's home, where ``sudo -E`` and ``env_keep+=HOME`` point."""
        me = os.geteuid()
        for existing in (self.path, self.path.parent):
            try:
                found = os.stat(existing)
            except FileNotFoundError:
                continue
            if found.st_uid != me:
                raise self._foreign(existing, found.st_uid)
            if found.st_mode & stat.S_IWOTH:
                msg = f"refusing the registry {self.path}: every user can write {existing}; run: chmod o-w {existing}"
                raise VenvlinkError(msg)
        ancestor = self.path.parent
        while not os.path.lexists(ancestor) and ancestor.parent != ancestor:
            ancestor = ancestor.parent
        if ancestor != self.path.parent and os.stat(ancestor).st_uid not in (me, 0):
            raise self._foreign(ancestor, os.stat(ancestor).st_uid)

    def _foreign(self, path: Path, uid: int) -> VenvlinkError:
        owner, me = _user(uid), _user(os.geteuid())
        return VenvlinkError(
            f"refusing the registry {self.path}: {path} belongs to {owner}, not to you ({me}), and venvlink runs "
            f"the programs a registry names; run venvlink as {owner}, or set XDG_STATE_HOME to a directory of your "
            "own (sudo: -H, not -E)"
        )

    def load(self) -> dict[str, Export]:
        """The exports recorded; none when the file does not exist yet. A file that is not a registry at all is an
        error, never reset; one that is not the user's own is refused."""
        self._refuse_foreign()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as error:
            msg = f"cannot read the registry {self.path}: {getattr(error, 'strerror', None) or error}"
            raise VenvlinkError(msg) from None
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("exports"), dict):
                raise TypeError("not an object with 'format' and 'exports'")
        except (ValueError, TypeError) as error:
            msg = f"the registry {self.path} is corrupt ({error}); repair or delete it (the links themselves stay)"
            raise VenvlinkError(msg) from None
        if data.get("format") != _FORMAT:
            msg = f"the registry {self.path} has format {data.get('format')!r}; upgrade venvlink to read it"
            raise VenvlinkError(msg)
        self._raw = data["exports"]
        exports, self.malformed = {}, {}
        for dest, raw in self._raw.items():
            entry = _entry(dest, raw)
            if isinstance(entry, str):
                self.malformed[dest] = entry
            else:
                exports[dest] = entry
        return exports

    @contextmanager
    def change(self) -> Iterator[dict[str, Export]]:
        """Hold the lock and hand out the exports; write them back if they changed and nothing failed."""
        self._refuse_foreign()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            msg = f"cannot create {self.path.parent} for the registry: {error.strerror}"
            raise VenvlinkError(msg) from None
        with Directory.open(self.path.parent) as directory:
            self._directory = directory
            try:
                with self._locked():
                    exports = self.load()
                    self._written = dict(exports)
                    yield exports
                    if exports != self._written or self._dirty:
                        self.save(exports)
            finally:
                self._directory = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The registry's lock, with the holder's PID beside it, so that a waiter can say who holds it."""
        timeout = float(os.environ.get("VENVLINK_LOCK_TIMEOUT") or _LOCK_TIMEOUT)
        owner = self.path.with_name(self.path.name + ".owner")
        lock = FileLock(f"{self.path}.lock", timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            try:
                holder = f" (PID {int(owner.read_text())})"
            except (OSError, ValueError):
                holder = ""
            msg = (
                f"another venvlink{holder} holds the lock on the registry {self.path}; "
                f"waited {timeout:g} s; try again when it is done"
            )
            raise VenvlinkError(msg) from None
        except OSError as error:
            msg = f"cannot lock the registry {self.path}: {error.strerror or error}"
            raise VenvlinkError(msg) from None
        try:
            self._held().write(owner.name, f"{os.getpid()}\n".encode(), 0o644)
            yield
        finally:
            self._held().unlink(owner.name)
            lock.release()

    def _held(self) -> Directory:
        if self._directory is None:
            msg = "the registry is written only inside Registry.change()"
            raise RuntimeError(msg)
        return self._directory

    def forget_malformed(self, dest: str) -> bool:
        """Drop the malformed entry for ``dest`` (inside :meth:`change`); whether there was one."""
        if dest not in self.malformed:
            return False
        del self.malformed[dest]
        del self._raw[dest]
        self._dirty = True  # written back on leaving change()
        return True

    def save(self, exports: dict[str, Export]) -> None:
        """Write ``exports`` (and the malformed entries, untouched) in one atomic, durable replace; only while
        :meth:`change` holds the lock."""
        entries = {dest: raw for dest, raw in self._raw.items() if dest in self.malformed}
        entries.update({dest: asdict(export) for dest, export in exports.items()})
        data = {"format": _FORMAT, "exports": dict(sorted(entries.items()))}
        self._held().write(self.path.name, (json.dumps(data, indent=2) + "\n").encode(), 0o644, durable=True)
        self._written = dict(exports)
        self._dirty = False
