"""Real interpreters behind the stub, on every CPython 3.8+ and PyPy found: what the venv's own python does."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, make_venv, run, snapshot, sys_info, wrapped_venv

IMPORT_DEMO = "import linkdemo, sys; print(sys.prefix)"
BASE = "import json, os, sys; print(json.dumps([sys.executable, os.path.realpath(sys._base_executable), sys.version]))"


def base_from_home(interpreter: Interpreter) -> bool:
    """Whether the interpreter derives sys._base_executable from home (CPython 3.11+); others, as CPython 3.8-3.10
    and PyPy, set it to sys.executable, so a venv made from the venv links to the venv's own entry."""
    return interpreter.implementation == "CPython" and interpreter.version >= (3, 11)


def link(link_path: Path, target: Path | str) -> Path:
    link_path.parent.mkdir(parents=True, exist_ok=True)
    link_path.symlink_to(target)
    return link_path


def in_venv_name(interpreter: Interpreter, venv: Path, started: str) -> Path:
    """sys.executable of a linkable venv: its entry named like the interpreter, which every creator makes."""
    own = venv / "bin" / interpreter.versioned_name
    return own if own.exists() else venv / "bin" / started


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
    assert direct["executable"] == str(in_venv_name(interpreter, linkable, name))
    assert any(p.startswith(str(linkable / "lib")) and p.endswith("site-packages") for p in direct["path"])


def test_base_executable_is_the_interpreter(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    """CPython 3.11+ derive sys._base_executable from argv[0]'s name: it must resolve to the interpreter the stub
    ran. 3.8-3.10 (and PyPy) set it to sys.executable itself, as they do in a plain venv."""
    executable, base, _ = json.loads(run([link(tmp_path / "tool", linkable / "bin" / "python"), "-c", BASE]).stdout)
    assert Path(executable).parent == linkable / "bin"
    if base_from_home(interpreter):
        assert Path(base) == interpreter.real
    else:
        assert base == os.path.realpath(executable)


def test_multi_version_home(interpreter: Interpreter, tmp_path: Path) -> None:
    """A home like Debian's /usr/bin, where python3 (and python) is another version than the venv's: the venv,
    and any venv made from it with `python -m venv`, runs the venv's version."""
    from conftest import INTERPRETERS  # noqa: PLC0415

    other = next((i for i in INTERPRETERS if i.implementation == "CPython" and i.version != interpreter.version), None)
    if other is None or interpreter.implementation != "CPython":
        pytest.skip("needs CPython and another CPython version to stand in for home's python3")
    home = tmp_path / "home-bin"
    home.mkdir()
    (home / interpreter.versioned_name).symlink_to(interpreter.real)
    (home / "python3").symlink_to(other.real)
    (home / "python").symlink_to(other.real)
    venv = make_venv(interpreter, tmp_path / "venv")
    cfg = venv / "pyvenv.cfg"
    cfg.write_text("".join(f"home = {home}\n" if line.startswith("home") else line for line in cfg.open()))
    tool = link(tmp_path / "tool", venv / "bin" / "python")
    _, base, version = json.loads(run([tool, "-c", BASE]).stdout)
    assert version == json.loads(run([interpreter.real, "-c", BASE]).stdout)[2]
    if base_from_home(interpreter):
        assert Path(base) == interpreter.real
    run([tool, "-m", "venv", "--without-pip", tmp_path / "nested"])
    nested = json.loads(run([tmp_path / "nested" / "bin" / "python", "-c", BASE]).stdout)[2]
    assert nested == version, "the venv made from it runs the same interpreter"


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
    assert info["executable"] == str(in_venv_name(interpreter, linkable, "python"))
    assert run([start, "-c", IMPORT_DEMO]).stdout.strip() == str(linkable)


def test_dotdot_from_inside_another_venv(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    """`cd other-venv && ../tool`: the tool's venv runs, not the one the '..' is spelled from."""
    other = make_venv(interpreter, tmp_path / "other")
    link(tmp_path / "tool", linkable / "bin" / "python")
    assert run(["../tool", "-c", IMPORT_DEMO], cwd=other).stdout.strip() == str(linkable)


def test_link_to_the_bin_directory(interpreter: Interpreter, linkable: Path, tmp_path: Path) -> None:
    """`ln -s venv/bin ~/vbin` with ~/vbin on PATH: `python` there runs the venv."""
    link(tmp_path / "vbin", linkable / "bin")
    env = {**os.environ, "PATH": f"{tmp_path / 'vbin'}{os.pathsep}{os.environ['PATH']}"}
    assert run(["python", "-c", IMPORT_DEMO], env=env).stdout.strip() == str(linkable)


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
    assert script.read_text().splitlines()[0] == f"#!{in_venv_name(interpreter, linkable, 'python')}"
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
    """`python -m venv` from inside a linkable venv, then symlinked. On CPython 3.8-3.10 and PyPy its python links
    to our stub (home = the linkable venv's bin), which must not exec itself; 3.11+ link the base interpreter."""
    nested = tmp_path / "nested"
    run([linkable / "bin" / "python", "-m", "venv", "--without-pip", nested])
    assert sys_info(nested / "bin" / "python")["prefix"] == str(nested)
    through_link = sys_info(link(tmp_path / "tool", nested / "bin" / "python"))
    if not base_from_home(interpreter):
        assert through_link["prefix"] == str(nested)
    else:  # a plain venv of the base interpreter: `venvlink convert` makes it linkable
        assert Path(through_link["prefix"]) == interpreter.base_prefix
    assert Path(through_link["base_prefix"]) == interpreter.base_prefix


def test_copies(interpreter: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(interpreter, tmp_path / "venv", "--copies")
    cfg = (venv / "pyvenv.cfg").read_text()
    executable = Path(next(line for line in cfg.splitlines() if line.startswith("venvlink-executable")).split(" = ")[1])
    assert executable.parent == venv / "libexec"
    assert executable.is_file()
    assert not executable.is_symlink()
    for entry in (venv / "bin").iterdir():
        if entry.name.startswith(("python", "pypy")):
            assert not entry.is_symlink()
    info = sys_info(link(tmp_path / "tool", venv / "bin" / "python"))
    assert info["prefix"] == str(venv)
    assert Path(info["executable"]).parent == venv / "bin"
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


def test_cpython_test_venv_through_a_link(interpreter: Interpreter, tmp_path: Path) -> None:
    """CPython's own test_venv, run by a symlink to a linkable venv's python, fails nothing that it does not fail
    for a plain venv's python."""
    found = run([interpreter.path, "-c", "import test.test_venv"], check=False)
    if found.returncode != 0:
        said = (found.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"{interpreter.path} cannot import test.test_venv ({said}); Debian: libpython3.X-testsuite")

    def failures(python: Path) -> set[str]:
        out = run([python, "-m", "test", "-v", "test_venv"], check=False, cwd=tmp_path)
        assert "Ran " in out.stdout + out.stderr, out.stdout + out.stderr
        lines = (out.stdout + out.stderr).splitlines()
        return {line.split(" ")[0] for line in lines if line.endswith(("... FAIL", "... ERROR"))}

    venv = make_venv(interpreter, tmp_path / "linkable")
    plain = tmp_path / "plain"
    run([interpreter.path, "-m", "venv", "--without-pip", plain])
    through_link = failures(link(tmp_path / "tool", venv / "bin" / "python"))
    assert through_link <= failures(plain / "bin" / "python"), sys.version


def test_base_interpreter_behind_a_wrapper_script(interpreter: Interpreter, tmp_path: Path) -> None:
    """A base "interpreter" that is a #! wrapper doing `exec -a "$0" real-python "$@"` (nixpkgs' makeWrapper,
    python3.withPackages, HPC modules): the kernel hands it, as $0, the path exec'd. A plain venv of it runs with
    its venv; converted, it must too, directly and through a link, and `which` must say what really happens."""
    venv = wrapped_venv(interpreter, tmp_path)
    wrapper = tmp_path / "wrapped" / "bin" / interpreter.versioned_name
    plain = sys_info(venv / "bin" / "python")
    assert plain["prefix"] == str(venv), "the plain venv of a wrapper works"
    before = snapshot(venv)
    tool = link(tmp_path / "tool", venv / "bin" / "python")
    assert run([sys.executable, "-m", "virtualenv_linkable", "convert", venv]).returncode == 0
    for path in (venv / "bin" / "python", tool):
        info = sys_info(path)
        assert (info["prefix"], info["base_prefix"]) == (str(venv), plain["base_prefix"]), path
    which = json.loads(run([sys.executable, "-m", "virtualenv_linkable", "which", "--json", tool]).stdout)
    assert (which["prefix"], which["executable"], which["fix"]) == (str(venv), str(wrapper), None)
    assert run([sys.executable, "-m", "virtualenv_linkable", "convert", "--revert", venv]).returncode == 0
    assert snapshot(venv) == before
