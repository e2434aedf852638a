"""What a new user meets in their first hour (issue 23): -q that hides no answer and no problem, a closed pipe
that is silent, the commands listed, a mistyped command named, the messages that say what to do next."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, make_venv, run, venvlink


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_quiet_hides_no_answer_and_no_problem(current: Interpreter, tmp_path: Path) -> None:
    """cron runs ``venvlink -q doctor``: silence when all is fine, and the problem's line when not; ``-q list`` and
    ``-q which`` print what they were asked for."""
    venv = make_venv(current, tmp_path / "venv")
    tool = tmp_path / "tool"
    assert venvlink("-q", "export", venv, tool) == (0, "", "")
    assert venvlink("-q", "doctor") == (0, "", "")
    code, out, _ = venvlink("-q", "list")
    assert (code, out) == (0, f"{tool} -> {venv / 'bin' / 'python'}  [ok]\n")
    code, out, _ = venvlink("-q", "which", tool)
    assert code == 0
    assert f"sys.prefix  {venv}" in out
    shutil.rmtree(venv)
    code, out, _ = venvlink("-q", "doctor")
    assert code == 1
    assert out.startswith(f"{tool}: venv missing; {venv} is gone; fix: venvlink remove {tool}")


def test_a_closed_pipe_is_silent(current: Interpreter, tmp_path: Path) -> None:
    """``venvlink list --json | head -1``: the reader has gone, and venvlink says nothing of it."""
    venv = make_venv(current, tmp_path / "venv")
    assert venvlink("-q", "export", venv, tmp_path / "tool")[0] == 0
    read, write = os.pipe()
    os.close(read)  # gone before venvlink writes: the write fails with EPIPE, every time
    done = subprocess.run(
        [sys.executable, "-m", "virtualenv_linkable", "list", "--json"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


def test_venvlink_alone_lists_its_commands() -> None:
    code, out, err = venvlink()
    assert (code, err) == (0, "")
    for command in ("export", "convert", "which", "list", "remove", "doctor"):
        assert f"    {command}" in out


def test_a_mistyped_command_is_named() -> None:
    code, _, err = venvlink("exprot", "venv")
    assert code == 2
    assert err.endswith(
        "venvlink: error: 'exprot' is not a command: did you mean 'export'? the commands are export, convert, which, "
        "list, remove, doctor, completion\n"
    )


def test_a_loop_of_links_is_called_one(tmp_path: Path) -> None:
    """41 links, one more than the kernel follows, and a link to itself: a loop, not a broken link."""
    for i in range(40):
        (tmp_path / f"l{i}").symlink_to(f"l{i + 1}")
    (tmp_path / "l40").symlink_to(os.path.realpath(sys.executable))
    (tmp_path / "self").symlink_to("self")
    for start in ("l0", "self"):
        code, _, err = venvlink("which", tmp_path / start)
        assert (code, err) == (
            1,
            f"venvlink: error: {tmp_path / start} is a loop of symbolic links, or a chain of more than 40, which the "
            "kernel does not follow\n",
        )
    assert venvlink("which", tmp_path / "l1")[0] == 0, "40 links are followed"


def test_remove_of_a_venv_names_its_exports(current: Interpreter, tmp_path: Path) -> None:
    """``venvlink remove VENV`` (a venv, not an export): the commands that remove its exports, never "remove it
    yourself", which reads as an invitation to delete the venv."""
    venv = make_venv(current, tmp_path / "venv")
    code, _, err = venvlink("remove", venv)
    assert code == 1
    assert err == (
        f"venvlink: error: {venv} is a venv, not an export, and venvlink exported it nowhere; to make it plain again: "
        f"venvlink convert --revert {venv}\n"
    )
    for name in ("a", "b"):
        assert venvlink("-q", "export", venv, tmp_path / name)[0] == 0
    code, _, err = venvlink("remove", venv)
    assert (code, err) == (
        1,
        f"venvlink: error: {venv} is a venv, not an export; to remove its exports: venvlink remove {tmp_path / 'a'}; "
        f"venvlink remove {tmp_path / 'b'}\n",
    )
    assert (venv / "bin" / "python").exists()


def test_the_fix_for_a_venv_gone_clears_it(current: Interpreter, tmp_path: Path) -> None:
    """doctor's fix for an export whose venv is gone is ``venvlink remove DEST``; after it, doctor is clean (the
    venv the creator remembered is forgotten with its last export)."""
    venv = make_venv(current, tmp_path / "venv")
    tool = tmp_path / "tool"
    assert venvlink("-q", "export", venv, tool)[0] == 0
    shutil.rmtree(venv)
    code, out, _ = venvlink("doctor")
    assert code == 1
    assert f"fix: venvlink remove {tool}" in out
    assert venvlink("-q", "remove", tool)[0] == 0
    assert venvlink("doctor") == (0, "nothing to check: nothing exported or converted yet\n", "")


def test_pyenvs_shim_is_named_as_such(current: Interpreter, tmp_path: Path) -> None:
    """pyenv's shims are bash scripts that run whichever Python pyenv selects: ``which`` says so, and ``convert
    --python`` refuses one with the command to give instead (it recorded the shim, which then ran another
    version's Python, or none)."""
    shims = tmp_path / "shims"
    shims.mkdir()
    name = f"python{current.version[0]}.{current.version[1]}"
    shim = shims / name
    shim.write_text(
        f'#!/usr/bin/env bash\nset -e\nprogram="${{0##*/}}"\nexport PYENV_ROOT="{tmp_path / "pyenv"}"\n'
        f'exec "{tmp_path / "pyenv" / "libexec" / "pyenv"}" exec "$program" "$@"\n'
    )
    shim.chmod(0o755)
    for version in ("3.99.9", "3.99.10"):  # the newest by number, not by name
        (tmp_path / "pyenv" / "versions" / version / "bin").mkdir(parents=True)
        (tmp_path / "pyenv" / "versions" / version / "bin" / name).symlink_to(current.real)
    newest = tmp_path / "pyenv" / "versions" / "3.99.10" / "bin" / name
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}
    code, _, err = venvlink("which", name, env=env)
    assert (code, err) == (
        1,
        f"venvlink: error: {shim} is pyenv's shim, which runs whichever Python pyenv selects at each start; ask of "
        f"an interpreter itself, such as the newest pyenv has: venvlink which {newest}\n",
    )
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    code, _, err = venvlink("convert", "--python", name, venv, env=env)
    assert code == 1
    assert f"give the interpreter itself, such as the newest pyenv has: --python {newest}" in err


def test_a_venvs_python_is_no_base_for_another_venv(current: Interpreter, tmp_path: Path) -> None:
    """The usability review: with a venv active (venvlink's own, say), ``convert --python python3.X`` and doctor's
    candidate took its python, and the converted venv then rested on that venv. A venv's interpreter is refused,
    with its base named, and never offered as a candidate."""
    active = tmp_path / "active"
    run([current.path, "-m", "venv", "--without-pip", active])
    name = f"python{current.version[0]}.{current.version[1]}"
    env = {**os.environ, "PATH": f"{active / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    code, _, err = venvlink("convert", "--python", name, venv, env=env)
    assert code == 1
    assert f"{active / 'bin' / name} is the interpreter of the venv {active}, which no venv can rest on" in err
    for entry in (venv / "bin").iterdir():  # the venv's base, removed
        if entry.is_symlink():
            entry.unlink()
            entry.symlink_to(tmp_path / "removed" / name)
    code, _, err = venvlink("convert", venv, env=env)
    assert code == 1
    assert str(active) not in err


def test_a_revert_names_the_links_it_leaves_without_the_venv(current: Interpreter, tmp_path: Path) -> None:
    """The usability review: ``convert --revert`` of an exported venv said nothing of its exports, which then ran
    the base interpreter."""
    venv = make_venv(current, tmp_path / "venv")
    tool = tmp_path / "tool"
    assert venvlink("-q", "export", venv, tool)[0] == 0
    code, _, err = venvlink("convert", "--revert", venv)
    assert code == 0
    assert err == (
        f"note: {tool} still links to it, and now runs the base interpreter without it: venvlink remove {tool} "
        f"removes the link, venvlink convert {venv} makes the venv linkable again (as doctor --fix would)\n"
    )


def test_export_remembers_the_venv_it_converts(current: Interpreter, tmp_path: Path) -> None:
    """The new user's walk: ``export`` of a plain venv converted it but recorded only the link; once the link was
    removed, venvlink had forgotten the venv, which doctor --fix and an uninstall then missed."""
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    tool = tmp_path / "tool"
    assert venvlink("-q", "export", venv, tool)[0] == 0
    assert venvlink("-q", "remove", tool)[0] == 0
    assert venvlink("list") == (0, f"{venv} (converted)  [ok]\n", "")


def test_an_empty_name_is_said_to_be_one() -> None:
    """``venvlink which "$(pyenv which python3.12)"`` when pyenv has no such command: an empty argument."""
    assert venvlink("which", "") == (
        1,
        "",
        "venvlink: error: an empty name is no path; give the path of a python, or its name on PATH\n",
    )
