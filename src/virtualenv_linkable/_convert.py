"""Make an existing venv linkable in place, or plain again, exactly as it was."""

from __future__ import annotations

import filecmp
import json
import os
import re
import stat
from functools import partial
from pathlib import Path
from typing import NamedTuple

from . import TYPE_CHECKING, __version__, _pyvenv_cfg, _stub
from ._atomic import Directory, Steps
from ._interpreter import VERSIONED_NAME, candidates, describe_kind, installation, is_script, named, of_venv
from ._paths import absolute, located, umask
from ._policy import WRITTEN, refusal_to_change
from ._registry import forget, now, remember
from ._venv import EXECUTABLE_KEY, KEYS, MARKER_KEY, RESTORE_KEY, Venv, pyvenv_cfg_of
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from typing import Any

    from ._interpreter import Interpreter

_NAME = re.compile(r"(?!\.\.?$)[^/\0]+")  # one name in a directory, not a path


class Conversion(NamedTuple):
    """What :func:`convert` did: a named tuple.

    :ivar venv: the venv
    :ivar executable: the interpreter its stubs run (reverted: what its entries run again)
    :ivar entries: the names in ``bin/`` that were replaced
    :ivar rewrote_cfg: whether venvlink's keys in ``pyvenv.cfg`` were added, corrected or removed
    :ivar interpreter: what the interpreter is, as read from its files and the venv's (``CPython 3.12.1``); empty
        when not read
    :ivar note: why the venv could not be remembered in venvlink's registry, if it could not (it is linkable all
        the same); None otherwise
    """

    venv: Path
    executable: Path
    entries: list[str]
    rewrote_cfg: bool
    interpreter: str = ""
    note: str | None = None

    @property
    def changed(self) -> bool:
        """Whether the venv was changed: an entry replaced, or ``pyvenv.cfg`` rewritten."""
        return bool(self.entries) or self.rewrote_cfg


def _in_libexec(value: object) -> bool:
    """Whether ``value`` is ``libexec/NAME``: the only place a record may name besides ``bin/``."""
    return isinstance(value, str) and value.startswith("libexec/") and bool(_NAME.fullmatch(value[8:]))


def _malformed(record: object) -> str | None:
    """Why ``record`` is not a record venvlink wrote, or None: it may name entries of ``bin/`` and ``libexec/``
    only, so that a record someone edited cannot make ``--revert`` move a file from anywhere else."""
    if not isinstance(record, dict) or not isinstance(record.get("entries", {}), dict):
        return "not a JSON object with an object of entries"
    for name, how in record.get("entries", {}).items():
        ((kind, value),) = how.items() if isinstance(how, dict) and len(how) == 1 else [("?", how)]
        if not _NAME.fullmatch(name):
            return f"{name!r} is not a name in bin/"
        if not (kind == "link" and isinstance(value, str) and value) and not (kind == "copy" and _in_libexec(value)):
            return f"{name} has {kind} {value!r}, not a link text or a file of libexec/"
    if "wrapper" in record and not _in_libexec(record["wrapper"]):
        return f"wrapper {record['wrapper']!r} is not a file of libexec/"
    link = record.get("pyvenv.cfg", {"link": "-"})
    return None if isinstance(link, dict) and isinstance(link.get("link"), str) and link["link"] else "bad pyvenv.cfg"


def _restore_record(state: Venv) -> dict[str, Any]:
    """What ``--revert`` restores, as an earlier conversion recorded it (or nothing yet)."""
    text = state.values.get(RESTORE_KEY)
    try:
        record = json.loads(text) if text else {}
    except ValueError:
        record = None
    why = _malformed(record)
    if why is not None:
        msg = (
            f"{RESTORE_KEY} in {state.venv / 'pyvenv.cfg'} is not what venvlink wrote ({why}); nothing was changed: "
            "restore the venv by hand, or recreate it"
        )
        raise VenvlinkError(msg)
    assert isinstance(record, dict)  # noqa: S101  # for mypy: _malformed says so
    record.setdefault("entries", {})
    return record


def upgrade_copies(state: Venv) -> tuple[Path | None, list[Path]]:
    """``python -m venv --upgrade`` on a linkable venv cannot symlink over the stubs: it copies the base interpreter
    over ``bin/python3.X`` and rewrites pyvenv.cfg without venvlink's keys. The stubs left still record that base:
    entries byte for byte the interpreter they record are such copies, not the venv's own. Returns that interpreter
    and those entries (None and none when there are no such copies)."""
    copies = [entry for entry in state.entries if not entry.is_symlink() and entry not in state.stubs]
    for stub in state.stubs if copies else []:
        recorded = Path(_stub.recorded(_stub.read_stub(stub) or b"") or "/")
        if state.venv in recorded.parents:
            continue  # the venv's own copy in libexec/, not a base interpreter
        if recorded.is_file() and all(filecmp.cmp(copy, recorded, shallow=False) for copy in copies):
            return recorded, copies
    return None, []


def interpreter_of(state: Venv) -> Path:
    """The interpreter the venv runs now, read from what is there: a link's target, a copy, or what venvlink
    recorded; for a stub without a record, what the stub itself walks to. Never guessed from ``home``."""
    ordered = sorted(state.entries, key=lambda entry: (entry.name != "python", entry.name))
    inside = Path(os.path.realpath(state.root))
    for entry in ordered:
        real = Path(os.path.realpath(entry))
        # a link to another entry (3.14's venv --upgrade adds 𝜋thon -> python3.14, a copy of the base) is not it
        if entry.is_symlink() and not _stub.is_stub(real) and inside not in real.parents:
            return real
    upgraded, _ = upgrade_copies(state)
    if upgraded is not None:
        return upgraded
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


def convert(
    venv: str | os.PathLike[str], *, revert: bool = False, python: str | os.PathLike[str] | None = None
) -> Conversion:
    """Make ``venv`` linkable in place: each interpreter in ``bin/`` becomes the stub. Idempotent; stubs of
    another venvlink version are replaced.

    The interpreter is the one ``bin/python`` runs now (its link, or its copy, which moves aside to ``libexec/``),
    read (never run) to confirm it is a CPython or PyPy venvlink supports. With ``python``, the venv moves to that
    interpreter instead, which must be of the same implementation and X.Y (and free-threaded or not) as the venv's
    site-packages: for a base interpreter that was removed or upgraded to a new patch release. With ``revert``, put
    back exactly what was there before: link texts, copies and ``pyvenv.cfg``. Every step is an atomic rename
    inside the venv, ordered so that the venv runs at every moment; a failure undoes the steps already made.

    The venv is remembered in venvlink's registry (forgotten on ``revert``), so that ``venvlink doctor --fix``
    finds it again; the result's ``note`` says why, if it could not be. A venv reverted but not forgotten raises
    :class:`VenvlinkError`, which says so.
    """
    path = absolute(venv)
    pyvenv_cfg_of(path)  # says what the argument should have been, if it is not a venv
    with Steps() as steps:
        venv_dir = hold(path, steps)
        state = Venv.read(path, through=venv_dir)
        if revert:
            done = _revert(state, venv_dir, steps)
        else:
            done = convert_in(state, steps, venv_dir, python=located(os.fspath(python)) if python is not None else None)
    if revert:
        forget(state.venv)
    elif done.changed or python is not None:
        note = remember(state.venv, now())
        return done._replace(note=note)
    return done


def hold(venv: Path, steps: Steps) -> Directory:
    """The venv's directory, held open until ``steps`` ends: every read and write of a change goes through it, so
    that a venv swapped for another directory meanwhile is never the one changed. Refused unless the caller could
    make the change anyway (:func:`._policy.refusal_to_change`), judged on the directories held."""
    venv_dir = steps.hold(Directory.open(venv))
    directories = {"": os.fstat(venv_dir.fd)}
    for name in WRITTEN[1:]:
        found = venv_dir.lstat(name)
        if found is not None and stat.S_ISDIR(found.st_mode):
            directories[name] = found
    refusal = refusal_to_change(venv, directories)
    if refusal:
        raise VenvlinkError(refusal)
    return venv_dir


def convert_in(state: Venv, steps: Steps, venv_dir: Directory, *, python: Path | None = None) -> Conversion:
    """:func:`convert` of the venv held as ``venv_dir`` (:func:`hold`), its changes recorded in ``steps``: undone
    if the larger change they belong to fails."""
    if python is not None:
        return _move(state, python, steps, venv_dir)
    interpreter = interpreter_of(state)
    if not interpreter.exists():
        raise VenvlinkError(_gone(state, interpreter))
    if _up_to_date(state, interpreter):
        return Conversion(state.venv, interpreter, [], rewrote_cfg=False)
    kind = state.made_for()
    found = of_venv(interpreter, venv=state.venv, values=state.values, kind=kind, shown=state.shown(interpreter))
    _refuse_what_the_stub_refuses(state, venv_dir)
    return make_linkable(state, interpreter, steps, venv_dir, found.describe)


def _refuse_what_the_stub_refuses(state: Venv, venv_dir: Directory) -> None:
    """A venv whose pyvenv.cfg every user could change or plant (made under umask 000): its stubs would refuse to
    start, so it is refused first, unchanged, and keeps running as it did."""
    cfg = venv_dir.lstat("pyvenv.cfg")
    found = os.stat("pyvenv.cfg", dir_fd=venv_dir.fd) if cfg is not None and stat.S_ISLNK(cfg.st_mode) else cfg
    directory = os.fstat(venv_dir.fd)
    for path, mode in ((state.venv, directory.st_mode), (state.venv / "pyvenv.cfg", found.st_mode if found else 0)):
        if mode & stat.S_IWOTH and not (stat.S_ISDIR(mode) and mode & stat.S_ISVTX):
            msg = (
                f"refusing to convert {state.venv}: every user can write {path}, and the stub refuses a pyvenv.cfg "
                f"anyone could have changed; run: chmod o-w {path}; nothing was changed"
            )
            raise VenvlinkError(msg)


def _gone(state: Venv, interpreter: Path) -> str:
    """What to say when the venv's interpreter no longer exists: the command that moves it, with a candidate."""
    kind = state.made_for()
    if kind is None:
        return (
            f"{state.venv}'s interpreter {interpreter} does not exist, and its pyvenv.cfg and lib/ do not say which "
            "Python it was made for: recreate the venv"
        )
    found = candidates(kind)
    python = str(found[0]) if found else "PYTHON"
    where = f"(found: {found[0]})" if found else "(none found on PATH, in pyenv or in uv's Pythons)"
    return (
        f"{state.venv}'s interpreter {interpreter} does not exist; move the venv to another {describe_kind(kind)} "
        f"{where}: venvlink convert --python {python} {state.venv}"
    )


def _move(state: Venv, python: Path, steps: Steps, venv_dir: Directory) -> Conversion:
    """The venv, linkable, on ``python``: an interpreter of the kind its site-packages suit. pyvenv.cfg's
    ``home``, version and base keys follow, and what ``--revert`` would put back links to ``python`` instead."""
    kind = state.made_for()
    if kind is None:
        msg = (
            f"cannot move {state.venv} to {python}: its pyvenv.cfg and lib/ do not say which Python it was made for; "
            "nothing was changed"
        )
        raise VenvlinkError(msg)
    try:
        found = named(python, kind)
    except VenvlinkError as error:
        raise VenvlinkError(f"cannot move {state.venv} to {python}: {error}; nothing was changed") from None
    if found.kind != kind:
        msg = (
            f"cannot move {state.venv} to {python}: the venv is for {describe_kind(kind)}, {python} is "
            f"{found.describe}; its site-packages suit one version only: recreate the venv for that one instead; "
            "nothing was changed"
        )
        raise VenvlinkError(msg)
    old = interpreter_of(state)
    if (old.parent == state.venv / "libexec" and not old.is_symlink()) or any(
        "copy" in how for how in _restore_record(state)["entries"].values()
    ):
        msg = (
            f"cannot move {state.venv} to {python}: it runs its own copy of its interpreter (made with --copies); "
            "recreate the venv instead; nothing was changed"
        )
        raise VenvlinkError(msg)
    cfg_bytes = _pyvenv_cfg.with_keys(state.cfg_bytes, _moved_keys(state.values, python, found))
    moved = state._replace(cfg_bytes=cfg_bytes, values=_pyvenv_cfg.parse(cfg_bytes))
    return make_linkable(moved, python, steps, venv_dir, found.describe, moved_from=old, old_cfg=state.cfg_bytes)


def _moved_keys(values: dict[str, str], python: Path, found: Interpreter) -> dict[str, str | None]:
    """The pyvenv.cfg keys that name the interpreter (venv's and virtualenv's), for ``python``: each one the venv
    has, rewritten; a base prefix the files of ``python`` do not give is dropped rather than left naming the old."""
    keys: dict[str, str | None] = {"home": str(python.parent)}
    if len(found.version) == 3:  # X.Y.Z: a version the files gave only as X.Y is not written
        version = ".".join(map(str, found.version))
        for key, value in (("version", version), ("version_info", version)):
            if key in values:
                keys[key] = f"{version}.final.0" if key == "version_info" and values[key].count(".") > 2 else value
    if "python-version" in values:
        keys["python-version"] = "{}.{}".format(*found.version[:2])
    for key in ("executable", "base-executable"):
        if key in values:
            keys[key] = str(python) if key == "base-executable" else os.path.realpath(python)
    prefixes = installation(python, found.kind[1])
    for key, prefix in (("base-prefix", 0), ("base-exec-prefix", 1)):
        if key in values:
            keys[key] = str(prefixes[prefix]) if prefixes else None
    return keys


def _up_to_date(state: Venv, interpreter: Path) -> bool:
    """Nothing to do: every entry is the installed stub running ``interpreter``, and the keys say so."""
    if state.values.get(MARKER_KEY) != __version__ or state.values.get(EXECUTABLE_KEY) != str(interpreter):
        return False
    wanted = _stub.for_interpreter(str(interpreter))
    return all(not entry.is_symlink() and _stub.read_stub(entry) == wanted for entry in state.entries)


class _Plan(NamedTuple):
    """What a conversion writes: the interpreter the stubs run, the copies that move aside to libexec/, the link
    to a #! wrapper made in libexec/, what --revert will restore, and the new pyvenv.cfg."""

    target: Path
    copies: list[Path]
    wrapper: Path | None
    entries: dict[str, Any]
    new_cfg: bytes


def _plan(state: Venv, interpreter: Path, moved_from: Path | None) -> _Plan:
    record = _restore_record(state)
    libexec = state.venv / "libexec"
    upgraded, upgrade_copies_ = upgrade_copies(state)
    copies = [entry for entry in state.entries if not entry.is_symlink() and not _stub.is_stub(entry)]
    copies = [entry for entry in copies if entry not in upgrade_copies_]
    versioned = [entry.name for entry in state.entries if VERSIONED_NAME.fullmatch(entry.name)]
    target, wrapper = interpreter, None
    if interpreter in copies:
        # The copies move aside to libexec/, as deep as bin/, so that a $ORIGIN/../lib run path still finds a
        # copied libpython; the stubs run the versioned one (CPython 3.11+ takes sys._base_executable's name
        # from argv[0], which the stub names after its target).
        versioned_copies = [c for c in copies if c.name in versioned]
        target = libexec / (versioned_copies[0] if versioned_copies else interpreter).name
        named = Path(state.values.get(EXECUTABLE_KEY, "/"))
        if named.parent == libexec and named.name in record["entries"]:
            target = named  # as an earlier, interrupted, conversion chose
        record.setdefault("libexec", "kept" if os.path.lexists(state.root / "libexec") else "created")
    elif is_script(interpreter):
        # A #! wrapper (nixpkgs' makeWrapper, HPC modules) hands its interpreter "$0", which the kernel sets to
        # the path exec'd, whatever argv[0] was: the stubs exec a link inside the venv, so that $0 is in it.
        target = libexec / (versioned[0] if versioned else interpreter.name)
        wrapper = Path(os.path.realpath(interpreter))
        record.setdefault("libexec", "kept" if os.path.lexists(state.root / "libexec") else "created")
        record["wrapper"] = f"libexec/{target.name}"
    for entry in state.entries:
        if entry.is_symlink():
            record["entries"][entry.name] = {"link": os.readlink(entry)}
        elif entry in copies:
            record["entries"][entry.name] = {"copy": f"libexec/{entry.name}"}
        elif entry in upgrade_copies_:  # what venv made before its --upgrade: a link to that interpreter
            record["entries"].setdefault(entry.name, {"link": str(upgraded)})
    if moved_from is not None:  # the links --revert puts back lead to the new interpreter, not the gone one
        for how in record["entries"].values():
            if "link" in how and os.path.isabs(how["link"]) and _runs(how["link"], moved_from):
                how["link"] = str(interpreter)
    if (state.root / "pyvenv.cfg").is_symlink():
        record.setdefault("pyvenv.cfg", {"link": os.readlink(state.root / "pyvenv.cfg")})
    record.setdefault("newline", not state.cfg_bytes or state.cfg_bytes.endswith(b"\n"))
    keys: dict[str, str | None] = {
        MARKER_KEY: __version__,
        EXECUTABLE_KEY: str(target),
        RESTORE_KEY: json.dumps(record, sort_keys=True, ensure_ascii=False),
    }
    return _Plan(target, copies, wrapper, record["entries"], _pyvenv_cfg.with_keys(state.cfg_bytes, keys))


def _executable_mode(directory: Directory) -> int:
    """The mode of a stub, or of libexec/, made in ``directory``: as the umask would make an executable, but
    writable by the group only where the group can write ``directory`` anyway (a lab's venv, made under umask 002,
    which the lab must be able to recreate; not root's venv in a setgid directory of a group that cannot write its
    bin/), and never by every user (the stub refuses such a venv)."""
    shared = os.fstat(directory.fd).st_mode & stat.S_IWGRP
    return 0o777 & ~umask() & ~stat.S_IWOTH & ~(0 if shared else stat.S_IWGRP)


def _write_cfg(venv_dir: Directory, data: bytes, old: bytes, steps: Steps) -> None:
    """Replace pyvenv.cfg (a link to one, too: never written through) with ``data``, never writable by every user,
    whatever the umask (the stub refuses such a file); durable, since it says what the stub runs."""
    entry = venv_dir.lstat("pyvenv.cfg")
    if entry is not None and stat.S_ISLNK(entry.st_mode):
        mode = os.stat("pyvenv.cfg", dir_fd=venv_dir.fd).st_mode & 0o7777
        undo = partial(venv_dir.symlink, "pyvenv.cfg", venv_dir.readlink("pyvenv.cfg"))
    else:
        mode = entry.st_mode & 0o7777 if entry is not None else 0o644
        undo = partial(venv_dir.write, "pyvenv.cfg", old, mode, durable=True)
    venv_dir.write("pyvenv.cfg", data, mode & ~stat.S_IWOTH, durable=True)
    steps.did(undo)


def _runs(link: str, interpreter: Path) -> bool:
    """Whether the absolute link text ``link`` leads to ``interpreter``, or nowhere (it was removed)."""
    return not os.path.exists(link) or os.path.realpath(link) == os.path.realpath(interpreter)


def make_linkable(  # noqa: PLR0913  # the move's two are keyword-only
    state: Venv,
    interpreter: Path,
    steps: Steps,
    venv_dir: Directory,
    described: str = "",
    *,
    moved_from: Path | None = None,
    old_cfg: bytes | None = None,
) -> Conversion:
    """Put the stub in place of every entry of ``state``, recording what was there; ``interpreter`` is trusted.
    Each change is recorded in ``steps``, which undoes them all if the block it belongs to fails. When the venv
    moves to ``interpreter`` from ``moved_from``, ``state`` holds its new pyvenv.cfg and ``old_cfg`` the one on
    disk."""
    if _stub.is_stub(interpreter):
        msg = f"cannot convert {state.venv}: its interpreter {interpreter} is a venvlink stub; recreate the venv"
        raise VenvlinkError(msg)
    plan = _plan(state, interpreter, moved_from)
    on_disk = state.cfg_bytes if old_cfg is None else old_cfg
    bin_dir = steps.hold(venv_dir.sub("bin"))
    stub = _stub.for_interpreter(str(plan.target))
    to_replace = [entry for entry in state.entries if entry.is_symlink() or _stub.read_stub(entry) != stub]
    rewrite = plan.new_cfg != on_disk or (state.root / "pyvenv.cfg").is_symlink()
    # pyvenv.cfg first: a plain interpreter ignores the keys, and a stub never runs without them
    if rewrite:
        _write_cfg(venv_dir, plan.new_cfg, on_disk, steps)
    libexec = None
    if plan.copies or plan.wrapper:
        made = venv_dir.mkdir("libexec", _executable_mode(venv_dir))
        if made:
            steps.did(partial(venv_dir.rmdir_if_empty, "libexec"))
        libexec = steps.hold(venv_dir.sub("libexec"))
        if made:
            libexec.given_as(venv_dir)
    for copy in plan.copies:
        bin_dir.link_aside(copy.name, libexec, copy.name)  # type: ignore[arg-type]  # made just above
        steps.did(partial(libexec.unlink, copy.name))  # type: ignore[union-attr]
    if plan.wrapper and libexec is not None and plan.target != interpreter:
        libexec.symlink(plan.target.name, str(plan.wrapper))
        steps.did(partial(libexec.unlink, plan.target.name))
    stub_mode = _executable_mode(bin_dir)
    for entry in to_replace:
        if entry.is_symlink():
            undo = partial(bin_dir.symlink, entry.name, os.readlink(entry))
        elif entry in plan.copies:
            undo = partial(libexec.rename, entry.name, bin_dir, entry.name)  # type: ignore[union-attr]
        elif (data := _stub.read_stub(entry)) is not None:  # a stub of another version
            undo = partial(bin_dir.write, entry.name, data, entry.lstat().st_mode & 0o7777)
        else:  # a copy python -m venv --upgrade wrote: kept under a second name (never read whole) until the end
            aside = bin_dir.keep_aside(entry.name)
            undo = partial(bin_dir.rename, aside, bin_dir, entry.name)
            steps.finally_(partial(bin_dir.unlink, aside))
        bin_dir.write(entry.name, stub, stub_mode)
        steps.did(undo)
    return Conversion(state.venv, plan.target, [e.name for e in to_replace], rewrite, described)


def _revert(state: Venv, venv_dir: Directory, steps: Steps) -> Conversion:
    """The stubs back to what was there, then the keys out: the order in which the venv runs throughout. A failure
    half-way puts back what was already reverted."""
    venv, record = state.venv, _restore_record(state)
    entries: dict[str, Any] = record["entries"]
    target = interpreter_of(state)
    # a stub made by venvlink 0.1, which kept no record, becomes a link to the interpreter it ran
    for stub in state.stubs:
        entries.setdefault(stub.name, {"link": os.path.realpath(target)})
    data = _pyvenv_cfg.with_keys(state.cfg_bytes, dict.fromkeys(KEYS))
    if record.get("newline") is False and data.endswith(b"\n") and data != state.cfg_bytes:
        data = data[:-1]
    bin_dir = steps.hold(venv_dir.sub("bin"))
    asides = any("copy" in how for how in entries.values()) or "wrapper" in record
    libexec = steps.hold(venv_dir.sub("libexec")) if asides and venv_dir.lstat("libexec") else None
    _put_back_entries(state, entries, bin_dir, libexec, steps)
    if "wrapper" in record and libexec is not None and libexec.is_link(record["wrapper"][8:]):
        name = record["wrapper"][8:]
        steps.did(partial(libexec.symlink, name, libexec.readlink(name)))
        libexec.unlink(name)
    if "pyvenv.cfg" in record:
        venv_dir.symlink("pyvenv.cfg", record["pyvenv.cfg"]["link"])
        steps.did(partial(venv_dir.write, "pyvenv.cfg", state.cfg_bytes, 0o644, durable=True))
    elif data != state.cfg_bytes:
        _write_cfg(venv_dir, data, state.cfg_bytes, steps)
    if record.get("libexec") == "created":
        venv_dir.rmdir_if_empty("libexec")
    changed_cfg = data != state.cfg_bytes or "pyvenv.cfg" in record
    return Conversion(venv, target, [stub.name for stub in state.stubs], changed_cfg)


def _put_back_entries(
    state: Venv, entries: dict[str, Any], bin_dir: Directory, libexec: Directory | None, steps: Steps
) -> None:
    """Each stub back to its link or its copy (from libexec/, checked to be a file there, as the record says)."""
    copies = {stub.name: entries[stub.name]["copy"][8:] for stub in state.stubs if "copy" in entries[stub.name]}
    gone = [name for name in copies.values() if not _is_regular(libexec, name)]
    if gone:
        msg = f"cannot revert {state.venv}: the copies of its interpreter are gone ({', '.join(gone)} in libexec/)"
        raise VenvlinkError(msg)
    stub_mode = _executable_mode(bin_dir)
    for stub in state.stubs:
        again = partial(bin_dir.write, stub.name, _stub.read_stub(stub) or _stub.template().read_bytes(), stub_mode)
        if stub.name in copies and libexec is not None:
            libexec.rename(copies[stub.name], bin_dir, stub.name)
            steps.did(partial(_copy_aside_again, bin_dir, stub.name, libexec, copies[stub.name], again))
        else:
            bin_dir.symlink(stub.name, entries[stub.name]["link"])
            steps.did(again)
    for entry in state.entries:  # copies an interrupted conversion linked aside but never replaced
        how = entries.get(entry.name, {})
        if entry not in state.stubs and "copy" in how and libexec is not None:
            aside, here = libexec.lstat(how["copy"][8:]), bin_dir.lstat(entry.name)
            if aside and here and (aside.st_dev, aside.st_ino) == (here.st_dev, here.st_ino):
                libexec.unlink(how["copy"][8:])


def _is_regular(directory: Directory | None, name: str) -> bool:
    found = directory.lstat(name) if directory is not None else None
    return found is not None and stat.S_ISREG(found.st_mode)


def _copy_aside_again(bin_dir: Directory, name: str, libexec: Directory, copy: str, write_stub: partial[None]) -> None:
    """Undo a copy put back: the copy aside again, the stub in its place."""
    bin_dir.link_aside(name, libexec, copy)
    write_stub()
