"""Reading what an interpreter is (never running it): every interpreter found reads as what it says when run, and
anything else (scripts, other programs, truncated or malformed ELF, FIFOs) reads safely."""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import threading
import tracemalloc
from pathlib import Path

import pytest

from helpers import Interpreter, compiler, run
from virtualenv_linkable._reading import Facts, read_interpreter

# what the test asks the interpreter, running it (the module under test never does)
PROBE = (
    "import json, platform, sys, sysconfig; print(json.dumps([platform.python_implementation(), "
    "list(sys.version_info[:3]), sysconfig.get_config_var('Py_GIL_DISABLED') == 1]))"
)
ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_RPATH, DT_RUNPATH = 1, 5, 10, 15, 29
X86_64 = 62
BYTE_ORDERS = [(True, False), (True, True), (False, False), (False, True)]  # (ELF64, big-endian)
BYTE_ORDER_IDS = ["elf64-le", "elf64-be", "elf32-le", "elf32-be"]


def reported(interpreter: Interpreter) -> tuple[str, tuple[int, ...], bool]:
    implementation, version, free_threaded = json.loads(run([interpreter.path, "-I", "-c", PROBE]).stdout)
    return implementation, tuple(version), free_threaded


def read(path: Path) -> tuple[str | None, tuple[int, ...] | None, bool]:
    facts = read_interpreter(path)
    assert facts is not None, f"{path} did not read as an interpreter"
    return facts.implementation, facts.version, facts.free_threaded


def executable(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    path.chmod(0o755)
    return path


def test_reads_what_it_reports(interpreter: Interpreter) -> None:
    facts = read_interpreter(interpreter.path)
    assert facts is not None
    assert (facts.implementation, facts.version, facts.free_threaded) == reported(interpreter)
    assert facts.path == interpreter.real
    assert facts.script is None


def test_a_copy_under_another_name_reads_the_same(interpreter: Interpreter, tmp_path: Path) -> None:
    """X.Y is not taken from the name alone: a pyenv build's comes from the libpython it links (found through its
    RUNPATH), Debian's static python3.11 carries Py_Version, PyPy links libpypy3.X-c.so."""
    copy = shutil.copy(interpreter.real, tmp_path / "tool")
    assert read(Path(copy)) == reported(interpreter)


def test_a_name_that_says_another_version_does_not_win(interpreter: Interpreter, tmp_path: Path) -> None:
    """What the file carries or links (Py_Version, libpython3.X) is what it is, whatever it is called."""
    other = "python3.7" if interpreter.implementation == "CPython" else "pypy3.7"
    copy = shutil.copy(interpreter.real, tmp_path / other)
    assert read(Path(copy)) == reported(interpreter)


def test_a_link_reads_as_its_target(interpreter: Interpreter, tmp_path: Path) -> None:
    (tmp_path / "python").symlink_to(interpreter.path)
    facts = read_interpreter(tmp_path / "python")
    assert facts is not None
    assert facts.path == interpreter.real


@pytest.mark.parametrize(
    ("line", "version", "free_threaded"),
    [
        ("/usr/bin/env python3.12", (3, 12), False),
        ("/usr/bin/env -S python3.11 -E", (3, 11), False),
        ("/usr/bin/env PYTHONSAFEPATH=1 python3.10", (3, 10), False),
        ("/opt/python/bin/python3.13t -I", (3, 13), True),
        ("/usr/bin/pypy3.9", (3, 9), False),
        ("/usr/bin/python3", None, False),
        ("/bin/sh", None, False),
        ("/usr/bin/env bash", None, False),
        ("", None, False),
    ],
)
def test_a_script_says_its_line(
    tmp_path: Path, line: str, version: tuple[int, ...] | None, free_threaded: bool
) -> None:
    script = executable(tmp_path / "python3.8", f'#! {line} \nexec python3.8 "$@"\n')
    assert read_interpreter(script) == Facts(script, None, version, free_threaded, line)


def test_a_shim_is_a_script(tmp_path: Path) -> None:
    """pyenv's shim for python3.12 runs ``pyenv exec``: which Python that starts is decided when it runs."""
    shim = executable(
        tmp_path / "shims" / "python3.12",
        '#!/usr/bin/env bash\nset -e\nprogram="${0##*/}"\nexport PYENV_ROOT="/root/.pyenv"\n'
        'exec "/root/.pyenv/libexec/pyenv" exec "$program" "$@"\n',
    )
    assert read_interpreter(shim) == Facts(shim, None, None, False, "/usr/bin/env bash")


def test_what_is_not_an_interpreter(tmp_path: Path) -> None:
    (tmp_path / "empty").touch()
    executable(tmp_path / "text", "print('hello')\n")
    executable(tmp_path / "zeros", bytes(8192))
    assert read_interpreter(tmp_path / "empty") is None
    assert read_interpreter(tmp_path / "text") is None
    assert read_interpreter(tmp_path / "zeros") is None
    assert read_interpreter(tmp_path / "missing") is None
    assert read_interpreter(tmp_path) is None  # a directory
    assert read_interpreter(Path("/dev/null")) is None


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    """Opening a FIFO to read blocks until a writer comes (and wakes one that waits): it is never opened."""
    os.mkfifo(tmp_path / "python3.12")
    (tmp_path / "python").symlink_to("python3.12")
    found: list[Facts | None] = []
    reader = threading.Thread(target=lambda: found.extend(map(read_interpreter, tmp_path.iterdir())), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading blocked on a FIFO"
    assert found == [None, None]


def test_a_c_program_is_not_python(tmp_path: Path) -> None:
    """Nor is one that only mentions the entry point's name: it is not a symbol it calls or defines."""
    source = tmp_path / "tool.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("Py_BytesMain pypy_main_startup"); return 0; }\n')
    run([compiler(), "-o", tmp_path / "python3.12", source])
    assert read_interpreter(tmp_path / "python3.12") is None


def test_a_compiled_free_threaded_python_is_read_through_its_libpython(tmp_path: Path) -> None:
    """A stand-in built by the C compiler as an installation lays one out: bin/tool links lib/libpython3.13t.so.1.0
    through $ORIGIN/../lib, which defines Py_BytesMain and Py_Version."""
    cc = compiler()
    (tmp_path / "lib").mkdir()
    (tmp_path / "bin").mkdir()
    (tmp_path / "libpython.c").write_text(
        "const unsigned long Py_Version = 0x030D02F0;\nint Py_BytesMain(int argc, char **argv) { return 0; }\n"
    )
    (tmp_path / "main.c").write_text(
        "int Py_BytesMain(int, char **);\nint main(int argc, char **argv) { return Py_BytesMain(argc, argv); }\n"
    )
    library = tmp_path / "lib" / "libpython3.13t.so.1.0"
    run([cc, "-shared", "-fPIC", "-Wl,-soname,libpython3.13t.so.1.0", "-o", library, tmp_path / "libpython.c"])
    (tmp_path / "lib" / "libpython3.13t.so").symlink_to(library.name)
    tool = tmp_path / "bin" / "tool"
    run([cc, "-o", tool, tmp_path / "main.c", f"-L{tmp_path / 'lib'}", "-lpython3.13t", "-Wl,-rpath,$ORIGIN/../lib"])
    assert run([tool]).returncode == 0  # the loader finds it as read_interpreter does
    assert read(tool) == ("CPython", (3, 13, 2), True)
    assert read_interpreter(library) is None  # a library, not an executable


def test_a_truncated_interpreter_reads_safely(interpreter: Interpreter, tmp_path: Path) -> None:
    """Cut anywhere, an interpreter reads as less (or nothing), never as something else, never as an error."""
    data = interpreter.real.read_bytes()[: 1 << 20]
    truth = reported(interpreter)
    for size in sorted({1, 4, 16, 52, 63, 64, 65, 1000, 4096, len(data) // 2, len(data) - 1}):
        cut = executable(tmp_path / f"cut-{size}", data[:size])
        facts = read_interpreter(cut)
        assert facts is None or facts.implementation == truth[0], size


def test_random_damage_reads_safely(interpreter: Interpreter, tmp_path: Path) -> None:
    """Bits flipped and bytes cut at random in an interpreter (its first MiB: headers, tables, the string table)
    give None or facts, never an exception, a hang or a read of the whole file."""
    original = interpreter.real.read_bytes()[: 1 << 20]
    chance = random.Random(f"{interpreter.id}")  # noqa: S311 - damage, not secrets
    for attempt in range(150):
        data = bytearray(original[: chance.randrange(1, len(original) + 1)] if attempt % 3 == 0 else original)
        for _ in range(chance.randrange(1, 16)):
            at = chance.randrange(min(len(data), 8192)) if chance.random() < 0.7 else chance.randrange(len(data))
            data[at] ^= 1 << chance.randrange(8)
        damaged = executable(tmp_path / f"python3.{attempt}", bytes(data))
        facts = read_interpreter(damaged)
        assert facts is None or isinstance(facts, Facts)
        damaged.unlink()


# ---- ELF files made here byte by byte: both classes and both byte orders


def elf(
    *,
    wide: bool = True,
    big: bool = False,
    kind: int = ET_DYN,
    interpreted: bool = True,
    needed: tuple[bytes, ...] = (),
    runpath: bytes | None = None,
    rpath: bytes | None = None,
    imports: tuple[bytes, ...] = (),
    exports: dict[bytes, bytes] | None = None,
    rodata: bytes = b"",
    sections: bool = True,
    machine: int = X86_64,
) -> bytes:
    """An ELF file with one PT_LOAD mapping it whole at address 0: its program interpreter, dynamic string table,
    dynamic symbols (``exports`` defined, their values in .rodata), read-only data and dynamic section."""
    order = ">" if big else "<"
    header_size, segment_size, section_size = (64, 56, 64) if wide else (52, 32, 40)
    symbol_size, entry_size = (24, 16) if wide else (16, 8)
    strings = bytearray(b"\x00")

    def string(value: bytes) -> int:
        strings.extend(value + b"\x00")
        return len(strings) - len(value) - 1

    data = bytearray(rodata)
    symbols: list[tuple[int, int, int]] = [(0, -1, 0)]  # (name, address within .rodata or -1, section index)
    symbols += [(string(name), -1, 0) for name in imports]
    for name, value in (exports or {}).items():
        symbols.append((string(name), len(data), 4))
        data += value
    dynamic = [(DT_NEEDED, string(name)) for name in needed]
    dynamic += [(DT_RUNPATH, string(runpath))] if runpath else []
    dynamic += [(DT_RPATH, string(rpath))] if rpath else []
    interpreter = b"/lib/ld-linux.so.2\x00"
    segments = 3 if interpreted else 2
    at_interpreter = header_size + segments * segment_size
    at_strings = at_interpreter + len(interpreter)
    at_symbols = at_strings + len(strings)
    at_data = at_symbols + len(symbols) * symbol_size
    dynamic += [(DT_STRTAB, at_strings), (DT_STRSZ, len(strings)), (0, 0)]
    at_dynamic = at_data + len(data)
    names = b"\x00.dynstr\x00.dynsym\x00.rodata\x00.dynamic\x00.shstrtab\x00"
    at_names = at_dynamic + len(dynamic) * entry_size
    at_sections = at_names + len(names)
    end = at_sections + (6 * section_size if sections else 0)

    out = bytearray(b"\x7fELF" + bytes([2 if wide else 1, 2 if big else 1, 1]) + bytes(9))
    layout = "HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH"
    shoff, shnum = (at_sections, 6) if sections else (0, 0)
    out += struct.pack(
        order + layout, kind, machine, 1, 0, header_size, shoff, 0, header_size, segment_size, segments,
        section_size, shnum, 5 if sections else 0,
    )  # fmt: skip

    def segment(kind: int, offset: int, size: int) -> bytes:
        if wide:
            return struct.pack(order + "IIQQQQQQ", kind, 4, offset, offset, offset, size, size, 8)
        return struct.pack(order + "IIIIIIII", kind, offset, offset, offset, size, size, 4, 4)

    out += segment(PT_INTERP, at_interpreter, len(interpreter)) if interpreted else b""
    out += segment(PT_LOAD, 0, end) + segment(PT_DYNAMIC, at_dynamic, len(dynamic) * entry_size)
    out += interpreter + strings
    for name, address, index in symbols:
        value = at_data + address if address >= 0 else 0
        if wide:
            out += struct.pack(order + "IBBHQQ", name, 0x12, 0, index, value, 8)
        else:
            out += struct.pack(order + "IIIBBH", name, value, 4, 0x12, 0, index)
    out += data
    for tag, value in dynamic:
        out += struct.pack(order + ("qQ" if wide else "iI"), tag, value)
    out += names
    if sections:
        for name, kind_, offset, size, link in [
            (0, 0, 0, 0, 0),
            (1, 3, at_strings, len(strings), 0),  # .dynstr
            (9, 11, at_symbols, len(symbols) * symbol_size, 1),  # .dynsym
            (17, 1, at_data, len(data), 0),  # .rodata
            (25, 6, at_dynamic, len(dynamic) * entry_size, 1),  # .dynamic
            (34, 3, at_names, len(names), 0),  # .shstrtab
        ]:
            layout = "IIQQQQIIQQ" if wide else "IIIIIIIIII"
            out += struct.pack(order + layout, name, kind_, 2, offset, offset, size, link, 0, 1, 0)
    assert len(out) == end
    return bytes(out)


def hexversion(wide: bool, big: bool, value: int) -> bytes:
    return struct.pack((">" if big else "<") + ("Q" if wide else "I"), value)


@pytest.mark.parametrize(("wide", "big"), BYTE_ORDERS, ids=BYTE_ORDER_IDS)
def test_an_elf_of_any_class_and_byte_order(tmp_path: Path, wide: bool, big: bool) -> None:
    """bin/tool needs libpython3.13t.so.1.0 from $ORIGIN/../lib, which exports Py_Version 3.13.2."""
    library = elf(wide=wide, big=big, interpreted=False, exports={b"Py_Version": hexversion(wide, big, 0x030D02F0)})
    executable(tmp_path / "lib" / "libpython3.13t.so.1.0", library)
    tool = elf(
        wide=wide, big=big, needed=(b"libc.so.6", b"libpython3.13t.so.1.0"), runpath=b"$ORIGIN/../lib",
        imports=(b"Py_BytesMain",),
    )  # fmt: skip
    assert read(executable(tmp_path / "bin" / "tool", tool)) == ("CPython", (3, 13, 2), True)


@pytest.mark.parametrize(("wide", "big"), BYTE_ORDERS, ids=BYTE_ORDER_IDS)
def test_py_version_built_in(tmp_path: Path, wide: bool, big: bool) -> None:
    """A static python (Debian's) exports Py_BytesMain and Py_Version itself; its extension tag says X.Y."""
    static = elf(
        wide=wide, big=big, kind=ET_EXEC, rodata=b"\x00cpython-312\x00",
        exports={b"Py_BytesMain": bytes(8), b"Py_Version": hexversion(wide, big, 0x030C04F0)},
    )  # fmt: skip
    assert read(executable(tmp_path / "tool", static)) == ("CPython", (3, 12, 4), False)


@pytest.mark.parametrize(
    ("rodata", "version"),
    [
        (b"\x00sqlite 3.40.1\x00\x003.10.7\x00", (3, 10, 7)),
        (b"\x00/opt/python/3.10.9\x003.10.7\x00", (3, 10, 7)),  # a literal of its own over a path's tail
        (b"\x00/opt/python/3.10.13\x00", (3, 10, 13)),  # the linker's tail of pyenv's prefix
        (b"\x00/opt/python-3.10.13\x00/src/Python-3.10.12\x00", (3, 10)),  # two tails: not known
        (b"\x003.10.0rc2\x00", (3, 10, 0)),
        (b"\x003.10.2+\x00", (3, 10, 2)),
        (b"\x0013.10.2\x001.3.10.5\x00", (3, 10)),  # other numbers
        (b"", (3, 10)),
    ],
)
def test_the_version_string(tmp_path: Path, rodata: bytes, version: tuple[int, ...]) -> None:
    """CPython 3.8-3.10 have no Py_Version: PY_VERSION, a literal in the libpython's read-only data."""
    executable(tmp_path / "lib" / "libpython3.10.so.1.0", elf(interpreted=False, rodata=rodata))
    tool = elf(needed=(b"libpython3.10.so.1.0",), rpath=b"$ORIGIN/../lib", imports=(b"Py_BytesMain",))
    assert read(executable(tmp_path / "bin" / "tool", tool)) == ("CPython", version, False)


def test_a_library_of_another_machine_is_passed_over(tmp_path: Path) -> None:
    """The loader takes only a library it can load: a 32-bit libpython where a 64-bit python looks is not it."""
    library = elf(wide=False, interpreted=False, exports={b"Py_Version": hexversion(False, False, 0x036304F0)})
    executable(tmp_path / "lib" / "libpython3.99.so.1.0", library)
    tool = elf(needed=(b"libpython3.99.so.1.0",), runpath=b"$ORIGIN/../lib", imports=(b"Py_BytesMain",))
    assert read(executable(tmp_path / "bin" / "tool", tool)) == ("CPython", (3, 99), False)


@pytest.mark.parametrize(
    ("stdlibs", "version", "free_threaded"),
    [
        (["python3.9"], (3, 9), False),
        (["python3.13t"], (3, 13), True),
        (["python3.9", "python3.10"], None, False),  # which is its own is not known
        (["python3.9", "python3.9-unused", "pypy3.10"], (3, 9), False),
    ],
)
def test_the_installation_says_x_y(
    tmp_path: Path, stdlibs: list[str], version: tuple[int, ...] | None, free_threaded: bool
) -> None:
    """Without a name, a libpython or a tag, X.Y is the standard library's found up from the real path."""
    prefix = tmp_path / "prefix"
    for stdlib in stdlibs:
        (prefix / "lib" / stdlib).mkdir(parents=True)
        (prefix / "lib" / stdlib / "os.py").touch()
    (prefix / "lib" / "python3.11").mkdir(parents=True)  # no os.py: not a standard library
    tool = executable(prefix / "bin" / "tool", elf(needed=(b"libc.so.6",), imports=(b"Py_BytesMain",)))
    facts = read_interpreter(tool)
    assert facts is not None
    assert (facts.implementation, facts.version, facts.free_threaded) == ("CPython", version, free_threaded)


def test_pypy_is_told_by_its_entry_point(tmp_path: Path) -> None:
    (tmp_path / "lib" / "pypy3.10").mkdir(parents=True)
    (tmp_path / "lib" / "pypy3.10" / "os.py").touch()
    tool = executable(tmp_path / "bin" / "tool", elf(needed=(b"libpypy3-c.so",), imports=(b"pypy_main_startup",)))
    assert read(tool) == ("PyPy", (3, 10), False)


def test_only_an_executable_is_an_interpreter(tmp_path: Path) -> None:
    """libpython defines Py_BytesMain too; an executable is ET_EXEC, or ET_DYN with a program interpreter."""
    library = executable(tmp_path / "python3.12", elf(interpreted=False, exports={b"Py_BytesMain": bytes(8)}))
    assert read_interpreter(library) is None
    named = executable(tmp_path / "python3.11", elf(kind=ET_EXEC, interpreted=False, imports=(b"Py_BytesMain",)))
    assert read(named) == ("CPython", (3, 11), False)


def test_without_section_headers(tmp_path: Path) -> None:
    """A stripped file without section headers: the dynamic section, where the loader finds it, still says."""
    tool = elf(sections=False, needed=(b"libpython3.99.so.1.0",), imports=(b"Py_BytesMain",))
    assert read(executable(tmp_path / "tool", tool)) == ("CPython", (3, 99), False)


def test_macho_by_name(tmp_path: Path) -> None:
    """Mach-O is never run here: the entry point says which Python, the name says X.Y."""
    body = b"\xcf\xfa\xed\xfe" + bytes(4092) + b"\x00_Py_BytesMain\x00"
    assert read(executable(tmp_path / "python3.12", body)) == ("CPython", (3, 12), False)
    assert read_interpreter(executable(tmp_path / "other", b"\xcf\xfa\xed\xfe" + bytes(4092))) is None


def test_a_huge_sparse_file_is_not_read_whole(tmp_path: Path) -> None:
    """A section that says it is 64 GiB long, in a sparse file that long: at most 64 MiB of it is read."""
    tool = executable(tmp_path / "python3.12", elf(rodata=b"x", imports=(b"Py_BytesMain",)))
    data = bytearray(tool.read_bytes())
    shoff = struct.unpack_from("<Q", data, 40)[0]
    struct.pack_into("<Q", data, shoff + 3 * 64 + 32, 1 << 36)  # .rodata's sh_size
    tool.write_bytes(data)
    os.truncate(tool, 1 << 36)
    assert read(tool) == ("CPython", (3, 12), False)


@pytest.mark.parametrize(("wide", "big"), BYTE_ORDERS, ids=BYTE_ORDER_IDS)
def test_damaged_made_elf_reads_safely(tmp_path: Path, wide: bool, big: bool) -> None:
    """Every header field, table and string of a small ELF with its library, damaged at random."""
    library = elf(wide=wide, big=big, interpreted=False, exports={b"Py_Version": hexversion(wide, big, 0x030D02F0)})
    executable(tmp_path / "lib" / "libpython3.13.so.1.0", library)
    tool = elf(
        wide=wide, big=big, needed=(b"libpython3.13.so.1.0",), runpath=b"$ORIGIN/../lib", imports=(b"Py_BytesMain",)
    )
    chance = random.Random(f"{wide}{big}")  # noqa: S311 - damage, not secrets
    for attempt in range(300):
        target, where = (tool, "bin/tool") if attempt % 2 else (library, "lib/libpython3.13.so.1.0")
        damaged = bytearray(target)
        for _ in range(chance.randrange(1, 8)):
            at = chance.randrange(len(damaged))
            damaged[at] = chance.randrange(256) if chance.random() < 0.5 else damaged[at] ^ 0x80
        if chance.random() < 0.2:
            damaged = damaged[: chance.randrange(len(damaged))]
        executable(tmp_path / where, bytes(damaged) or b"\x00")
        facts = read_interpreter(tmp_path / "bin" / "tool")
        assert facts is None or isinstance(facts, Facts)
        executable(tmp_path / where, target)
    assert read(tmp_path / "bin" / "tool") == ("CPython", (3, 13, 2), False)


def test_a_crafted_library_is_read_in_bounded_time(tmp_path: Path) -> None:
    """Read-only data of nothing but version-like strings (56 MiB): each chunk's search stops after a bounded
    number of them, and the literal standing alone is still the one taken (its time: benchmarks, not here)."""
    crafted = elf(interpreted=False, rodata=b"\x003.10.1\x00/3.10.2" * (4 << 20))
    executable(tmp_path / "lib" / "libpython3.10.so.1.0", crafted)
    tool = elf(needed=(b"libpython3.10.so.1.0",), runpath=b"$ORIGIN/../lib", imports=(b"Py_BytesMain",))
    assert read(executable(tmp_path / "bin" / "tool", tool)) == ("CPython", (3, 10, 1), False)


def test_many_names_of_one_long_string_take_little_memory(tmp_path: Path) -> None:
    """The second attack review of the principle: 65,535 section headers, each naming the same string of nearly
    1 MiB, made root's ``which`` copy it each time (6 GiB, then MemoryError; 64 GiB asked). A name is read only if
    it ends within what a name can be. Here 200 of them: 200 MiB before."""
    count, names_at, name = 200, 64 + 200 * 64, b"A" * ((1 << 20) - 1) + b"\x00"
    header = bytearray(64)
    header[:16] = b"\x7fELF\x02\x01\x01" + bytes(9)
    struct.pack_into("<HHIQQQIHHHHHH", header, 16, 2, 62, 1, 0, 0, 64, 0, 64, 56, 0, 64, count, 1)
    sections = bytearray(count * 64)
    struct.pack_into("<IIQQQQIIQQ", sections, 64, 0, 3, 0, 0, names_at, len(name), 0, 0, 1, 0)  # the names
    crafted = executable(tmp_path / "python3.12", bytes(header + sections) + name)
    tracemalloc.start()
    try:
        read_interpreter(crafted)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"{peak >> 20} MiB"
