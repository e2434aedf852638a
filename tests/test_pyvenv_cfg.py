"""pyvenv.cfg as venvlink's Python reads and rewrites it: keys compared as the stub compares them."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest

from helpers import SPACES, run
from virtualenv_linkable import _pyvenv_cfg, _stub
from virtualenv_linkable.exceptions import VenvlinkError

if TYPE_CHECKING:
    from pathlib import Path

    from helpers import Interpreter


def test_keys_fold_in_ascii_only() -> None:
    """A Kelvin sign (U+212A) lower-cases to k in Python's str.lower(), never in the stub."""
    values = _pyvenv_cfg.parse("venvlin\u212a-executable = /x\nHOME = /usr/bin\n".encode())
    assert values == {"venvlin\u212a-executable": "/x", "home": "/usr/bin"}
    assert "venvlink-executable" not in values


def test_bom_blanks_and_first_occurrence() -> None:
    data = b"\xef\xbb\xbfhome = /a\r\n  Home\t=  /b \nversion_info=3.12.1.final.0\nno equals sign\n"
    assert _pyvenv_cfg.parse(data) == {"home": "/a", "version_info": "3.12.1.final.0"}


@pytest.mark.parametrize("space", SPACES.replace("\n", ""), ids=lambda space: f"U+{ord(space):04X}")
def test_unicode_whitespace_is_stripped_as_str_strip_strips_it(space: str) -> None:
    """site.py and getpath.py strip keys and values with str.strip(): every whitespace character of Unicode's at
    their ends goes, one inside a value stays. (A \\n ends the line.)"""
    data = f"{space}Home{space} ={space} /usr/local{space}bin{space}{space}\n".encode()
    assert _pyvenv_cfg.parse(data) == {"home": f"/usr/local{space}bin"}


def test_bytes_that_are_not_utf8_are_never_stripped() -> None:
    """A byte that is not UTF-8 (NBSP and NEL in Latin-1, a cut or overlong sequence) is no whitespace to CPython,
    which decodes the file as UTF-8, nor does it hide the whitespace after it."""
    data = b"home = \xa0/a\x85 \xc2\xc2\xa0\nexecutable = \xe2\x80/e\xc0\xa0\xe2\x80\x80\n"
    assert _pyvenv_cfg.parse(data) == {"home": "\udca0/a\udc85 \udcc2", "executable": "\udce2\udc80/e\udcc0\udca0"}


def test_unicode_whitespace_inside_a_line_hides_no_key() -> None:
    """`venvlink-executable\\u3000= /evil` is that key to CPython's str.strip() and the stub: venvlink's rewrite
    must treat it as that key too, never keep it ahead of the one it writes."""
    data = "home = /usr/bin\nvenvlink-executable\u3000= /evil\n".encode()
    assert _pyvenv_cfg.parse(data)["venvlink-executable"] == "/evil"
    changed = _pyvenv_cfg.with_keys(data, {"venvlink-executable": "/usr/bin/python3"})
    assert changed == b"home = /usr/bin\nvenvlink-executable = /usr/bin/python3\n"


def test_cpython_strips_unicode_whitespace_as_venvlink_and_the_stub_do(current: Interpreter, tmp_path: Path) -> None:
    """A venv of the interpreter running the tests, with a no-break space after home and
    include-system-site-packages between Unicode spaces: CPython's site.py reads the home venvlink reads, and a
    true; the stub runs the python in that home. A zero width space is no whitespace to any of them."""
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    cfg = venv / "pyvenv.cfg"
    home = _pyvenv_cfg.read(cfg)["home"]
    python = venv / "bin" / "python"
    python.unlink()  # a link to the base interpreter: copying onto it would overwrite that
    shutil.copy(_stub.template(), python)
    code = "import json, site, sys; print(json.dumps([sys._home, sys.prefix, site.PREFIXES]))"
    for system_site, space in [("true", "\u2003"), ("true\u200b", "\u200b")]:
        cfg.write_text(
            f"home = {home}\u00a0\ninclude-system-site-packages\u3000= true{space}\nversion = {current.full_version}\n",
            encoding="utf-8",
        )
        ours = _pyvenv_cfg.read(cfg)
        assert (ours["home"], ours["include-system-site-packages"]) == (home, system_site)
        cpython_home, prefix, prefixes = json.loads(run([python, "-c", code]).stdout)  # the stub runs home's python
        assert (cpython_home, prefix) == (home, str(venv))
        # site.py puts the base's prefixes after the venv's only when it reads include-system-site-packages as true
        assert (len(prefixes) > 1) == (system_site == "true"), prefixes


def test_with_keys_keeps_every_other_line_byte_for_byte() -> None:
    """A key that is there keeps its place and spelling; a new one is appended; nothing else moves."""
    data = b"home = /usr/bin\r\n# a comment\nVenvlink = 0.1.0\nprompt = 'x'"
    changed = _pyvenv_cfg.with_keys(data, {"venvlink": "0.3.0", "venvlink-executable": None, "home": "/opt/bin"})
    assert changed == b"home = /opt/bin\r\n# a comment\nVenvlink = 0.3.0\nprompt = 'x'"
    added = _pyvenv_cfg.with_keys(changed, {"venvlink-executable": "/opt/bin/python3"})
    assert added == changed + b"\nvenvlink-executable = /opt/bin/python3\n"
    assert _pyvenv_cfg.with_keys(changed, {"venvlink": None}) == b"home = /opt/bin\r\n# a comment\nprompt = 'x'"
    assert _pyvenv_cfg.with_keys(data, {"absent": None}) == data, "nothing to change: not even a final newline"


def test_a_carriage_return_inside_a_line_hides_no_key() -> None:
    """`venvlink-executable\\r= /evil` is one line to CPython and the stub (a \\r is a blank to them): venvlink's
    rewrite must treat it as that key too, never keep it ahead of the one it writes."""
    data = b"home = /usr/bin\nvenvlink-executable\r= /evil\n"
    assert _pyvenv_cfg.parse(data)["venvlink-executable"] == "/evil"
    changed = _pyvenv_cfg.with_keys(data, {"venvlink-executable": "/usr/bin/python3"})
    assert _pyvenv_cfg.parse(changed)["venvlink-executable"] == "/usr/bin/python3"
    assert b"/evil" not in changed
    assert _pyvenv_cfg.with_keys(data, {"venvlink-executable": None}) == b"home = /usr/bin\n"


@pytest.mark.parametrize(
    "value", ["/srv/x\nv/python", "/srv/x\rv/python", " /opt/python", "/opt/python\t", "/opt/python\u00a0", "\u2003/x"]
)
def test_a_value_that_would_not_read_back_is_refused(value: str) -> None:
    """What is written must read back as written, by the stub and by CPython (site.py reads the file in text mode,
    where a \\r ends a line): a path cut short names another file."""
    with pytest.raises(VenvlinkError, match="would make it read back as another value"):
        _pyvenv_cfg.with_keys(b"home = /usr/bin\n", {"venvlink-executable": value})
