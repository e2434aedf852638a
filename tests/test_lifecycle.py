"""A link that stays right for its venv's whole life: upgraded by venv, recreated by a tool, its base Python removed
or moved to a new patch release; and the command as pipx and uv users expect it."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, make_venv, run, snapshot, stdlib_of, sys_info, venvlink
from virtualenv_linkable import _pyvenv_cfg, _stub


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def states(kind: str = "exports") -> dict[str, str]:
    listed = json.loads(venvlink("list", "--json")[1])[kind]
    return {item["dest" if kind == "exports" else "venv"]: item["state"] for item in listed}


def test_venv_upgrade_keeps_the_venv_and_its_links(interpreter: Interpreter, tmp_path: Path) -> None:
    """`python -m venv --upgrade` copies the base interpreter over bin/python3.X (it cannot symlink over a stub)
    and rewrites pyvenv.cfg without venvlink's keys. The export keeps running its venv; venvlink says what
    happened; doctor --fix makes the venv linkable as before (no private copy of the base); --revert leaves a venv
    whose python runs."""
    venv = make_venv(interpreter, tmp_path / "venv")
    tool = tmp_path / "tool"
    assert venvlink("export", venv, tool)[0] == 0
    run([interpreter.path, "-m", "venv", "--upgrade", "--without-pip", venv], check=False)
    assert "venvlink-executable" not in (venv / "pyvenv.cfg").read_text()
    assert sys_info(tool)["prefix"] == str(venv)
    assert states() == {str(tool): "keys lost"}
    code, out, _ = venvlink("doctor", "--fix")
    assert code == 0, out
    assert out.startswith(f"fixed {venv} (keys lost): converted it again")
    assert not (venv / "libexec").exists(), "the venv runs the base, not a copy of it"
    assert f"venvlink-executable = {interpreter.real}" in (venv / "pyvenv.cfg").read_text()
    for entry in (venv / "bin").iterdir():
        if entry.name.startswith(("python", "pypy")):
            assert _stub.is_stub(entry), entry
    assert sys_info(tool)["prefix"] == str(venv)
    assert venvlink("convert", "--revert", venv)[0] == 0
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)
    assert not (venv / "bin" / "python").is_symlink() or (venv / "bin" / "python").exists()


def copied_base(interpreter: Interpreter, directory: Path) -> Path:
    """A copy of ``interpreter`` in ``directory``: a base Python the test may remove (never pyenv's own), an
    installation of its own (``lib/`` links to the standard library, where getpath finds it before ``/tmp/lib``,
    which anyone could make)."""
    if interpreter.implementation != "CPython":
        pytest.skip("a copy of PyPy's executable does not run without its libpypy beside it")
    copy = directory / "bin" / interpreter.versioned_name
    copy.parent.mkdir(parents=True)
    shutil.copy2(interpreter.real, copy)
    (directory / "lib").mkdir()
    (directory / "lib" / stdlib_of(interpreter).name).symlink_to(stdlib_of(interpreter))
    return copy


def test_moving_a_virtualenv_venv_moves_its_base_keys(current: Interpreter, tmp_path: Path) -> None:
    """virtualenv records the base in ``base-prefix``, ``base-exec-prefix`` and ``base-executable`` (its own
    discovery reads them): convert --python left the first two naming the old interpreter. All follow now, read
    from the new one's installation as getpath finds it (the directory whose lib/python3.X holds os.py)."""
    if current.implementation != "CPython":
        pytest.skip("CPython's layout (a copy of PyPy's executable does not run without its libpypy beside it)")
    old, new = copied_base(current, tmp_path / "old"), copied_base(current, tmp_path / "new")
    venv = make_venv(Interpreter.probe(old) or current, tmp_path / "venv", creator="builtin")
    cfg = _pyvenv_cfg.read(venv / "pyvenv.cfg")
    assert (cfg["base-prefix"], cfg["base-exec-prefix"]) == (str(tmp_path / "old"), str(tmp_path / "old"))
    code, _, err = venvlink("convert", "--python", new, venv)
    assert code == 0, err
    cfg = _pyvenv_cfg.read(venv / "pyvenv.cfg")
    new_prefix = str(tmp_path / "new")
    assert (cfg["home"], cfg["base-prefix"], cfg["base-exec-prefix"]) == (str(new.parent), new_prefix, new_prefix)
    assert cfg["base-executable"] == str(new)
    assert str(tmp_path / "old") not in (venv / "pyvenv.cfg").read_text()


def test_removed_base_python_and_a_new_patch_release(interpreter: Interpreter, tmp_path: Path) -> None:
    """The base Python a venv was made from is removed (pyenv uninstalls 3.12.1 for 3.12.8): list tells, doctor
    names the command, and convert --python moves the venv to another of the same X.Y, site-packages kept; another
    X.Y is refused with both versions named, nothing changed."""
    old = copied_base(interpreter, tmp_path / "old")
    venv = tmp_path / "venv"
    run([old, "-m", "venv", "--without-pip", venv])
    site = Path(run([venv / "bin" / "python", "-c", "import site; print(site.getsitepackages()[0])"]).stdout.strip())
    (site / "kept.py").write_text("WHERE = __file__\n")
    tool = tmp_path / "tool"
    assert venvlink("export", venv, tool)[0] == 0
    shutil.rmtree(tmp_path / "old")
    assert states() == {str(tool): "interpreter gone"}
    code, out, _ = venvlink("doctor")
    assert code == 1
    assert "; fix: venvlink convert --python " in out
    code, _, err = venvlink("convert", venv)
    assert code == 1
    assert "venvlink convert --python " in err

    from conftest import INTERPRETERS  # noqa: PLC0415

    other = next((i for i in INTERPRETERS if i.implementation == "CPython" and i.version != interpreter.version), None)
    if other is not None:
        before = snapshot(venv)
        code, _, err = venvlink("convert", "--python", other.path, venv)
        assert code == 1
        assert (
            f"the venv is for CPython {interpreter.version[0]}.{interpreter.version[1]}, {other.path} is CPython "
            in err
        )
        assert snapshot(venv) == before

    new = copied_base(interpreter, tmp_path / "new")
    code, out, err = venvlink("convert", "--python", new, venv)
    assert code == 0, err
    assert out.startswith(f"moved {venv} to {new}")
    assert states() == {str(tool): "ok"}
    assert run([tool, "-c", "import kept, sys; print(kept.WHERE, sys.prefix)"]).stdout.split() == [
        str(site / "kept.py"),
        str(venv),
    ]
    assert venvlink("convert", "--revert", venv)[0] == 0
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv), "reverted, it links to the new base"


def test_a_venv_recreated_by_a_tool(current: Interpreter, tmp_path: Path) -> None:
    """tox -r without the plugin, nox with uv, pipx reinstall: the venv comes back plain, and its export quietly
    runs the base interpreter. list tells; doctor --fix converts it again."""
    venv = make_venv(current, tmp_path / "venv")
    tool = tmp_path / "tool"
    assert venvlink("export", venv, tool)[0] == 0
    run(
        [
            sys.executable,
            "-m",
            "virtualenv",
            "-q",
            "--no-seed",
            "--clear",
            "--creator",
            "builtin",
            "-p",
            current.path,
            venv,
        ]
    )
    assert sys_info(tool)["prefix"] != str(venv), "the problem"
    assert states() == {str(tool): "recreated"}
    code, out, _ = venvlink("doctor", "--fix")
    assert code == 0, out
    assert sys_info(tool)["prefix"] == str(venv)


@pytest.mark.parametrize("where", ["VENVLINK_BIN_DIR", "XDG_BIN_HOME", "default"])
def test_export_without_dest(where: str, current: Interpreter, tmp_path: Path) -> None:
    """`venvlink export VENV` puts the link where pipx and uv put commands, named after the venv's directory."""
    venv = make_venv(current, tmp_path / "black")
    env = {name: value for name, value in os.environ.items() if name not in {"VENVLINK_BIN_DIR", "XDG_BIN_HOME"}}
    home = Path(env["HOME"])
    expected = {"VENVLINK_BIN_DIR": tmp_path / "vl-bin", "XDG_BIN_HOME": tmp_path / "xdg-bin"}.get(where)
    if expected is not None:
        env[where] = str(expected)
    else:
        expected = home / ".local" / "bin"
    code, out, err = venvlink("export", venv, env=env)
    assert code == 0, err
    assert out == f"exported {expected / 'black'} -> {venv / 'bin' / 'python'}\n"
    assert f"{expected} is not on PATH" in err
    assert sys_info(expected / "black")["prefix"] == str(venv)
    if where == "default":
        (expected / "black").unlink()


def test_verbosity_before_or_after_the_command(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    assert venvlink("export", venv, tmp_path / "tool")[0] == 0
    for args in (["-v", "doctor"], ["doctor", "-v"]):
        code, _, err = venvlink(*args)
        assert (code, f"{tmp_path / 'tool'}: ok" in err) == (0, True), args
    assert venvlink("-q", "list") == (0, f"{tmp_path / 'tool'} -> {venv / 'bin' / 'python'}  [ok]\n", ""), "an answer"


def test_verbose_adds_detail_to_every_command(current: Interpreter, tmp_path: Path) -> None:
    """-v is offered by every command that prints something, and adds to what each prints."""
    venv, tool = make_venv(current, tmp_path / "venv"), tmp_path / "tool"
    commands = [
        ["export", "--force", venv, tool],
        ["convert", venv],
        ["which", tool],
        ["list"],
        ["doctor"],
        ["remove", "--forget", tool],
    ]
    for command in commands:
        if command[0] == "remove":
            quiet = venvlink(*command)
            venvlink("export", "--force", venv, tool)
        else:
            quiet = venvlink(*command)
        loud = venvlink("-v", *command)
        assert quiet[0] == loud[0] == 0, (command, quiet, loud)
        assert len(loud[2]) > len(quiet[2]), f"-v adds nothing to {command[0]}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion(shell: str, tmp_path: Path) -> None:
    """`venvlink completion SHELL` prints argcomplete's code for that shell; the completions it asks for come from
    venvlink's own parser, on descriptor 8 as the code reads them (``8>&1``), never in a file the environment names
    (tests/test_commands.py runs bash's code itself)."""
    code, out, _ = venvlink("completion", shell)
    assert code == 0
    assert "venvlink" in out and "_ARGCOMPLETE" in out
    assert "8>&1" in out
    answer = tmp_path / "answer"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_SHELL": shell,
        "COMP_LINE": "venvlink ex",
        "COMP_POINT": "11",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
    }
    hook = '"$@" 8>&1 9>&2 1>/dev/null 2>&1 </dev/null'  # as the code runs the command
    result = run(["sh", "-c", hook, "sh", sys.executable, "-m", "virtualenv_linkable"], env=env)
    assert "export" in result.stdout
    assert not os.path.lexists(answer)


def test_python_3_8_with_a_virtualenv_that_cannot_seed_it(tmp_path: Path) -> None:
    """virtualenv 21.5 stopped seeding Python 3.8 (tox showed an empty RuntimeError): the creator says so, and
    what to do, before making anything; --no-seed works."""
    from conftest import INTERPRETERS  # noqa: PLC0415

    py38 = next((i for i in INTERPRETERS if i.implementation == "CPython" and i.version == (3, 8)), None)
    if py38 is None:
        pytest.skip("no CPython 3.8 found")
    import virtualenv  # noqa: PLC0415

    if tuple(int(p) for p in virtualenv.__version__.split(".")[:2]) < (21, 5):
        pytest.skip(f"virtualenv {virtualenv.__version__} still seeds Python 3.8")
    cmd = [sys.executable, "-m", "virtualenv", "--creator", "linkable", "-p", py38.path]
    result = run([*cmd, tmp_path / "v"], check=False)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert f"virtualenv {virtualenv.__version__} cannot put pip into a Python 3.8 venv" in said
    assert "pass --no-seed" in said and "virtualenv<21.5" in said
    assert not (tmp_path / "v").exists()
    run([*cmd, "--no-seed", tmp_path / "v"])
    assert sys_info(tmp_path / "v" / "bin" / "python")["prefix"] == str(tmp_path / "v")
