"""pyvenv.cfg as venvlink's Python reads and rewrites it: keys compared as the stub compares them."""

from __future__ import annotations

import pytest

from virtualenv_linkable import _pyvenv_cfg
from virtualenv_linkable.exceptions import VenvlinkError


def test_keys_fold_in_ascii_only() -> None:
    """A Kelvin sign (U+212A) lower-cases to k in Python's str.lower(), never in the stub."""
    values = _pyvenv_cfg.parse("venvlin\u212a-executable = /x\nHOME = /usr/bin\n".encode())
    assert values == {"venvlin\u212a-executable": "/x", "home": "/usr/bin"}
    assert "venvlink-executable" not in values


def test_bom_blanks_and_first_occurrence() -> None:
    data = b"\xef\xbb\xbfhome = /a\r\n  Home\t=  /b \nversion_info=3.12.1.final.0\nno equals sign\n"
    assert _pyvenv_cfg.parse(data) == {"home": "/a", "version_info": "3.12.1.final.0"}


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


@pytest.mark.parametrize("value", ["/srv/x\nv/python", "/srv/x\rv/python", " /opt/python", "/opt/python\t"])
def test_a_value_that_would_not_read_back_is_refused(value: str) -> None:
    """What is written must read back as written, by the stub and by CPython (site.py reads the file in text mode,
    where a \\r ends a line): a path cut short names another file."""
    with pytest.raises(VenvlinkError, match="would make it read back as another value"):
        _pyvenv_cfg.with_keys(b"home = /usr/bin\n", {"venvlink-executable": value})
