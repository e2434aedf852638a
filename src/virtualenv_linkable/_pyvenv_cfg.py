"""Read pyvenv.cfg the way the stub does; change its keys, keeping every other line byte for byte."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from ._trust import open_regular
from .exceptions import VenvlinkError

MAX_SIZE = 32767  # stub.c's MAX_CFG: CPython 3.11+ refuse a pyvenv.cfg of 32 KiB or more
_BOM = b"\xef\xbb\xbf"


def _strip(data: bytes, strip: Callable[[str], str] = str.strip) -> bytes:
    """``data`` without the whitespace site.py and getpath.py strip off keys and values: str.strip()'s, Unicode's
    (stub.c's ``spaces``); a byte that is not UTF-8 decodes to a lone surrogate, never whitespace, and comes back as
    it was."""
    return strip(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def _key(line: bytes) -> bytes | None:
    """The key of a ``key = value`` line as the stub compares it (case folded in ASCII only: stub.c's parse_cfg says
    why that agrees with CPython's str.lower()), or None without ``=``."""
    key, equals, _ = line.partition(b"=")
    return _strip(key).lower() if equals else None


def parse(data: bytes) -> dict[str, str]:
    """``key = value`` lines, split at the first ``=``; keys folded to lower case in ASCII only, as the stub folds
    them; a UTF-8 BOM skipped, as CPython runs such a venv; the first occurrence of a key wins."""
    values: dict[str, str] = {}
    for line in data.removeprefix(_BOM).split(b"\n"):
        key = _key(line)
        if key is not None:
            value = _strip(line.partition(b"=")[2])
            values.setdefault(key.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
    return values


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path`` within the stub's limits (as CPython reads it), no NUL byte; never waits on a FIFO."""
    try:
        fd = open_regular(path)
        try:
            data = os.read(fd, MAX_SIZE + 1)
        finally:
            os.close(fd)
    except OSError as error:
        if error.errno == errno.ENODATA:
            return b""
        if error.errno == errno.EINVAL:
            msg = f"{path} is not a regular file; it is not a pyvenv.cfg"
            raise VenvlinkError(msg) from None
        msg = f"cannot read {path}: {error.strerror}"
        raise VenvlinkError(msg) from None
    if len(data) > MAX_SIZE:
        msg = f"{path} is larger than {MAX_SIZE} bytes, more than CPython 3.11+ reads; it is not a pyvenv.cfg"
        raise VenvlinkError(msg)
    if b"\0" in data:
        msg = f"{path} contains a NUL byte; it is not a pyvenv.cfg"
        raise VenvlinkError(msg)
    return data


def read(path: Path) -> dict[str, str]:
    return parse(read_bytes(path))


def _lines(data: bytes) -> list[bytes]:
    """``data``'s lines, each with its ``\n``, split where CPython and the stub split: at ``\n`` only (a ``\r``
    inside a line is the stub's blank, not a line end; bytes.splitlines would split there too)."""
    lines = [line + b"\n" for line in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    return [line for line in lines if line]


def with_keys(data: bytes, values: dict[str, str | None]) -> bytes:
    """``data`` with each key of ``values`` set or, where None, removed; every other line kept byte for byte. A key
    that is there keeps its line's place and spelling (its later duplicates go); a new one is appended. A value
    that would not read back as itself is refused."""
    for name, text in values.items():  # what is written must read back as written, by CPython and the stub
        line = f"{name} = {text}\n".encode("utf-8", "surrogateescape")
        # a \r too: site.py reads the file in text mode, where it ends a line
        if text is not None and ("\r" in text or parse(line).get(name) != text):
            msg = (
                f"cannot write {name} = {text} to a pyvenv.cfg: a line break or blanks at its ends would make it "
                "read back as another value (a path cut short names another file); move it to a path without them"
            )
            raise VenvlinkError(msg)
    wanted = {key.encode(): value for key, value in values.items()}
    kept, done = [], set()
    for line in _lines(data):
        key = _key(line)
        if key not in wanted:
            kept.append(line)
        elif wanted[key] is not None and key not in done:
            end = b"\r\n" if line.endswith(b"\r\n") else b"\n"
            value = str(wanted[key]).encode("utf-8", "surrogateescape")
            kept.append(_strip(line.partition(b"=")[0], str.rstrip) + b" = " + value + end)
            done.add(key)
    added = [key + b" = " + str(value).encode("utf-8", "surrogateescape") + b"\n" for key, value in wanted.items()]
    added = [line for line, key in zip(added, wanted) if wanted[key] is not None and key not in done]
    if added and kept and not kept[-1].endswith(b"\n"):
        kept[-1] += b"\n"
    return b"".join(kept + added)
