"""The stub: the compiled file that ships in the package, the copies of it in venvs, and asking it what it does.

The walk of docs/walk.rst is implemented once, in the stub. Python never re-implements it: to know what running a
path does, venvlink runs the stub in its explain mode (``--venvlink-explain-paths``), which walks each path exactly
as a start through that path would, and prints a record instead of exec'ing.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import stat
import struct
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from . import TYPE_CHECKING, _macho
from ._trust import open_regular
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from collections.abc import Iterator

_TEMPLATE = Path(__file__).parent / "_stub" / "venvlink-stub"
IDENTITY = b"venvlink resolving stub"  # stub.c's IDENTITY, within its first 4 KiB since 0.2 (ELF)
_VERSION_AT = 32  # stub.c's struct identity_note: identity[32], version[32], recorded[PATH_MAX]
_RECORDED_AT = 64
_RECORDED_SIZE = 4096  # PATH_MAX on Linux; the note's descsz says (1024 on macOS)
_HEADER = 24  # before the identity: the note's namesz, descsz and type, and its name[12]
HEAD = 4096  # stub.c's HEAD: an ELF stub's identity note lies in its first 4 KiB
_MAX_STUB_SIZE = 1 << 20  # interpreters are larger or do not carry the identity; the stub is ~60 KiB
_BATCH = 500  # paths per explaining process, well within the kernel's limit on arguments
EXPLAIN, EXPLAIN_PATHS = "--venvlink-explain", "--venvlink-explain-paths"  # stub.c's, as its first argument


def template() -> Path:
    """The compiled stub that ships inside the package."""
    if not _TEMPLATE.is_file():
        msg = (
            f"venvlink's stub is missing at {_TEMPLATE}; "
            "reinstall venvlink (pip install --force-reinstall virtualenv-linkable)"
        )
        raise VenvlinkError(msg)
    return _TEMPLATE


@functools.cache
def _template_bytes() -> bytes:
    return template().read_bytes()


@contextmanager
def _opened(path: Path) -> Iterator[tuple[int, os.stat_result] | None]:
    """The file at ``path`` (links followed) open, with its status; None if it is not a regular file of a stub's
    size (nothing else is opened: a FIFO would block)."""
    try:
        fd = open_regular(path)
    except OSError:
        yield None
        return
    try:
        found = os.fstat(fd)
        yield None if found.st_size > _MAX_STUB_SIZE else (fd, found)
    finally:
        os.close(fd)


def _stub_bytes(fd: int) -> bytes | None:
    data = os.read(fd, 4)  # a stub is an executable: a script beside it (activate) is not read on
    if data in (b"\x7fELF", _macho.MAGIC):
        data += os.read(fd, _MAX_STUB_SIZE + 1)
    return data if IDENTITY in data else None  # 0.1 stubs carry it past the first 4 KiB


def read_stub(path: Path) -> bytes | None:
    """The bytes of ``path`` (links followed) if it is a venvlink stub of any version, else None."""
    with _opened(path) as opened, contextlib.suppress(OSError):  # a file that refuses reads is not a stub
        return _stub_bytes(opened[0]) if opened else None
    return None


class Facts(NamedTuple):
    """What venvlink asks of a stub file: kept for thousands of files (doctor), where their bytes are not."""

    version: str
    recorded: str
    current: bool


_known: dict[tuple[int, int, int, int], Facts | None] = {}


def facts(path: Path) -> Facts | None:
    """The :class:`Facts` of the stub at ``path``; None if it is not a stub. A file unchanged since it was last
    read (same inode, size and modification time) is not read again, nor opened."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    key = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
    if key in _known:
        return _known[key]
    with _opened(path) as opened:
        if opened is None:
            return None
        fd, found = opened
        key = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
        if key not in _known:
            try:
                data = _stub_bytes(fd)
            except OSError:  # a sysfs file that refuses reads, say: not a stub
                data = None
            _known[key] = None if data is None else Facts(version(data), recorded(data), is_current(data))
        return _known[key]


def could_be_stub(found: os.stat_result) -> bool:
    """Whether a file of status ``found`` (not a link) may be a stub at all: an executable regular file of a stub's
    size (its identity lies in its first 4 KiB, and it is tens of KiB). Scripts (``activate``, pip's) are not."""
    return stat.S_ISREG(found.st_mode) and bool(found.st_mode & 0o111) and HEAD <= found.st_size <= _MAX_STUB_SIZE


def is_stub(path: Path) -> bool:
    return facts(path) is not None


def _note(data: bytes) -> int | None:
    """Where the identity note's identity starts, for stubs of 0.2 on (older ones carry the identity elsewhere): in
    ELF within the first 4 KiB, in Mach-O in the section its load commands name, as stub.c's read_head finds it."""
    section = _macho.note(data)
    if section is not None:
        at = section + _HEADER
        return at if data[at : at + len(IDENTITY) + 1] == IDENTITY + b"\0" else None
    at = data.find(IDENTITY + b"\0", 0, HEAD)
    return None if at < _HEADER else at  # a note has its header before the identity


def _recorded_size(data: bytes, at: int) -> int:
    """The length of the recorded interpreter's slot: the note's descsz, less the identity and version."""
    (descsz,) = struct.unpack_from("<I", data, at - _HEADER + 4)
    return min(descsz - _RECORDED_AT, _RECORDED_SIZE) if descsz > _RECORDED_AT else _RECORDED_SIZE


def version(data: bytes) -> str:
    """The venvlink version a stub was built by; ``0.1`` for stubs older than the identity note."""
    at = _note(data)
    if at is None:
        return "0.1"
    return data[at + _VERSION_AT : at + _RECORDED_AT].partition(b"\0")[0].decode("ascii", "replace")


def recorded(data: bytes) -> str:
    """The interpreter recorded in a copy of the stub, or ''."""
    at = _note(data)
    if at is None:
        return ""
    size = _recorded_size(data, at)
    return os.fsdecode(data[at + _RECORDED_AT : at + _RECORDED_AT + size].partition(b"\0")[0])


def with_recorded(data: bytes, interpreter: str) -> bytes:
    """The stub ``data`` with ``interpreter`` recorded in it (and a macOS stub's ad-hoc signature renewed: arm64
    macOS kills a process whose pages do not match it; _macho.py)."""
    at = _note(data)
    encoded = os.fsencode(interpreter)
    size = 0 if at is None else _recorded_size(data, at)
    if at is None or len(encoded) >= size:
        msg = f"cannot record {interpreter} in venvlink's stub; reinstall venvlink"
        raise VenvlinkError(msg)
    start = at + _RECORDED_AT
    result = data[:start] + encoded.ljust(size, b"\0") + data[start + size :]
    try:
        return _macho.resign(result) if data[:4] == _macho.MAGIC else result
    except _macho.SignatureError as error:
        msg = f"cannot record {interpreter} in venvlink's stub: {error}; install a wheel venvlink built"
        raise VenvlinkError(msg) from None


@functools.lru_cache(maxsize=64)
def for_interpreter(interpreter: str) -> bytes:
    """The installed stub with ``interpreter`` recorded: a copy that leaves its venv runs it, as a copied python
    would run itself."""
    return with_recorded(_template_bytes(), interpreter)


def is_current(data: bytes) -> bool:
    """Whether the stub ``data`` is the installed one, whatever interpreter it records. A slot filled to its end
    (no NUL: :func:`with_recorded` always leaves one) was not recorded by venvlink, and is not."""
    at = _note(data)
    if at is None or b"\0" not in data[at + _RECORDED_AT : at + _RECORDED_AT + _recorded_size(data, at)]:
        return False
    return data == for_interpreter(recorded(data))


class Explained(NamedTuple):
    """The stub's record of what a start through ``start`` does (docs/walk.rst). No defaults: each record has
    lists of its own (:func:`_parse` gives every field)."""

    start: str
    hops: list[str]
    found: str | None
    pyvenv_cfgs: list[str]
    executable: str | None
    named_by: str | None
    argv0: str | None
    prefix: str | None
    error: str | None
    status: int


def _parse(output: bytes, asked: list[str]) -> list[Explained]:
    """The records of ``output``, one per path ``asked``, in order (a path the stub could not make absolute, such
    as one longer than PATH_MAX, has no ``start`` field: the path asked stands for it)."""
    records: list[dict[str, list[str]]] = []
    for item in output.split(b"\0")[:-1]:
        key, _, value = os.fsdecode(item).partition("=")
        if key == "venvlink-explain":
            records.append({})
        elif records:
            records[-1].setdefault(key, []).append(value)
    explained = []
    for fields, path in zip(records, asked):
        one = {key: values[0] for key, values in fields.items()}
        explained.append(
            Explained(
                start=one.get("start", path),
                hops=fields.get("hop", []),
                found=one.get("found"),
                pyvenv_cfgs=fields.get("pyvenv.cfg", []),
                executable=one.get("exec"),
                named_by=one.get("named-by"),
                argv0=one.get("argv0"),
                prefix=one.get("prefix") or None,
                error=one.get("error"),
                status=int(one.get("status", "127")),
            )
        )
    return explained


def _run_stub(arguments: list[str], env: dict[str, str], timeout: float) -> tuple[bytes, bytes]:
    """The stub's standard output and error, run with ``arguments``: posix_spawn and poll, as subprocess would, but
    without importing it (a sixth of ``venvlink export``'s own time). OSError if it cannot start, TimeoutError
    (killed) if it does not finish in ``timeout`` seconds."""
    pipes = [os.pipe(), os.pipe()]  # not inheritable: only the ends dup2'ed onto 1 and 2 reach the stub
    actions = [(os.POSIX_SPAWN_DUP2, write, fd) for fd, (_, write) in enumerate(pipes, start=1)]
    try:
        pid = os.posix_spawn(arguments[0], arguments, env, file_actions=actions)
    finally:
        for _, write in pipes:
            os.close(write)
    chunks: dict[int, list[bytes]] = {read: [] for read, _ in pipes}
    poller = select.poll()
    for read in chunks:
        poller.register(read, select.POLLIN)
    deadline = time.monotonic() + timeout
    try:
        open_ends = set(chunks)
        while open_ends:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"it did not finish in {timeout:g} s")
            for fd, _ in poller.poll(left * 1000):
                data = os.read(fd, 1 << 16)
                if data:
                    chunks[fd].append(data)
                else:
                    poller.unregister(fd)
                    open_ends.discard(fd)
    except BaseException:  # timed out, interrupted: the stub is not waited for while it runs on
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        for read in chunks:
            os.close(read)
        os.waitpid(pid, 0)
    out, err = (b"".join(chunks[read]) for read, _ in pipes)
    return out, err


def _explain_batch(batch: list[str]) -> list[Explained]:
    env = {name: value for name, value in os.environ.items() if name != "VENVLINK_DEBUG"}
    try:
        out, err = _run_stub([str(template()), EXPLAIN_PATHS, *batch], env, timeout=120)
    except OSError as error:  # TimeoutError too
        msg = f"cannot run venvlink's stub {template()}: {error}"
        raise VenvlinkError(msg) from None
    answers = _parse(out, batch)
    if len(answers) != len(batch):
        said = err.decode(errors="replace").strip().splitlines()
        msg = f"venvlink's stub {template()} did not explain {batch[len(answers)]}: {said[-1] if said else ''}"
        raise RuntimeError(msg)
    return answers


def explain(paths: list[str]) -> list[Explained]:
    """What a start through each of ``paths`` (absolute) does, as the installed stub walks it: one stub process per
    batch of paths (a fork per path), the batches side by side on the machine's cores."""
    workers = max(1, min(os.cpu_count() or 1, 8))
    size = max(1, min(_BATCH, -(-len(paths) // workers)))
    batches = [paths[first : first + size] for first in range(0, len(paths), size)]
    if len(batches) <= 1:
        return _explain_batch(batches[0]) if batches else []
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415  # only doctor explains this many

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [answer for answers in pool.map(_explain_batch, batches) for answer in answers]
