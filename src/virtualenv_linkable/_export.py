"""Export a venv's interpreter as a symlink elsewhere, and take such an export back."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import NamedTuple

from . import _stub
from ._atomic import Directory, Steps, cannot_write, temporary_name
from ._paths import absolute, bin_home, destination, make_directories, on_path, same_directory
from ._policy import refusal_to_place
from ._registry import Converted, Export, Records, Registry, now
from ._trust import others_can_change
from ._venv import Venv
from .exceptions import VenvlinkError


class ExportResult(NamedTuple):
    """What :func:`export` did: a named tuple.

    :ivar dest: the link made (its directory resolved, as the kernel resolves it)
    :ivar target: the link's text
    :ivar venv: the venv it runs
    :ivar converted: whether the venv had to be made linkable first
    :ivar replaced: whether ``dest`` existed and was replaced (``force``)
    :ivar on_path: whether ``dest``'s directory is on ``PATH``
    :ivar registry: the registry that records the export
    """

    dest: Path
    target: str
    venv: Path
    converted: bool
    replaced: bool
    on_path: bool
    registry: Path

    @property
    def path_note(self) -> str | None:
        """What to tell the user when ``dest`` cannot be run by its name, as pipx does; ``None`` when it can."""
        if self.on_path:
            return None
        return f"{self.dest.parent} is not on PATH; add it to run {self.dest.name} by name"


def _refuse(refusal: str | None) -> None:
    if refusal is not None:
        raise VenvlinkError(refusal)


def _check(state: Venv, dest: Path, name: str, *, force: bool) -> Path:
    """Refuse what export must not do, before anything changes; the interpreter entry to link to."""
    venv = state.venv
    names = [entry.name for entry in state.entries]
    if name not in names:
        msg = f"{venv / 'bin' / name} is not an interpreter of {venv}; choose one with --name: {', '.join(names)}"
        raise VenvlinkError(msg)
    if same_directory(dest.parent, venv / "bin"):
        msg = (
            f"{dest} is inside {venv / 'bin'}; a link there would replace the venv's own files; choose a DEST elsewhere"
        )
        raise VenvlinkError(msg)
    if os.path.lexists(dest):
        own = os.lstat(dest)
        if any((own.st_dev, own.st_ino) == (os.lstat(e).st_dev, os.lstat(e).st_ino) for e in state.entries):
            msg = f"{dest} is one of {venv}'s own interpreters; choose a DEST elsewhere"
            raise VenvlinkError(msg)
        if dest.is_dir() and not dest.is_symlink():
            msg = f"{dest} is a directory; give the path of the link to create in it, such as {dest / name}"
            raise VenvlinkError(msg)
        if not force:
            msg = f"{dest} already exists; pass --force to replace it"
            raise VenvlinkError(msg)
    if not dest.parent.is_dir():
        msg = f"{dest.parent} does not exist; create it first (mkdir -p {dest.parent})"
        raise VenvlinkError(msg)
    return venv / "bin" / name


def _open_dest_directory(dest: Path) -> Directory:
    """DEST's directory, held open, checked to be the one its path resolved to (``dest``'s is resolved): whoever
    can write a directory above it could swap it for a link elsewhere meanwhile, and a link made or removed there
    would be another than the one named."""
    where = Directory.open(dest.parent)
    pinned = f"/proc/self/fd/{where.fd}"
    if os.path.isdir(pinned) and os.readlink(pinned) != str(dest.parent):
        where.close()
        msg = f"{dest.parent} changed while venvlink was at work (it now leads elsewhere); nothing was changed"
        raise VenvlinkError(msg)
    return where


def _verify(where: Directory, record: Export, venv: Path, entry: Path) -> None:
    """Refuse a link that would not run ``venv``: the stub explains a link put in DEST's directory (it reads, and
    execs nothing), as a start through DEST would walk it. Nothing is run."""
    dest = Path(record.dest)
    while True:
        name = temporary_name(dest.name)
        try:
            os.symlink(record.target, name, dir_fd=where.fd)
        except FileExistsError:
            continue
        except OSError as error:
            raise cannot_write(dest, error) from None
        break
    try:
        explained = _stub.explain([str(where.path / name)])[0]
    finally:
        where.unlink(name)
    if explained.status != 0:
        msg = f"{dest} would not run: {explained.error}; nothing was changed"
        raise VenvlinkError(msg)
    if explained.prefix is None or not same_directory(explained.prefix, venv):
        msg = (
            f"{dest} would run with sys.prefix = {explained.prefix or 'the base interpreter'}, not {venv}; "
            f"nothing was changed (see: venvlink which {entry})"
        )
        raise VenvlinkError(msg)


def _place(where: Directory, record: Export, *, force: bool) -> None:
    """Put the link at DEST: only if nothing is there, or with ``force`` over what is, in one step either way.
    The link renamed over DEST is made in a directory of our own (mode 0700): nobody can swap it on the way."""
    dest = Path(record.dest)
    try:
        if not force:
            os.symlink(record.target, dest.name, dir_fd=where.fd)  # fails if anything took DEST meanwhile
            return
        while not where.mkdir(private := temporary_name(dest.name), 0o700):
            pass
        try:
            with where.sub(private) as own:
                os.symlink(record.target, "link", dir_fd=own.fd)
                os.replace("link", dest.name, src_dir_fd=own.fd, dst_dir_fd=where.fd)
        finally:
            where.rmdir_if_empty(private)
    except FileExistsError:
        msg = f"{dest} appeared while venvlink was exporting; nothing was changed (pass --force to replace it)"
        raise VenvlinkError(msg) from None
    except OSError as error:
        raise cannot_write(dest, error) from None


def _put_back(registry: Registry, records: Records, dest: str, previous: Export | None, made: str | None) -> None:
    """The registry as it was before an export of ``dest`` (``made``: a venv it recorded as converted)."""
    if previous is None:
        del records.exports[dest]
    else:
        records.exports[dest] = previous
    if made is not None:
        records.venvs.pop(made, None)
    registry.save(records)


def export(  # noqa: PLR0913  # keyword-only options, one per CLI flag
    venv: str | os.PathLike[str],
    dest: str | os.PathLike[str] | None = None,
    *,
    name: str = "python",
    relative: bool = False,
    force: bool = False,
    convert_venv: bool = True,
    registry: Registry | None = None,
) -> ExportResult:
    """Make ``dest`` a symlink to ``venv``'s interpreter ``name`` that runs with ``venv``'s packages; without
    ``dest``, the venv's directory name in the directory pipx and uv put commands in (``$VENVLINK_BIN_DIR``,
    ``$XDG_BIN_HOME``, else ``~/.local/bin``).

    A venv that is not linkable yet is converted first (unless ``convert_venv`` is false). ``dest`` is checked
    and claimed under the registry's lock: an existing ``dest`` is replaced only with ``force``, in one rename,
    never written through. Before the new link takes ``dest``'s place, the stub explains it (nothing is run); if
    the ``sys.prefix`` it would start with is not ``venv``, or anything else fails, the venv, ``dest`` and the
    registry stay as they were.
    """
    state = Venv.read(absolute(venv))
    if dest is None:  # where pipx and uv put a tool's command, named after the venv's directory
        home = bin_home()
        doubt = others_can_change(home)  # from HOME, which under sudo -E is another user's
        if doubt:
            msg = f"refusing to put the link in {home}: {doubt}; give DEST"
            raise VenvlinkError(msg)
        try:
            make_directories(home)
        except OSError as error:
            raise cannot_write(home, error) from None
        dest = home / state.venv.name
    _refuse(refusal_to_place(dest))
    venv, dest = state.venv, destination(dest)
    registry = registry or Registry()
    with registry.change() as records, Steps() as steps:
        entry = _check(state, dest, name, force=force)
        existed = os.path.lexists(dest)
        target = os.path.relpath(entry, dest.parent) if relative else str(entry)
        record = Export(str(dest), str(venv), target, name, now())
        converted = not state.runs_stub(name)
        if converted and not convert_venv:
            msg = (
                f"{venv} is not linkable: a link to it would run the base interpreter without it; "
                f"run: venvlink convert {venv}"
            )
            raise VenvlinkError(msg)
        if converted:
            from ._convert import convert_in, hold  # noqa: PLC0415  # a linkable venv's export needs neither

            venv_dir = hold(venv, steps)
            convert_in(Venv.read(venv, through=venv_dir), steps, venv_dir)
        where = steps.hold(_open_dest_directory(dest))
        _verify(where, record, venv, entry)
        # recorded before the link is placed: if we die between the two, doctor knows the export and how to mend
        # it; the other order would leave a link venvlink knows nothing of
        # a venv converted here is remembered as convert remembers one, for doctor --fix (and an uninstall) to find
        made = str(venv) if converted and str(venv) not in records.venvs else None
        steps.did(partial(_put_back, registry, records, record.dest, records.exports.get(record.dest), made))
        records.exports[record.dest] = record
        if made is not None:
            records.venvs[made] = Converted(made, record.created)
        registry.save(records)
        _place(where, record, force=force)
    return ExportResult(dest, target, venv, converted, existed, on_path(dest.parent), registry.path)


def _not_an_export(given: Path, records: Records, registry: Path) -> str:
    """What to say of a ``remove`` of something venvlink did not export: of a venv, its exports and the commands
    that remove them (never an invitation to delete the venv itself)."""
    if not (given / "pyvenv.cfg").is_file():
        return f"{given} is not an export of venvlink (not in {registry}); if you made it, remove it yourself"
    exports = sorted(key for key, record in records.exports.items() if same_directory(record.venv, given))
    if exports:
        commands = "; ".join(f"venvlink remove {key}" for key in exports)
        return f"{given} is a venv, not an export; to remove its exports: {commands}"
    return (
        f"{given} is a venv, not an export, and venvlink exported it nowhere; to make it plain again: venvlink convert "
        f"--revert {given}"
    )


def remove(dest: str | os.PathLike[str], *, forget: bool = False, registry: Registry | None = None) -> str:
    """Remove an export venvlink made, if it is still the link venvlink made; never touch the venv (a venv that is
    gone, and that no other export leads to, is forgotten with it). With ``forget``, only drop its entry (or a
    converted venv's), leaving the file as it is: for a link re-pointed by hand.

    Returns what was done: ``"removed"``; ``"gone"`` (the link was gone already: forgotten); ``"malformed"`` (its
    entry did not parse: forgotten, any file left); ``"forgotten"`` (``forget``: the entry dropped, the link left);
    ``"venv"`` (``forget`` of a converted venv: forgotten, the venv left).
    """
    if not forget:
        _refuse(refusal_to_place(dest))
    given, dest = absolute(dest), destination(dest)
    registry = registry or Registry()
    with registry.change() as records:
        if str(dest) not in records.exports and str(given) in records.exports:
            dest = given  # recorded by venvlink 0.1, which did not resolve DEST's directory
        record = records.exports.get(str(dest))
        if record is None:
            if registry.forget_malformed(str(dest)) or registry.forget_malformed(str(given)):
                return "malformed"
            if forget and records.venvs.pop(str(given), None) is not None:
                return "venv"
            raise VenvlinkError(_not_an_export(given, records, registry.path))
        del records.exports[str(dest)]
        if not os.path.lexists(record.venv) and all(other.venv != record.venv for other in records.exports.values()):
            records.venvs.pop(record.venv, None)  # its venv is gone too, and nothing else leads there
        if forget:
            return "forgotten"
        if not os.path.lexists(dest):
            return "gone"
        with _open_dest_directory(destination(dest)) as where:  # what is checked is what is removed
            now = where.readlink(dest.name) if where.is_link(dest.name) else None
            if now != record.target:
                what = "is no longer a symlink" if now is None else f"now points to {now}, not {record.target}"
                msg = (
                    f"{dest} {what}; venvlink did not make it so and leaves it; to forget it and keep it: "
                    f"venvlink remove --forget {dest}"
                )
                raise VenvlinkError(msg)
            try:
                os.unlink(dest.name, dir_fd=where.fd)
            except OSError as error:
                msg = f"cannot remove {dest}: {error.strerror}"
                raise VenvlinkError(msg) from None
        return "removed"
