"""What stub.c defines and Python reads again (``_stub.py``, ``_pyvenv_cfg.py``, ``_trust.py``): the identity note's
layout, the limits, and the pyvenv.cfg parser. Each is written twice, in C and in Python; these tests compile stub.c
into a small program that prints its side, and hold the two together."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from helpers import SPACES, STUB_SOURCE, compiler
from virtualenv_linkable import _macho, _pyvenv_cfg, _stub, _trust

HARNESS = r"""
#define VENVLINK_FUZZ /* stub.c without its main; die() returns here */
#include STUB_C

int main(int argc, char **argv)
{
    static struct cfg c;
    volatile int i;
    if (argc == 1) {
        printf("{\"header\": %zu, \"version_at\": %zu, \"recorded_at\": %zu, \"recorded_size\": %zu, "
               "\"head\": %d, \"max_cfg\": %d, \"max_hops\": %d, \"identity\": \"%s\"}\n",
               offsetof(struct identity_note, identity),
               offsetof(struct identity_note, version) - offsetof(struct identity_note, identity),
               offsetof(struct identity_note, recorded) - offsetof(struct identity_note, identity),
               sizeof note.recorded, HEAD, MAX_CFG, MAX_HOPS, IDENTITY);
        return 0;
    }
    /* each argument a file; for each, five NUL-terminated fields: the keys that name the interpreter, \x01 for a
     * key that is absent, or "\x02refused" and four empty fields when parse_cfg refuses the file */
    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t n = fread(c.text, 1, MAX_CFG, f);
        fclose(f);
        if (setjmp(venvlink_fuzz_exit)) {
            printf("\x02refused%c%c%c%c%c", 0, 0, 0, 0, 0);
            continue;
        }
        parse_cfg(&c, n, argv[i]);
        const char *values[] = {c.home, c.venvlink_executable, c.base_executable, c.executable, c.version};
        for (int k = 0; k < 5; k++)
            printf("%s%c", values[k] ? values[k] : "\x01", 0);
    }
    return 0;
}
"""
KEYS = ["home", "venvlink-executable", "base-executable", "executable"]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("harness")
    (directory / "harness.c").write_text(HARNESS)
    program = directory / "harness"
    subprocess.run(
        [compiler(), "-std=c99", f'-DSTUB_C="{STUB_SOURCE}"', "-o", program, directory / "harness.c"], check=True
    )
    return program


def test_layout_and_limits_are_the_stubs(harness: Path) -> None:
    stub_c: dict[str, Any] = json.loads(subprocess.run([harness], capture_output=True, check=True).stdout)
    python = {
        "header": _stub._HEADER,
        "version_at": _stub._VERSION_AT,
        "recorded_at": _stub._RECORDED_AT,
        "recorded_size": _stub._RECORDED_SIZE,
        "head": _stub.HEAD,
        "max_cfg": _pyvenv_cfg.MAX_SIZE,
        "max_hops": _trust._MAX_LINKS,
        "identity": _stub.IDENTITY.decode(),
    }
    assert python == stub_c


def _variants() -> list[bytes]:
    """Every pyvenv.cfg of the walk's table, and the corners of the format."""
    table = json.loads((Path(__file__).parent / "walk_cases.json").read_text())["cases"]
    found = [
        spec.encode() if isinstance(spec, str) else (spec["repeat"] * spec["times"]).encode()
        for case in table
        for path, spec in case["layout"].items()
        if path.endswith("pyvenv.cfg") and not str(spec).startswith(("link:", "fifo", "dir"))
    ]
    return [
        *(data for data in found if len(data) <= _pyvenv_cfg.MAX_SIZE),  # larger ones neither side reads at all
        b"home = /a\nhome = /b\n",
        b"HOME=/a\nVenvlink-Executable = /x\n",
        b"\xef\xbb\xbfhome = /bom\n",
        b"home = /a\r\nexecutable = /e\r\n",
        b"home = /a\rexecutable = /hidden\n",
        b"  home\t=\t/spaces \f\v\n",
        b"home = /a = b\nexecutable==/e\n",
        b"home =\nhome = /second\n",
        b"# home = /comment\nhome = /a\n",
        b"[section]\nhome = /a\n",
        b"\xe2\x84\xaaey = v\nhome = /kelvin\n",
        b"home = /a\nbase executable = /spaced\n",
        b"home = /\xff\xfe\n",
        # each of str.strip()'s whitespace around keys and values, and inside a value, where it stays
        *(f"{c}Home{c}={c}/h{c}h{c}{c}\nexecutable {c}= {c}/e\n".encode() for c in SPACES),
        "venvlink-executable\u3000= /behind-ideographic-space\nhome = /a\n".encode(),
        "home = \u200b/a\ufeff\u180e\n".encode(),  # zero width space, BOM, Mongolian vowel separator: no whitespace
        # bytes that are not UTF-8, beside whitespace: never whitespace, nor part of the whitespace beside them
        b"home = \xa0/a\x85\n",  # NBSP and NEL in Latin-1
        b"home = /a\xc2\xc2\xa0\n",
        b"home = /a\xf0\x9f\xe2\x80\x80\n",
        b"home = \xe2\x80\x80\x80/a\xe2\x80\n",
        b"home = \xe1\x9a /a \xe3\x80\n",
        b"home = /a\xc0\xa0\xe0\x80\xa0\n",  # overlong encodings of a space
        b"no equals\n\n\nhome=/a",
        b"=\n==\nhome=/a\n",
        b"executable = /only\n",
        b"",
    ]


def _getpath_home(data: bytes) -> str | None:
    """``home`` as CPython 3.11+ reads it, in Modules/getpath.py (its readlines, in getpath.c, splits the file at
    ``\n`` only, decoded as UTF-8 with surrogateescape); a BOM skipped, as venvlink and the stub skip it."""
    for line in data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape").split("\n"):
        key, had_equ, value = line.partition("=")
        if had_equ and key.strip().lower() == "home":
            return value.strip()
    return None


def test_one_pyvenv_cfg_parser(harness: Path, tmp_path: Path) -> None:
    """stub.c's parse_cfg and _pyvenv_cfg.parse find the same keys in the same bytes, so what venvlink reads is
    what the stub runs; and the same home as CPython's getpath.py, stripped as str.strip() strips it."""
    variants = _variants()
    paths = []
    for index, data in enumerate(variants):
        (tmp_path / str(index)).write_bytes(data)
        paths.append(tmp_path / str(index))
    output = subprocess.run([harness, *paths], capture_output=True, check=True).stdout
    fields = output.split(b"\0")[:-1]
    assert len(fields) == 5 * len(variants)
    for index, data in enumerate(variants):
        stub_c = fields[5 * index : 5 * index + 4]
        values = _pyvenv_cfg.parse(data)
        assert values.get("home") == _getpath_home(data), data
        refused = stub_c[0] == b"\x02refused"
        # the stub refuses a pyvenv.cfg without a home, and one with a NUL byte (as _pyvenv_cfg.read_bytes does)
        assert refused == (not values.get("home") or b"\0" in data), data
        if refused:
            continue
        python = [values[key].encode("utf-8", "surrogateescape") if key in values else b"\x01" for key in KEYS]
        assert python == stub_c, data


def test_a_truncated_mach_o_is_no_stub(tmp_path: Path) -> None:
    """A Mach-O header whose segment command ends at the end of the file, after a command that holds the identity:
    venvlink 0.3.0 read past its end (an internal error in list and doctor, for any venv's bin/ holding one)."""
    identity = struct.pack("<II", 0x1, 32) + _stub.IDENTITY.ljust(24, b"\0")
    segment = struct.pack("<II", 0x19, 24) + b"__TEXT".ljust(16, b"\0")
    data = _macho.MAGIC + struct.pack("<IIIIIII", 0x0100000C, 0, 2, 2, 56, 0, 0) + identity + segment
    assert len(data) == 88
    assert _macho.note(data) is None
    (tmp_path / "zz").write_bytes(data)
    facts = _stub.facts(tmp_path / "zz")  # its identity is there, so it counts as some stub: never the installed one
    assert facts is not None
    assert not facts.current
