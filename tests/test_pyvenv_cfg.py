"""pyvenv.cfg as venvlink's Python reads and rewrites it: keys compared as the stub compares them."""

from __future__ import annotations

from virtualenv_linkable import _pyvenv_cfg


def test_keys_fold_in_ascii_only() -> None:
    """A Kelvin sign (U+212A) lower-cases to k in Python's str.lower(), never in the stub."""
    values = _pyvenv_cfg.parse("venvlin\u212a-executable = /x\nHOME = /usr/bin\n".encode())
    assert values == {"venvlin\u212a-executable": "/x", "home": "/usr/bin"}
    assert "venvlink-executable" not in values


def test_bom_blanks_and_first_occurrence() -> None:
    data = b"\xef\xbb\xbfhome = /a\r\n  Home\t=  /b \nversion_info=3.12.1.final.0\nno equals sign\n"
    assert _pyvenv_cfg.parse(data) == {"home": "/a", "version_info": "3.12.1.final.0"}


def test_with_keys_keeps_every_other_line_byte_for_byte() -> None:
    data = b"home = /usr/bin\n# a comment\nVenvlink = 0.1.0\nprompt = 'x'"
    changed = _pyvenv_cfg.with_keys(data, {"venvlink": "0.2.0", "venvlink-executable": None})
    assert changed == b"home = /usr/bin\n# a comment\nprompt = 'x'\nvenvlink = 0.2.0\n"
    assert _pyvenv_cfg.with_keys(changed, {"venvlink": None}) == b"home = /usr/bin\n# a comment\nprompt = 'x'\n"
