"""What venvlink made, so that ``list``, ``remove`` and ``doctor`` find it again: one JSON file in the user's state
directory, locked while it changes.

Format 2 (venvlink 0.3) records the exports and the venvs venvlink converted or created; format 1 (0.2) recorded the
exports only, and is read as format 2 with no venvs. docs/reference.rst documents both.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from . import TYPE_CHECKING
from ._atomic import Directory, LockHeldError
from ._paths import make_directories
from ._trust import others_can_change, user
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

_FORMAT = 2
_READ = {1, 2}
_LOCK_TIMEOUT = 10.0  # seconds; VENVLINK_LOCK_TIMEOUT overrides


class Export(NamedTuple):
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


class Converted(NamedTuple):
    """A venv venvlink made linkable (``convert``, the creator), remembered so that ``doctor --fix`` can refresh its
    stubs after an upgrade of venvlink, or convert it again when a tool recreated it.

    :ivar venv: the venv's absolute path
    :ivar converted: when, in ISO 8601 (UTC)
    """

    venv: str
    converted: str


class Records(NamedTuple):
    """What the registry holds: exports by ``dest``, converted venvs by path. Its dictionaries change in place;
    no default, so that no two share one: :func:`empty` makes them."""

    exports: dict[str, Export]
    venvs: dict[str, Converted]


def empty() -> Records:
    """Records with nothing in them, in dictionaries of their own."""
    return Records({}, {})


def _parsed(kind: type[Export] | type[Converted], key: str, raw: object) -> Export | Converted | str:
    """The record ``raw`` describes, or why it is malformed."""
    names = list(kind._fields)
    if not isinstance(raw, dict) or sorted(raw) != sorted(names):
        return f"has fields {sorted(raw) if isinstance(raw, dict) else type(raw).__name__}, not {names}"
    bad = [name for name in names if not isinstance(raw[name], str) or not raw[name]]
    if bad:
        return f"has {', '.join(bad)} not a non-empty string"
    if raw[names[0]] != key or not os.path.isabs(key) or not os.path.isabs(raw["venv"]):
        return f"has a {names[0]} or venv that is not an absolute path, or a {names[0]} other than its key"
    return kind(**raw)


def default_path() -> Path:
    """``exports.json`` in venvlink's user state directory: ``$XDG_STATE_HOME/venvlink`` (``~/.local/state``) on
    Linux and the BSDs, as the XDG base directory specification and platformdirs say, without importing
    platformdirs there (a third of ``venvlink export``'s own time); platformdirs' answer elsewhere (macOS)."""
    if sys.platform != "darwin":
        state = os.environ.get("XDG_STATE_HOME", "").strip()
        if not os.path.isabs(state):  # the specification: a relative path is invalid, and ignored
            state = os.path.expanduser("~/.local/state")
        return Path(state) / "venvlink" / "exports.json"
    import platformdirs  # noqa: PLC0415

    return platformdirs.user_state_path("venvlink", appauthor=False) / "exports.json"


class _LockedError(VenvlinkError):
    """Another venvlink held the registry's lock for the whole wait."""

    def __init__(self, holder: str, path: Path, timeout: float) -> None:
        super().__init__(
            f"{holder} holds the lock on the registry {path}; waited {timeout:g} s; try again when it is done"
        )
        self.reason = f"{holder} holds its lock (waited {timeout:g} s)"


class Registry:
    """The records, read with :meth:`load` and changed inside :meth:`change`.

    Entries that do not parse are kept as they are and listed in :attr:`malformed` (key: why), so that
    ``venvlink doctor`` can name them; one bad entry never costs the others.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.malformed: dict[str, str] = {}
        self._raw: dict[str, dict[str, Any]] = {"exports": {}, "venvs": {}}
        self._written = empty()
        self._dirty = False
        self._directory: Directory | None = None

    def _state(self, *, create: bool) -> Directory | None:
        """The registry's directory (``venvlink`` in the state directory), opened without following a link and
        checked to be the user's own and not writable by every user; every read and write goes through it, so
        that nothing swapped in after the check is used. None when it does not exist and ``create`` is false.

        doctor --fix changes the venvs a registry names, so it reads only the user's own, as
        git refuses another user's repository, and only on a path no other user can change (``_trust``): not in
        another user's home, where ``sudo -E`` and ``env_keep+=HOME`` point, nor through a link there."""
        me, home = os.geteuid(), self.path.parent.parent
        exists = os.path.isdir(home)
        if not exists and not create:
            return None
        # the path, not only the directories opened: a link in another user's home (sudo -E) could name one of
        # root's, such as /etc, and mkdir goes by path
        doubt = others_can_change(home)
        if doubt:
            what = f"the registry {self.path}" if exists else f"to create {home} for the registry"
            msg = (
                f"refusing {what}: {doubt}, and doctor --fix changes the venvs a registry names; set XDG_STATE_HOME to "
                "a directory of your own (sudo: -H, not -E)"
            )
            raise VenvlinkError(msg)
        if not exists:
            try:
                make_directories(home)
            except OSError as error:
                msg = f"cannot create {home} for the registry: {error.strerror}"
                raise VenvlinkError(msg) from None
        with Directory.open(home) as parent:
            if parent.lstat(self.path.parent.name) is None:
                if not create:
                    return None
                if os.fstat(parent.fd).st_uid not in (me, 0):
                    raise self._foreign(home, os.fstat(parent.fd).st_uid)
                try:
                    os.mkdir(self.path.parent.name, 0o700, dir_fd=parent.fd)
                except FileExistsError:
                    pass  # another venvlink made it meanwhile
                except OSError as error:
                    msg = f"cannot create {self.path.parent} for the registry: {error.strerror}"
                    raise VenvlinkError(msg) from None
            directory = parent.sub(self.path.parent.name)
        found = os.fstat(directory.fd)
        if found.st_uid != me:
            directory.close()
            raise self._foreign(self.path.parent, found.st_uid)
        doubt = others_can_change(self.path.parent)  # a group's or an ACL's write too: its files could be swapped
        if doubt:
            directory.close()
            msg = f"refusing the registry {self.path}: {doubt}; run: chmod go-w {self.path.parent}"
            raise VenvlinkError(msg)
        return directory

    def _foreign(self, path: Path, uid: int) -> VenvlinkError:
        owner, me = user(uid), user(os.geteuid())
        return VenvlinkError(
            f"refusing the registry {self.path}: {path} belongs to {owner}, not to you ({me}), and doctor --fix "
            f"changes the venvs a registry names; run venvlink as {owner}, or set XDG_STATE_HOME to a directory of "
            "your own (sudo: -H, not -E)"
        )

    def _text(self, directory: Directory) -> str | None:
        """The registry file's text, read through ``directory``, never through a link; None when there is none."""
        try:
            fd = os.open(
                self.path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory.fd
            )
        except FileNotFoundError:
            return None
        except OSError as error:
            msg = f"cannot read the registry {self.path}: {error.strerror or error} (a symlink is not followed)"
            raise VenvlinkError(msg) from None
        try:
            found = os.fstat(fd)
            if found.st_uid != os.geteuid():
                raise self._foreign(self.path, found.st_uid)
            if not stat.S_ISREG(found.st_mode) or found.st_mode & stat.S_IWOTH:
                msg = f"refusing the registry {self.path}: not a regular file only its owner can write"
                raise VenvlinkError(msg)
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(fd)
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError as error:
            msg = f"the registry {self.path} is corrupt ({error}); repair or delete it (the links themselves stay)"
            raise VenvlinkError(msg) from None

    def load(self) -> Records:
        """The records; none when the file does not exist yet. A file that is not a registry at all is an error,
        never reset; one that is not the user's own is refused."""
        directory = self._state(create=False)
        if directory is None:
            return empty()
        with directory:
            return self._load(directory)

    def _load(self, directory: Directory) -> Records:
        text = self._text(directory)
        if text is None:
            return empty()
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("exports"), dict):
                raise TypeError("not an object with 'format' and 'exports'")
            if not isinstance(data.get("venvs", {}), dict):
                raise TypeError("its 'venvs' is not an object")
        except (ValueError, TypeError) as error:
            msg = f"the registry {self.path} is corrupt ({error}); repair or delete it (the links themselves stay)"
            raise VenvlinkError(msg) from None
        if data.get("format") not in _READ:
            msg = f"the registry {self.path} has format {data.get('format')!r}; upgrade venvlink to read it"
            raise VenvlinkError(msg)
        self._raw = {"exports": data["exports"], "venvs": data.get("venvs", {})}
        records, self.malformed = empty(), {}
        for section, kind, into in (("exports", Export, records.exports), ("venvs", Converted, records.venvs)):
            for key, raw in self._raw[section].items():
                parsed = _parsed(kind, key, raw)
                if isinstance(parsed, str):
                    self.malformed[key] = parsed
                else:
                    into[key] = parsed  # type: ignore[assignment]  # Export into exports, Converted into venvs
        return records

    @contextmanager
    def change(self) -> Iterator[Records]:
        """Hold the lock and hand out the records; write them back if they changed and nothing failed."""
        directory = self._state(create=True)
        assert directory is not None  # noqa: S101  # made if missing
        with directory:
            self._directory = directory
            try:
                with self._locked():
                    records = self._load(directory)
                    self._written = Records(dict(records.exports), dict(records.venvs))
                    yield records
                    if records != self._written or self._dirty:
                        self.save(records)
            finally:
                self._directory = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The registry's lock, taken through its directory's descriptor (:meth:`Directory.lock`), with the
        holder's PID in it, so that a waiter can say who holds it."""
        given = os.environ.get("VENVLINK_LOCK_TIMEOUT") or str(_LOCK_TIMEOUT)
        try:
            timeout = float(given)
        except ValueError:
            msg = f"VENVLINK_LOCK_TIMEOUT is {given!r}, not a number of seconds; set it to one, such as 10"
            raise VenvlinkError(msg) from None
        try:
            fd = self._held().lock(f"{self.path.name}.lock", timeout)
        except LockHeldError as held:
            holder = f" (PID {held.holder})" if held.holder.isascii() and held.holder.isdigit() else ""
            raise _LockedError(f"another venvlink{holder}", self.path, timeout) from None
        except OSError as error:
            msg = f"cannot lock the registry {self.path}: {error.strerror or error}"
            raise VenvlinkError(msg) from None
        try:
            yield
        finally:
            os.close(fd)  # releases the lock; the file stays (Directory.lock says why)

    def _held(self) -> Directory:
        if self._directory is None:
            msg = "the registry is written only inside Registry.change()"
            raise RuntimeError(msg)
        return self._directory

    def forget_malformed(self, key: str) -> bool:
        """Drop the malformed entry ``key`` (inside :meth:`change`); whether there was one."""
        if key not in self.malformed:
            return False
        del self.malformed[key]
        for section in self._raw.values():
            section.pop(key, None)
        self._dirty = True  # written back on leaving change()
        return True

    def save(self, records: Records) -> None:
        """Write ``records`` (and the malformed entries, untouched) in one atomic, durable replace; only while
        :meth:`change` holds the lock."""
        data: dict[str, Any] = {"format": _FORMAT}
        for section, items in (("exports", records.exports), ("venvs", records.venvs)):
            entries = {key: raw for key, raw in self._raw[section].items() if key in self.malformed}
            entries.update({key: item._asdict() for key, item in items.items()})
            data[section] = dict(sorted(entries.items()))
        text = json.dumps(data, indent=2) + "\n"
        self._held().write(self.path.name, text.encode(), 0o600, durable=True)  # the user's venvs: nobody else's
        self._written = Records(dict(records.exports), dict(records.venvs))
        self._dirty = False


def now() -> str:
    """The time a record is made, in UTC, as ``datetime.isoformat(timespec="seconds")`` writes it (without
    importing datetime, which every command would pay for)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def remember(venv: Path, when: str) -> str | None:
    """Record ``venv`` as converted, for ``doctor --fix``; why it could not be, or None. Never fails the conversion
    that calls it: the venv is linkable whatever the registry says."""
    try:
        with Registry().change() as records:
            records.venvs[str(venv)] = Converted(str(venv), when)
    except VenvlinkError as error:
        return f"{venv} is linkable, but not remembered for doctor --fix: {error}"
    return None


def forget(venv: Path) -> None:
    """Drop ``venv`` from the converted venvs, if it is there (``convert --revert``, once the venv is reverted).
    Unlike :func:`remember`, a failure is an error: a venv reverted but still remembered is one ``doctor --fix``
    would convert again."""
    registry = Registry()
    try:
        if str(venv) in registry.load().venvs:
            with registry.change() as records:
                records.venvs.pop(str(venv), None)
    except VenvlinkError as error:
        why, then = (error.reason, "when it is done") if isinstance(error, _LockedError) else (error, "then")
        msg = (
            f"reverted {venv}, but could not forget it in the registry {registry.path}, so doctor --fix would "
            f"convert it again: {why}; {then}, run: venvlink remove --forget {venv}"
        )
        raise VenvlinkError(msg) from None
