"""What an interpreter is, read from its files and never run: CPython or PyPy, its version, free-threaded or not.

venvlink runs nothing it was not named to run; it reads. Running a file to ask it what it is runs whatever the file
is, and whatever it loads as it starts (a libpython, a standard library someone else can change); reading it runs
nothing. An interpreter says what it is in its files:

- which Python: a CPython executable carries its entry point ``Py_BytesMain`` (called from a linked libpython, or
  built in), PyPy's ``pypy_main_startup``, named in its dynamic string table;
- X.Y and free-threaded (``t``): the libpython it links (``libpython3.12.so.1.0``, ``libpython3.13t.so.1.0``,
  ``libpypy3.9-c.so``); else its real name (``python3.12``, ``python3.13t``, ``pypy3.9``); else the
  extension-module tag compiled into it (``cpython-311``, ``cpython-313t``); else the standard library its
  installation has, found up from its real directory as CPython's getpath finds its prefix
  (``lib/python3.12/os.py``);
- the patch level: ``Py_Version`` (CPython 3.11+ exports ``PY_VERSION_HEX`` under that name), else the
  ``PY_VERSION`` string (``"3.10.13"``) among the read-only data of the binary or of the libpython it links, found
  where the dynamic loader would find it; PyPy keeps ``sys.version`` (``"3.9.16 (7.3.11..."``) among its data.

Only regular files are opened (``open_regular``), each read by bounded ``pread`` calls, never mapped (a file
truncated under a mapping kills the reader with SIGBUS) and never past 64 MiB for one table or search: a sparse
"ELF" of terabytes is not read. A truncated or malformed file gives fewer facts, or None, never an exception.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import NamedTuple

from . import TYPE_CHECKING
from ._trust import open_regular

if TYPE_CHECKING:
    from collections.abc import Iterator

_CAP = 64 << 20  # no table, section or search reads more of a file than this
_STRINGS_CAP = 16 << 20  # a string table: the largest known (libpython's .dynstr) is 40 KiB
# what one string may take: a library's name or a run path (PATH_MAX), a section's name (".note.gnu.build-id");
# and how many of a kind are read (a Python links a dozen libraries)
_PATH_MAX, _SECTION_NAME_MAX, _MOST_STRINGS = 4096, 64, 256
_HEAD = 4096
_CHUNK = 4 << 20  # searched at a time, so that a search that finds early reads little
_FINDS = 4096  # occurrences of "X.Y." looked at in a chunk: a few in a real binary; a crafted one stops there
_ELF, _MACHO_64, _MACHO_FAT = b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"
# as _interpreter's _MARKERS: CPython 3.8+ calls Py_BytesMain, PyPy pypy_main_startup (kept here, not imported,
# so that _interpreter may import this module)
_MARKERS = {b"Py_BytesMain": "CPython", b"pypy_main_startup": "PyPy"}
# the names an installation gives interpreters, libpythons and standard libraries: python3.12, python3.13t,
# pypy3.9; libpython3.7m.so.1.0, libpython3.13td.so, libpypy3.9-c.so
_NAMED = re.compile(rb"(python|pypy)(\d+)\.(\d+)(t?)")
_LIBRARY = re.compile(rb"lib(python|pypy)(\d+)\.(\d+)(t?)[a-z]*(?:-c)?\.so(?:\.[\d.]+)?")
# the tag of extension modules (sysconfig's SOABI), compiled in: cpython-311, .cpython-313t-x86_64-linux-gnu.so
_SOABI = re.compile(rb"cpython-(\d)(\d+)(t?)[a-z]*[-\x00]")
_PATCH = re.compile(rb"(\d+)(?:(?:a|b|rc)\d+)?\+?\x00")  # what follows "X.Y." in PY_VERSION: 1, 0rc2, 0a1, 2+
_PYPY_PATCH = re.compile(rb"(\d+) \(")  # PyPy's sys.version: "3.9.16 (7.3.11+dfsg...", "3.10.14 (75b3de9d9035,"

_ET_EXEC, _ET_DYN = 2, 3
_PT_LOAD, _PT_DYNAMIC, _PT_INTERP = 1, 2, 3
_SHT_SYMTAB, _SHT_DYNSYM = 2, 11
_DT_NEEDED, _DT_STRTAB, _DT_STRSZ, _DT_RPATH, _DT_RUNPATH = 1, 5, 10, 15, 29
_DT_FLAGS_1, _DF_1_PIE = 0x6FFFFFFB, 0x08000000
# Debian's multiarch directories, where its libpython and libpypy are: by e_machine, for little-endian ELF
_MULTIARCH = {
    3: "i386-linux-gnu",
    40: "arm-linux-gnueabihf",
    21: "powerpc64le-linux-gnu",
    62: "x86_64-linux-gnu",
    183: "aarch64-linux-gnu",
    243: "riscv64-linux-gnu",
}
_MULTIARCH_BIG = {22: "s390x-linux-gnu", 21: "powerpc64-linux-gnu"}


class Facts(NamedTuple):
    """What a file says it is, read and never run."""

    path: Path  # the file read (the real path, links followed)
    implementation: str | None  # "CPython", "PyPy"; None when the file does not say (a #! script)
    version: tuple[int, ...] | None  # (3, 12, 1); (3, 12) when only X.Y is readable; None when nothing is
    free_threaded: bool
    script: str | None  # a #! script's line, after the #! ("/usr/bin/env bash"); None for a binary


def read_interpreter(path: Path) -> Facts | None:
    """What the file at path (links followed) is, read and never run; None when it is not a Python interpreter (nor a
    #! script)."""
    real = Path(os.path.realpath(path))
    try:
        with _File.open(real) as file:
            head = file.read(0, _HEAD)
            if head.startswith(b"#!"):
                return _script(real, head)
            if head.startswith(_ELF):
                return _read_elf(real, file, head)
            if head.startswith((_MACHO_64, _MACHO_FAT)):
                return _read_macho(real, file)
    except (OSError, struct.error):
        return None
    return None


class _File:
    """A regular file opened for reads at offsets, each bounded by the file's size and by ``_CAP``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.size = os.fstat(fd).st_size

    @classmethod
    def open(cls, path: Path) -> _File:
        return cls(open_regular(path))  # never a FIFO, a device, an empty or a procfs file

    def __enter__(self) -> _File:
        return self

    def __exit__(self, *_: object) -> None:
        os.close(self.fd)

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``; fewer past the end (or if the file shrank), none outside it."""
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        return os.pread(self.fd, min(length, self.size - offset, _CAP), offset)

    def chunks(self, offset: int, length: int, overlap: int = 64) -> Iterator[tuple[int, bytes]]:
        """The bytes from ``offset`` on, ``_CHUNK`` at a time with ``overlap`` bytes in common (a match across two
        chunks is in one), and where each chunk starts; ``_CAP`` bytes at most."""
        end = offset + min(length, self.size - offset, _CAP)
        while offset < end:
            chunk = self.read(offset, min(_CHUNK, end - offset))
            if not chunk:
                return
            yield offset, chunk
            if offset + len(chunk) >= end:
                return
            offset += max(len(chunk) - overlap, 1)


# ---- #! scripts and Mach-O: what their names say


def _script(real: Path, head: bytes) -> Facts:
    """A #! script: its line, and the X.Y its interpreter's name says (``#!/usr/bin/env python3.12``). Its content
    is not followed: what a shell script runs is decided when it runs (pyenv's shims ask ``pyenv exec``)."""
    line = os.fsdecode(head[2:].split(b"\n", 1)[0].strip())
    words = line.split()
    program = os.path.basename(words[0]) if words else ""
    if program == "env":  # env's options and assignments come before the program it runs
        program = next((os.path.basename(w) for w in words[1:] if not w.startswith("-") and "=" not in w), "")
    named = _kind_of_name(os.fsencode(program))
    return Facts(real, None, named[:2] if named else None, bool(named and named[2]), line)


def _read_macho(real: Path, file: _File) -> Facts | None:
    """A Mach-O executable: which Python its entry point says; X.Y from its name or installation (its load commands
    are not read: macOS is never run here to check a reading against)."""
    implementation = next(
        (
            name
            for _, chunk in file.chunks(0, file.size)
            for marker, name in _MARKERS.items()
            if marker + b"\x00" in chunk
        ),
        None,
    )
    if implementation is None:
        return None
    kind = _kind_of_name(os.fsencode(real.name)) or _kind_of_stdlib(real, implementation)
    return Facts(real, implementation, kind[:2] if kind else None, bool(kind and kind[2]), None)


def _kind_of_name(name: bytes) -> tuple[int, int, bool] | None:
    """X.Y and free-threaded from an interpreter's name: python3.12, python3.13t, pypy3.9."""
    found = _NAMED.fullmatch(name)
    return (int(found[2]), int(found[3]), bool(found[4])) if found else None


def _kind_of_stdlib(real: Path, implementation: str) -> tuple[int, int, bool] | None:
    """X.Y and free-threaded from the standard library of the installation: the first directory up from the real
    file's whose ``lib/`` (or ``lib64/``, Fedora's platlibdir) has ``python3.X`` or ``python3.Xt`` (``pypy3.X``)
    with ``os.py`` or ``os.pyc`` in it, as getpath finds the prefix; None when there are several there."""
    stem = b"pypy" if implementation == "PyPy" else b"python"
    for directory in real.parents:
        found: set[tuple[int, int, bool]] = set()
        for lib in (directory / "lib", directory / "lib64"):
            try:
                names = os.listdir(os.fsencode(lib))
            except OSError:
                continue
            for name in names:
                named = _NAMED.fullmatch(name)
                landmarks = (lib / os.fsdecode(name) / "os.py", lib / os.fsdecode(name) / "os.pyc")
                if named and named[1] == stem and any(landmark.is_file() for landmark in landmarks):
                    found.add((int(named[2]), int(named[3]), bool(named[4])))
        if found:
            return found.pop() if len(found) == 1 else None
    return None


# ---- ELF: the headers, the dynamic section, symbols


class _Segment(NamedTuple):
    kind: int
    offset: int
    address: int
    size: int  # in the file


class _Section(NamedTuple):
    name: bytes
    kind: int
    offset: int
    size: int
    link: int


class _Elf(NamedTuple):
    """An ELF file's headers, as far as reading an interpreter needs them, and its dynamic entries."""

    file: _File
    order: str  # struct's byte order: "<" or ">"
    wide: bool  # ELF64
    kind: int  # e_type
    machine: int
    segments: tuple[_Segment, ...]
    sections: tuple[_Section, ...]
    dynamic: tuple[tuple[int, int], ...] = ()
    strings: bytes = b""  # the dynamic string table

    def unpack(self, layout: str, data: bytes, at: int = 0) -> tuple[int, ...]:
        return struct.unpack_from(self.order + layout, data, at)

    def section(self, name: bytes) -> _Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def section_data(self, section: _Section, cap: int = _CAP) -> bytes:
        return self.file.read(section.offset, min(section.size, cap))

    def offset_of(self, address: int, length: int) -> int | None:
        """Where in the file the ``length`` bytes loaded at ``address`` are."""
        for segment in self.segments:
            if segment.kind == _PT_LOAD and segment.address <= address <= segment.address + segment.size - length:
                return segment.offset + address - segment.address
        return None

    def values(self, tag: int) -> list[int]:
        return [value for found, value in self.dynamic if found == tag]

    def dynamic_strings(self, tag: int) -> list[bytes]:
        """The strings the dynamic entries of ``tag`` name (DT_NEEDED's libraries, DT_RUNPATH's directories)."""
        return [_string_at(self.strings, value, _PATH_MAX) for value in self.values(tag)[:_MOST_STRINGS]]

    @property
    def executable(self) -> bool:
        """An executable, not a library: ET_EXEC, or a PIE (ET_DYN with a program interpreter, or flagged so
        when static) — libpython defines Py_BytesMain too."""
        interpreted = any(segment.kind == _PT_INTERP for segment in self.segments)
        pie = any(flags & _DF_1_PIE for flags in self.values(_DT_FLAGS_1))
        return self.kind == _ET_EXEC or (self.kind == _ET_DYN and (interpreted or pie))


def _parse_elf(file: _File, head: bytes) -> _Elf | None:
    """The headers of the ELF file whose first bytes are ``head``; None when they are not ELF's."""
    if len(head) < 64 or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    wide, order = head[4] == 2, "<" if head[5] == 1 else ">"
    layout = "HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH"
    kind, machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(
        order + layout, head, 16
    )
    # each step reads with what the one before found: segments, sections, the dynamic section, its strings
    elf = _Elf(file, order, wide, kind, machine, (), ())
    elf = elf._replace(segments=tuple(_segments(elf, phoff, phentsize, phnum)))
    elf = elf._replace(sections=tuple(_sections(elf, shoff, shentsize, shnum, shstrndx)))
    elf = elf._replace(dynamic=tuple(_dynamic(elf)))
    return elf._replace(strings=_dynamic_string_table(elf))


def _table(elf: _Elf, offset: int, entry_size: int, count: int, least: int) -> Iterator[bytes]:
    """Each entry of a table of ``count`` entries of ``entry_size`` bytes at ``offset``, as far as the file has
    them; none when an entry is shorter than the ``least`` bytes read of it."""
    if entry_size < least:
        return
    data = elf.file.read(offset, entry_size * count)
    for at in range(0, len(data) - entry_size + 1, entry_size):
        yield data[at : at + entry_size]


def _segments(elf: _Elf, offset: int, entry_size: int, count: int) -> Iterator[_Segment]:
    layout, least = ("IIQQQQ", 56) if elf.wide else ("IIIII", 32)
    for entry in _table(elf, offset, entry_size, count, least):
        if elf.wide:
            kind, _, where, address, _, size = elf.unpack(layout, entry)
        else:
            kind, where, address, _, size = elf.unpack(layout, entry)
        yield _Segment(kind, where, address, size)


def _sections(elf: _Elf, offset: int, entry_size: int, count: int, names_index: int) -> Iterator[_Section]:
    layout, least = ("IIQQQQI", 64) if elf.wide else ("IIIIIII", 40)
    found = [elf.unpack(layout, entry) for entry in _table(elf, offset, entry_size, count, least)]
    names = b""
    if 0 <= names_index < len(found):
        names = elf.file.read(found[names_index][4], min(found[names_index][5], 1 << 20))
    for name, kind, _, _, where, size, link in found:
        yield _Section(_string_at(names, name, _SECTION_NAME_MAX), kind, where, size, link)


def _dynamic(elf: _Elf) -> Iterator[tuple[int, int]]:
    """The dynamic section's entries (tag, value) up to DT_NULL, where the loader finds them (PT_DYNAMIC)."""
    found = next((s for s in elf.segments if s.kind == _PT_DYNAMIC), None)
    if found is None:
        return
    layout, size = ("qQ", 16) if elf.wide else ("iI", 8)
    for entry in _table(elf, found.offset, size, min(found.size, 1 << 20) // size, size):
        tag, value = elf.unpack(layout, entry)
        if tag == 0:
            return
        yield tag, value


def _dynamic_string_table(elf: _Elf) -> bytes:
    """The dynamic string table: where DT_STRTAB says it is loaded, else the ``.dynstr`` section."""
    for address, size in zip(elf.values(_DT_STRTAB), elf.values(_DT_STRSZ)):
        offset = elf.offset_of(address, 1)
        if offset is not None:
            return elf.file.read(offset, min(size, _STRINGS_CAP))
    section = elf.section(b".dynstr")
    return elf.section_data(section, _STRINGS_CAP) if section else b""


def _string_at(table: bytes, offset: int, longest: int) -> bytes:
    """The NUL-terminated string at ``offset``, if it ends within ``longest`` bytes; else nothing: thousands of
    entries may point into one table, and a copy of a megabyte each would take gigabytes."""
    end = table.find(b"\x00", offset, offset + longest + 1) if 0 <= offset < len(table) else -1
    return table[offset:end] if end >= 0 else b""


def _symbol_bytes(elf: _Elf, name: bytes, length: int) -> bytes | None:
    """The ``length`` bytes a dynamic symbol ``name`` that the file defines (not one it imports) has as its value:
    found in ``.dynsym``, whose string table is named by the section's link."""
    entry_size, layout = (24, "IBBHQ") if elf.wide else (16, "IIIBBH")
    for table in (s for s in elf.sections if s.kind == _SHT_DYNSYM):
        if not 0 <= table.link < len(elf.sections):
            continue
        at = elf.section_data(elf.sections[table.link], _STRINGS_CAP).find(b"\x00" + name + b"\x00")
        if at < 0:
            continue
        symbols, key = elf.section_data(table, _STRINGS_CAP), struct.pack(elf.order + "I", at + 1)
        found = symbols.find(key)  # st_name, first in an entry: only where an entry starts
        while 0 <= found <= len(symbols) - entry_size:
            if found % entry_size == 0:
                if elf.wide:
                    _, _, _, defined, address = elf.unpack(layout, symbols, found)
                else:
                    _, address, _, _, _, defined = elf.unpack(layout, symbols, found)
                offset = elf.offset_of(address, length) if defined else None
                if offset is not None:
                    data = elf.file.read(offset, length)
                    return data if len(data) == length else None
            found = symbols.find(key, (found // entry_size + 1) * entry_size)  # the next entry on
    return None


# ---- ELF: what a Python executable, and the library it links, say


def _read_elf(real: Path, file: _File, head: bytes) -> Facts | None:
    elf = _parse_elf(file, head)
    if elf is None or not elf.executable:
        return None
    implementation = _implementation(elf)
    if implementation is None:
        return None
    library = _open_linked_library(real, elf)
    try:
        images = (elf, library) if library else (elf,)
        # what the file links, then its name: a copy renamed python3.7 that loads libpython3.10 is 3.10
        kind = (
            _kind_of_needed(elf)
            or _kind_of_name(os.fsencode(real.name))
            or next(filter(None, (_kind_of_soabi(image) for image in images)), None)
            or _kind_of_stdlib(real, implementation)
        )
        version = _version(images, implementation, kind)
    finally:
        if library:
            os.close(library.file.fd)
    return Facts(real, implementation, version, bool(kind and kind[2]), None)


def _version(
    images: tuple[_Elf, ...], implementation: str, kind: tuple[int, int, bool] | None
) -> tuple[int, ...] | None:
    """X.Y.Z from what the executable or its library carries; X.Y alone when that cannot be read. Py_Version is
    the number the interpreter reports as sys.hexversion: it wins over a name that says otherwise."""
    exact = next(filter(None, (_hexversion(image) for image in images)), None)
    if exact is not None or kind is None:
        return exact
    patched = (_version_string(image, implementation, kind[:2]) for image in images)
    return next(filter(None, patched), None) or kind[:2]


def _implementation(elf: _Elf) -> str | None:
    """Which Python's entry point the executable names: in its dynamic string table (imported from a libpython,
    or exported), else in its symbol table (built in, not exported, not stripped)."""
    tables = [elf.strings]
    for symbols in (s for s in elf.sections if s.kind == _SHT_SYMTAB and 0 <= s.link < len(elf.sections)):
        tables.append(elf.section_data(elf.sections[symbols.link], _STRINGS_CAP))
    for table in tables:
        for marker, implementation in _MARKERS.items():
            if b"\x00" + marker + b"\x00" in table:
                return implementation
    return None


def _kind_of_needed(elf: _Elf) -> tuple[int, int, bool] | None:
    """X.Y and free-threaded from the libpython the executable links: libpython3.13t.so.1.0, libpypy3.9-c.so."""
    for needed in elf.dynamic_strings(_DT_NEEDED):
        found = _LIBRARY.fullmatch(needed)
        if found:
            return int(found[2]), int(found[3]), bool(found[4])
    return None


def _kind_of_soabi(elf: _Elf) -> tuple[int, int, bool] | None:
    """X.Y and free-threaded from the extension modules' tag compiled into CPython (``cpython-311``,
    ``.cpython-313t-x86_64-linux-gnu.so``), among its read-only data; None when none, or several, are."""
    found: set[tuple[int, int, bool]] = set()
    for _, chunk in _data_chunks(elf, b".rodata"):
        found.update((int(m[1]), int(m[2]), bool(m[3])) for m in _SOABI.finditer(chunk))
    return found.pop() if len(found) == 1 else None


def _hexversion(elf: _Elf) -> tuple[int, int, int] | None:
    """X.Y.Z from ``Py_Version``, the ``unsigned long`` PY_VERSION_HEX that CPython 3.11+ exports: 0x030C01F0 is
    3.12.1 final; None when the file does not define it, or it is not a version."""
    value = _symbol_bytes(elf, b"Py_Version", 8 if elf.wide else 4)
    if value is None:
        return None
    (hexversion,) = elf.unpack("Q" if elf.wide else "I", value)
    major, minor, micro, level = hexversion >> 24, hexversion >> 16 & 0xFF, hexversion >> 8 & 0xFF, hexversion >> 4
    if major != 3 or level & 0xF not in (0xA, 0xB, 0xC, 0xF) or hexversion >> 32:
        return None
    return major, minor, micro


def _version_string(elf: _Elf, implementation: str, xy: tuple[int, ...]) -> tuple[int, int, int] | None:
    """X.Y.Z from the version string the file carries, X.Y known (so that sqlite's "3.40.1" is never taken)."""
    prefix = f"{xy[0]}.{xy[1]}.".encode()
    if implementation == "PyPy":
        return _pypy_version(elf, prefix, xy)
    return _cpython_version(elf, prefix, xy)


def _cpython_version(elf: _Elf, prefix: bytes, xy: tuple[int, ...]) -> tuple[int, int, int] | None:
    """X.Y.Z from PY_VERSION (``"3.12.1"``, ``"3.13.0rc2"``, ``"3.11.2+"``), a NUL-terminated literal among the
    read-only data. The linker may store it as the tail of a longer string that ends the same (pyenv's prefix,
    ``/root/.pyenv/versions/3.10.13``): a literal on its own wins, a tail is taken when it is the only X.Y.Z."""
    alone: set[int] = set()
    tails: set[int] = set()
    for offset, chunk in _data_chunks(elf, b".rodata"):
        for at in _occurrences(chunk, prefix):
            found = _PATCH.match(chunk, at + len(prefix))
            # the byte before, in the file (a chunk's first byte has it in the chunk before)
            before = chunk[at - 1 : at] if at else elf.file.read(offset - 1, 1) or b"\x00"
            if found and before not in b"0123456789.":  # not 13.12.1, nor 1.3.12.1
                (alone if before == b"\x00" else tails).add(int(found[1]))
    patches = alone or tails
    return (xy[0], xy[1], patches.pop()) if len(patches) == 1 else None


def _pypy_version(elf: _Elf, prefix: bytes, xy: tuple[int, ...]) -> tuple[int, int, int] | None:
    """X.Y.Z from PyPy's sys.version, a string RPython keeps among the data, after its length (whose last byte is
    NUL): ``3.9.16 (7.3.11+dfsg-2+deb12u3, ...``; the first found."""
    for _, chunk in _data_chunks(elf, b".data"):
        for at in _occurrences(chunk, b"\x00" + prefix):
            found = _PYPY_PATCH.match(chunk, at + 1 + len(prefix))
            if found:
                return xy[0], xy[1], int(found[1])
    return None


def _occurrences(data: bytes, needle: bytes) -> Iterator[int]:
    """Where ``needle`` is in ``data``, the first ``_FINDS`` of them."""
    at = data.find(needle)
    for _ in range(_FINDS):
        if at < 0:
            return
        yield at
        at = data.find(needle, at + 1)


def _data_chunks(elf: _Elf, name: bytes) -> Iterator[tuple[int, bytes]]:
    """The section ``name``, chunk by chunk; the whole file (up to ``_CAP``) when it has no section headers."""
    section = elf.section(name)
    if section is not None:
        return elf.file.chunks(section.offset, section.size)
    return elf.file.chunks(0, elf.file.size) if not elf.sections else iter(())


# ---- the library an executable links, found as the dynamic loader finds it


def _open_linked_library(real: Path, elf: _Elf) -> _Elf | None:
    """The libpython (libpypy) the executable links, opened and parsed: the first file of the needed name, in the
    directories of DT_RUNPATH (or DT_RPATH without it), ``$ORIGIN`` being the executable's real directory, then in
    the standard ones, that is ELF of the executable's class, byte order and machine. The caller closes it."""
    for needed in elf.dynamic_strings(_DT_NEEDED):
        if not _LIBRARY.fullmatch(needed):
            continue
        for directory in _library_directories(real, elf):
            try:
                file = _File.open(Path(directory) / os.fsdecode(needed))
            except OSError:
                continue
            try:
                library = _parse_elf(file, file.read(0, _HEAD))
            except BaseException:
                os.close(file.fd)
                raise
            if library and (library.order, library.wide, library.machine) == (elf.order, elf.wide, elf.machine):
                return library
            os.close(file.fd)
    return None


def _library_directories(real: Path, elf: _Elf) -> list[str]:
    """Where the dynamic loader looks for a needed library, LD_LIBRARY_PATH and ld.so.cache left out (what a user
    sets in their shell, and what ldconfig last saw): the executable's own paths, then the standard places."""
    paths = elf.dynamic_strings(_DT_RUNPATH) or elf.dynamic_strings(_DT_RPATH)
    origin = os.fsencode(real.parent)
    found = []
    for path in paths:
        for entry in path.split(b":"):
            directory = entry.replace(b"${ORIGIN}", origin).replace(b"$ORIGIN", origin)
            if directory.startswith(b"/") and b"$" not in directory:  # $LIB, $PLATFORM: the loader's choice
                found.append(os.fsdecode(directory))
    multiarch = (_MULTIARCH if elf.order == "<" else _MULTIARCH_BIG).get(elf.machine)
    for lib in ("/lib", "/usr/lib"):
        found += [f"{lib}/{multiarch}"] if multiarch else []
        found += [f"{lib}64"] if elf.wide else []
    return [*found, "/lib", "/usr/lib", "/usr/local/lib"]
