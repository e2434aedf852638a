"""PLACEHOLDER until the read-interp branch lands: what an interpreter is, read from its files, never run."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ._trust import open_regular

_MARKERS = {b"Py_BytesMain": "CPython", b"pypy_main_startup": "PyPy"}
_NAME = re.compile(r"(python|pypy)(\d+)\.(\d+)(t?)")


@dataclass(frozen=True)
class Facts:
    path: Path
    implementation: str | None
    version: tuple[int, ...] | None
    free_threaded: bool
    script: str | None


def read_interpreter(path: Path) -> Facts | None:
    real = Path(os.path.realpath(path))
    try:
        with os.fdopen(open_regular(real), "rb") as stream:
            data = stream.read(32 << 20)
    except OSError:
        return None
    named = _NAME.fullmatch(real.name)
    version = (int(named[2]), int(named[3])) if named else None
    if data.startswith(b"#!"):
        return Facts(real, None, version, bool(named and named[4]), data[2:].split(b"\n")[0].strip().decode())
    found = next((impl for marker, impl in _MARKERS.items() if marker in data), None)
    if found is None or not data.startswith(b"\x7fELF"):
        return None
    if version is None:
        needed = re.search(rb"lib(?:python|pypy)(\d+)\.(\d+)(t?)", data)
        if needed:
            version = (int(needed[1]), int(needed[2]))
    libs = [data]
    lib = real.parent.parent / "lib"
    if version:
        libs += [p.read_bytes() for p in lib.glob(f"libpython{version[0]}.{version[1]}*.so*") if p.is_file()]
        for blob in libs:
            patch = re.search(rb"\x00(%d\.%d)\.(\d+)[a-z0-9+]*\x00" % version[:2], blob)
            if patch:
                version = (*version[:2], int(patch[2]))
                break
    return Facts(real, found, version, bool(named and named[4]), None)
