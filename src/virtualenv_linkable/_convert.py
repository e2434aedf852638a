"""Make an existing venv linkable in place, or plain again, exactly as it was."""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, _atomic, _pyvenv_cfg, _stub
from ._interpreter import probe
from ._venv import EXECUTABLE_KEY, KEYS, MARKER_KEY, RESTORE_KEY, State, absolute
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Callable

_VERSIONED = re.compile(r"[a-z]+\d+\.\d+t?")


@dataclass(frozen=True)
class Conversion:
    """What :func:`convert` did.

    :ivar venv: the venv
    :ivar executable: the interpreter its stubs run (reverted: what its entries run again)
    :ivar entries: the names in ``bin/`` that were replaced
    :ivar rewrote_cfg: whether venvlink's keys in ``pyvenv.cfg`` were added, corrected or removed
    :ivar interpreter: what the interpreter is, as it said when run (``CPython 3.12.1``); empty when not run
    """

    venv: Path
    executable: Path
    entries: list[str]
    rewrote_cfg: bool
    interpreter: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.entries) or self.rewrote_cfg


def _record(state: State) -> dict[str, Any]:
    """What ``--revert`` restores, as an earlier conversion recorded it (or nothing yet)."""
    text = state.values.get(RESTORE_KEY)
    try:
        record = json.loads(text) if text else {}
        if not isinstance(record, dict) or not isinstance(record.setdefault("entries", {}), dict):
            raise TypeError
    except (ValueError, TypeError):
        msg = f"{RESTORE_KEY} in {state.venv / 'pyvenv.cfg'} is not what venvlink wrote; remove that line"
        raise VenvlinkError(msg) from None
    return record


def interpreter_of(state: State) -> Path:
    """The interpreter the venv runs now, read from what is there: a link's target, a copy, or what venvlink
    recorded; for a stub without a record, what the stub itself walks to. Never guessed from ``home``."""
    ordered = sorted(state.entries, key=lambda entry: (entry.name != "python", entry.name))
    for entry in ordered:
        real = Path(os.path.realpath(entry))
        if entry.is_symlink() and not _stub.is_stub(real):
            return real
    for entry in ordered:
        if not entry.is_symlink() and not _stub.is_stub(entry):
            return entry  # a copy of the interpreter
    if state.values.get(EXECUTABLE_KEY):
        return Path(state.values[EXECUTABLE_KEY])
    for entry in ordered:
        recorded = _stub.recorded(_stub.read_stub(entry) or b"")
        if recorded:
            return Path(recorded)
    explained = _stub.explain([str(ordered[0])])[0]
    if explained.executable is None or explained.status != 0:
        msg = f"cannot convert {state.venv}: cannot tell which interpreter {ordered[0]} runs: {explained.error}"
        raise VenvlinkError(msg)
    return Path(explained.executable)


def convert(venv: str | os.PathLike[str], *, revert: bool = False) -> Conversion:
    """Make ``venv`` linkable in place: each interpreter in ``bin/`` becomes the stub. Idempotent; stubs of
    another venvlink version are replaced.

    The interpreter is the one ``bin/python`` runs now (its link, or its copy, which moves aside to ``libexec/``),
    run once to confirm it is a CPython or PyPy venvlink supports. With ``revert``, put back exactly what was there
    before: link texts, copies and ``pyvenv.cfg``. Every step is an atomic rename, ordered so that the venv runs at
    every moment; a failure undoes the steps already made.
    """
    state = State.read(absolute(venv))
    return _revert(state) if revert else convert_undoably(state)[0]


def convert_undoably(state: State) -> tuple[Conversion, Callable[[], None]]:
    """:func:`convert`, and a function that puts the venv back exactly as it was, for a larger change that fails
    after the conversion succeeded."""
    interpreter = interpreter_of(state)
    if _up_to_date(state, interpreter):
        return Conversion(state.venv, interpreter, [], rewrote_cfg=False), lambda: None
    found = probe(interpreter, venv=state.venv)
    return make_linkable(state, interpreter, found.describe)


def _up_to_date(state: State, interpreter: Path) -> bool:
    """Nothing to do: every entry is the installed stub running ``interpreter``, and the keys say so."""
    if state.values.get(MARKER_KEY) != __version__ or state.values.get(EXECUTABLE_KEY) != str(interpreter):
        return False
    wanted = _stub.for_interpreter(str(interpreter))
    return all(not entry.is_symlink() and entry.read_bytes() == wanted for entry in state.entries)


@dataclass(frozen=True)
class _Plan:
    """What a conversion writes: the interpreter the stubs run, the copies that move aside to libexec/, what
    --revert will restore, and the new pyvenv.cfg."""

    target: Path
    copies: list[Path]
    entries: dict[str, Any]
    new_cfg: bytes


def _plan(state: State, interpreter: Path) -> _Plan:
    record = _record(state)
    libexec = state.venv / "libexec"
    copies = [entry for entry in state.entries if not entry.is_symlink() and not _stub.is_stub(entry)]
    target = interpreter
    if interpreter in copies:
        # The copies move aside to libexec/, as deep as bin/, so that a $ORIGIN/../lib run path still finds a
        # copied libpython; the stubs run the versioned one (CPython 3.11+ takes sys._base_executable's name
        # from argv[0], which the stub names after its target).
        versioned = [c for c in copies if _VERSIONED.fullmatch(c.name)]
        target = libexec / (versioned[0] if versioned else interpreter).name
        named = Path(state.values.get(EXECUTABLE_KEY, "/"))
        if named.parent == libexec and named.name in record["entries"]:
            target = named  # as an earlier, interrupted, conversion chose
        record.setdefault("libexec", "kept" if os.path.lexists(libexec) else "created")
    for entry in state.entries:
        if entry.is_symlink():
            record["entries"][entry.name] = {"link": os.readlink(entry)}
        elif entry in copies:
            record["entries"][entry.name] = {"copy": f"libexec/{entry.name}"}
    record.setdefault("newline", not state.cfg_bytes or state.cfg_bytes.endswith(b"\n"))
    keys: dict[str, str | None] = {
        MARKER_KEY: __version__,
        EXECUTABLE_KEY: str(target),
        RESTORE_KEY: json.dumps(record, sort_keys=True, ensure_ascii=False),
    }
    return _Plan(target, copies, record["entries"], _pyvenv_cfg.with_keys(state.cfg_bytes, keys))


def make_linkable(state: State, interpreter: Path, described: str = "") -> tuple[Conversion, Callable[[], None]]:
    """Put the stub in place of every entry of ``state``, recording what was there; ``interpreter`` is trusted.
    Returns what was done and how to undo it; a failure half-way undoes itself."""
    venv, plan = state.venv, _plan(state, interpreter)
    libexec = venv / "libexec"
    libexec_existed = os.path.lexists(libexec)
    stub = _stub.for_interpreter(str(plan.target))
    replace = [entry for entry in state.entries if entry.is_symlink() or entry.read_bytes() != stub]
    before = {entry: os.readlink(entry) if entry.is_symlink() else entry.read_bytes() for entry in replace}
    rewrite = plan.new_cfg != state.cfg_bytes
    done: list[Path] = []
    asides: list[Path] = []

    def undo() -> None:
        for entry in reversed(done):
            old = before[entry]
            if isinstance(old, str):
                _atomic.replace_with_symlink(entry, old)
            elif entry in plan.copies:
                _put_back(venv, entry, plan.entries[entry.name])
            else:
                _atomic.replace_file(entry, old, 0o755)
        for aside in asides:
            aside.unlink(missing_ok=True)
        if not libexec_existed:
            _remove_if_empty(libexec)
        if rewrite:
            _pyvenv_cfg.write(venv / "pyvenv.cfg", state.cfg_bytes)

    try:
        # pyvenv.cfg first: a plain interpreter ignores the keys, and a stub never runs without them
        if rewrite:
            _pyvenv_cfg.write(venv / "pyvenv.cfg", plan.new_cfg)
        if plan.copies:
            libexec.mkdir(exist_ok=True)
        for copy in plan.copies:
            _atomic.link_aside(copy, libexec / copy.name)
            asides.append(libexec / copy.name)
        for entry in replace:
            _atomic.replace_file(entry, stub, 0o755)
            done.append(entry)
    except BaseException:
        undo()
        raise
    return Conversion(venv, plan.target, [e.name for e in replace], rewrite, described), undo


def _put_back(venv: Path, entry: Path, how: object) -> None:
    """A stub back to what was recorded: its link, or its copy from libexec/."""
    if isinstance(how, dict) and "copy" in how:
        _atomic.move(venv / how["copy"], entry)
    elif isinstance(how, dict) and "link" in how:
        _atomic.replace_with_symlink(entry, how["link"])


def _stub_again(venv: Path, entry: Path, how: object, stub: bytes) -> None:
    """Undo _put_back: the copy aside again, the stub in place."""
    if isinstance(how, dict) and "copy" in how:
        _atomic.link_aside(entry, venv / how["copy"])
    _atomic.replace_file(entry, stub, 0o755)


def _remove_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (or gone): it holds more than what venvlink put there
        directory.rmdir()


def _revert(state: State) -> Conversion:
    """The stubs back to what was there, then the keys out: the order in which the venv runs throughout. A failure
    half-way puts back the stubs already reverted."""
    venv, record = state.venv, _record(state)
    entries: dict[str, Any] = record["entries"]
    stubs = state.stubs
    target = interpreter_of(state)
    # a stub made by venvlink 0.1, which kept no record, becomes a link to the interpreter it ran
    for stub in stubs:
        entries.setdefault(stub.name, {"link": str(target)})
    missing = [how["copy"] for stub in stubs if "copy" in (how := entries[stub.name])]
    missing = [copy for copy in missing if not (venv / copy).is_file()]
    if missing:
        msg = f"cannot revert {venv}: the copies of its interpreter are gone ({', '.join(missing)})"
        raise VenvlinkError(msg)
    data = _pyvenv_cfg.with_keys(state.cfg_bytes, dict.fromkeys(KEYS))
    if record.get("newline") is False and data.endswith(b"\n"):
        data = data[:-1]
    before = {stub: stub.read_bytes() for stub in stubs}
    done: list[Path] = []
    try:
        for stub in stubs:
            _put_back(venv, stub, entries[stub.name])
            done.append(stub)
        for entry in state.entries:  # copies an interrupted conversion linked aside but never replaced
            how = entries.get(entry.name)
            aside = venv / how["copy"] if isinstance(how, dict) and "copy" in how else None
            if entry not in stubs and aside is not None and aside.exists() and os.path.samefile(entry, aside):
                aside.unlink()
        if data != state.cfg_bytes:
            _pyvenv_cfg.write(venv / "pyvenv.cfg", data)
    except BaseException:
        for stub in reversed(done):
            _stub_again(venv, stub, entries[stub.name], before[stub])
        raise
    if record.get("libexec") == "created":
        _remove_if_empty(venv / "libexec")
    return Conversion(venv, target, [stub.name for stub in stubs], data != state.cfg_bytes)
