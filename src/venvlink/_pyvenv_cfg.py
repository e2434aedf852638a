"""Read pyvenv.cfg the way CPython (and the stub) do; rewrite it atomically, keeping every other line."""

from __future__ import annotations

from pathlib import Path

from ._install import replace_file
from .exceptions import VenvlinkError

MAX_SIZE = 65536
_BLANKS = " \t\r\f\v"


def parse(text: str) -> dict[str, str]:
    """``key = value`` lines, split at the first ``=``; keys lower-cased; the first occurrence of a key wins."""
    values: dict[str, str] = {}
    for line in text.split("\n"):
        key, equals, value = line.partition("=")
        if equals:
            values.setdefault(key.strip(_BLANKS).lower(), value.strip(_BLANKS))
    return values


def read(path: Path) -> dict[str, str]:
    """Parse ``path`` with the stub's limits: at most 64 KiB, no NUL byte."""
    data = path.read_bytes()
    if len(data) > MAX_SIZE:
        msg = f"{path} is larger than {MAX_SIZE} bytes; it is not a pyvenv.cfg"
        raise VenvlinkError(msg)
    if b"\0" in data:
        msg = f"{path} contains a NUL byte; it is not a pyvenv.cfg"
        raise VenvlinkError(msg)
    return parse(data.decode("utf-8", "surrogateescape"))


def rewrite(path: Path, values: dict[str, str | None]) -> None:
    """Set (or with ``None`` remove) keys in ``path`` in one atomic replace; all other lines stay as they are."""
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if line.partition("=")[0].strip(_BLANKS).lower() not in values or "=" not in line
    ]
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    kept += [f"{key} = {value}\n" for key, value in values.items() if value is not None]
    replace_file(path, "".join(kept).encode("utf-8", "surrogateescape"), path.stat().st_mode & 0o777)
