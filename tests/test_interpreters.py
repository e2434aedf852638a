"""Real CPython behind the stub, for every CPython 3.8-3.13 found: what a venv's own python would do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import Interpreter, make_venv, run, sys_info

IMPORT_DEMO = "import linkdemo, sys; print(sys.prefix)"


def link(link_path: Path, target: Path | str) -> Path:
    link_path.parent.mkdir(parents=True, exist_ok=True)
    link_path.symlink_to(target)
    return link_path


def test_seed_reproducer(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    """The write-up's reproducer: a package pip installed into the venv imports through `ln -s venv/bin/python`."""
    symlink = link(tmp_path / "symlink", linkable / "bin" / "python")
    assert run([symlink, "-c", IMPORT_DEMO]).stdout.strip() == str(linkable)


def test_plain_venv_symlink_loses_the_venv(interpreter: Interpreter, tmp_path: Path) -> None:
    """The problem venvlink solves, shown on virtualenv's builtin creator: the link runs the bare base."""
    plain = make_venv(interpreter, tmp_path / "plain", creator="builtin")
    symlink = link(tmp_path / "symlink", plain / "bin" / "python")
    assert Path(sys_info(symlink)["prefix"]) == interpreter.base_prefix


@pytest.mark.parametrize("name", ["python", "python3", "python{X.Y}"])
def test_sys_is_as_in_the_venv(interpreter: Interpreter, linkable: Path, tmp_path: Path, name: str) -> None:
    name = name.replace("{X.Y}", "{}.{}".format(*interpreter.version))
    direct = sys_info(linkable / "bin" / name)
    through_link = sys_info(link(tmp_path / "tool", linkable / "bin" / name))
    assert direct == through_link
    assert direct["prefix"] == direct["exec_prefix"] == str(linkable)
    assert Path(direct["base_prefix"]) == interpreter.base_prefix
    assert direct["executable"] == str(linkable / "bin" / name)
    assert str(linkable / "lib" / "python{}.{}".format(*interpreter.version) / "site-packages") in direct["path"]


@pytest.mark.parametrize("chain", ["absolute", "relative", "three hops"])
def test_link_chains(interpreter: Interpreter, linkable: Path, tmp_path: Path, chain: str) -> None:
    target = linkable / "bin" / "python"
    if chain == "absolute":
        start = link(tmp_path / "bin" / "tool", target)
    elif chain == "relative":
        start = link(tmp_path / "bin" / "tool", os.path.relpath(target, tmp_path / "bin"))
    else:
        link(tmp_path / "c" / "three", os.path.relpath(target, tmp_path / "c"))
        link(tmp_path / "b" / "two", tmp_path / "c" / "three")
        start = link(tmp_path / "a" / "one", "../b/two")
    info = sys_info(start)
    assert info["prefix"] == str(linkable)
    assert info["executable"] == str(target)
    assert run([start, "-c", IMPORT_DEMO]).stdout.strip() == str(linkable)


def test_bare_name_on_path(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    link(tmp_path / "bin" / "tool", linkable / "bin" / "python")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    assert run(["tool", "-c", IMPORT_DEMO], env=env).stdout.strip() == str(linkable)


def test_subprocess_of_sys_executable(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    code = (
        "import subprocess, sys; "
        "subprocess.run([sys.executable, '-c', 'import linkdemo, sys; print(sys.prefix)'], check=True)"
    )
    symlink = link(tmp_path / "tool", linkable / "bin" / "python")
    assert run([symlink, "-c", code]).stdout.strip() == str(linkable)


def test_console_script_through_symlink(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    script = linkable / "bin" / "linkdemo"
    assert script.read_text().splitlines()[0] == f"#!{linkable / 'bin' / 'python'}", "a plain shebang"
    symlink = link(tmp_path / "bin" / "linkdemo", script)
    assert run([symlink]).stdout.strip() == str(linkable)


def test_first_pyvenv_cfg_wins(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    """A plain venv whose bin/python links to a linkable venv's stub is its own venv, not the linkable one."""
    plain = tmp_path / "plain"
    run([interpreter.path, "-m", "venv", "--without-pip", plain])
    (plain / "bin" / "python.new").symlink_to(linkable / "bin" / "python")
    (plain / "bin" / "python.new").replace(plain / "bin" / "python")
    info = sys_info(link(tmp_path / "tool", plain / "bin" / "python"))
    assert info["prefix"] == str(plain)
    assert Path(info["base_prefix"]) == interpreter.base_prefix


def test_venv_made_from_linkable_venv(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    """`python -m venv` from inside a linkable venv, then symlinked. On 3.8-3.10 its python links to our
    stub (home = the linkable venv's bin), which must not exec itself; 3.11+ link the base interpreter."""
    nested = tmp_path / "nested"
    run([linkable / "bin" / "python", "-m", "venv", "--without-pip", nested])
    assert sys_info(nested / "bin" / "python")["prefix"] == str(nested)
    through_link = sys_info(link(tmp_path / "tool", nested / "bin" / "python"))
    if interpreter.version < (3, 11):
        assert through_link["prefix"] == str(nested)
    else:  # a plain venv of the base interpreter: `venvlink convert` makes it linkable
        assert Path(through_link["prefix"]) == interpreter.base_prefix
    assert Path(through_link["base_prefix"]) == interpreter.base_prefix


def test_copies(interpreter: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(interpreter, tmp_path / "venv", "--copies")
    own_copy = venv / "libexec" / "python{}.{}".format(*interpreter.version)
    assert own_copy.is_file()
    assert not own_copy.is_symlink()
    assert f"venvlink-executable = {own_copy}" in (venv / "pyvenv.cfg").read_text()
    for name in ("python", "python3", own_copy.name):
        assert not (venv / "bin" / name).is_symlink()
    info = sys_info(link(tmp_path / "tool", venv / "bin" / "python"))
    assert info["prefix"] == str(venv)
    assert info["executable"] == str(venv / "bin" / "python")
    assert Path(info["base_prefix"]) == interpreter.base_prefix


def test_stub_replaces_links_without_writing_through(interpreter: Interpreter, tmp_path: Path) -> None:
    before = interpreter.real.read_bytes()
    venv = make_venv(interpreter, tmp_path / "venv")
    for name in ("python", "python3", "python{}.{}".format(*interpreter.version)):
        entry = venv / "bin" / name
        assert not entry.is_symlink()
        assert entry.read_bytes()[:4] == b"\x7fELF"
        assert entry.stat().st_ino != interpreter.real.stat().st_ino
    assert interpreter.real.read_bytes() == before
