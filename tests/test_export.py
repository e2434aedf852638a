"""venvlink export and remove: never clobber, never self-destruct, DEST as the kernel means it, undo on failure."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import DEPLOY, Interpreter, as_user, make_venv, run, sys_info, venvlink
from virtualenv_linkable.__main__ import main

KINDS = ["linkable", "stdlib", "builtin", "uv"]
PLAIN_KINDS = KINDS[1:]


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def registry_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "venvlink" / "exports.json"


def recorded(tmp_path: Path) -> dict[str, object]:
    path = registry_file(tmp_path)
    return json.loads(path.read_text())["exports"] if path.exists() else {}


def new_venv(kind: str, interpreter: Interpreter, dest: Path) -> Path:
    if kind == "stdlib":
        run([interpreter.path, "-m", "venv", "--without-pip", dest])
        return dest
    if kind == "uv":
        run([sys.executable, "-m", "uv", "venv", "-q", "--no-python-downloads", "--python", interpreter.path, dest])
        return dest
    return make_venv(interpreter, dest, creator="linkable" if kind == "linkable" else "builtin")


def tree(directory: Path) -> dict[str, str]:
    """Names, link texts and contents under ``directory``: to show that nothing changed."""
    found = {}
    for path in sorted(directory.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        key = str(path.relative_to(directory))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_export(kind: str, current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv(kind, current, tmp_path / "venv")
    (tmp_path / "bin").mkdir()
    code, out, err = venvlink("export", "venv", "bin/tool", cwd=tmp_path)
    assert code == 0, err
    assert ("converted" in out) == (kind != "linkable")
    assert f"exported {tmp_path / 'bin' / 'tool'} -> {venv / 'bin' / 'python'}" in out
    assert "is not on PATH" in err
    assert sys_info(tmp_path / "bin" / "tool")["prefix"] == str(venv)
    code, out, _ = venvlink("list", "--json")
    (entry,) = json.loads(out)["exports"]
    assert entry["dest"] == str(tmp_path / "bin" / "tool")
    assert entry["venv"] == str(venv)
    assert entry["state"] == "ok"


@pytest.mark.parametrize("kind", PLAIN_KINDS)
def test_export_no_convert_refuses(kind: str, current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv(kind, current, tmp_path / "venv")
    before = tree(venv)
    code, _, err = venvlink("export", "--no-convert", venv, tmp_path / "tool")
    assert code == 1
    assert err.startswith(f"venvlink: error: {venv} is not linkable")
    assert f"venvlink convert {venv}" in err
    assert not os.path.lexists(tmp_path / "tool")
    assert tree(venv) == before


@pytest.mark.parametrize("existing", ["file", "directory", "dangling link"])
def test_export_refuses_existing_dest(existing: str, current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    dest = tmp_path / "tool"
    if existing == "file":
        dest.write_text("keep me")
    elif existing == "directory":
        dest.mkdir()
    else:
        dest.symlink_to(tmp_path / "nowhere")
    code, _, err = venvlink("export", venv, dest)
    assert code == 1
    assert str(dest) in err
    assert ("directory" in err) if existing == "directory" else ("--force" in err)
    if existing == "file":
        assert dest.read_text() == "keep me"
    if existing == "dangling link":
        assert os.readlink(dest) == str(tmp_path / "nowhere")
    assert recorded(tmp_path) == {}


def test_export_force_never_writes_through(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    precious = tmp_path / "precious"
    precious.write_bytes(b"\x7fELF not to be touched")
    dest = tmp_path / "tool"
    dest.symlink_to(precious)
    code, out, err = venvlink("export", "--force", venv, dest)
    assert code == 0, err
    assert out.startswith("replaced")
    assert precious.read_bytes() == b"\x7fELF not to be touched"
    assert os.readlink(dest) == str(venv / "bin" / "python")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary link left"
    assert venvlink("export", "--force", venv, dest)[0] == 0, "re-exporting over its own export"


def test_concurrent_exports_to_one_dest(current: Interpreter, tmp_path: Path) -> None:
    """Checked and claimed under the lock: exactly one of six wins, the others say so; nothing is clobbered."""
    venv = new_venv("linkable", current, tmp_path / "venv")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "virtualenv_linkable", "export", str(venv), str(tmp_path / "tool")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outcomes = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in processes]  # type: ignore[union-attr]
    winners = [o for o in outcomes if o[0] == 0]
    assert len(winners) == 1, outcomes
    assert winners[0][1].startswith("exported")
    for code, _, err in outcomes:
        if code != 0:
            assert code == 1
            assert f"{tmp_path / 'tool'} already exists; pass --force to replace it" in err
    assert list(recorded(tmp_path)) == [str(tmp_path / "tool")]


def test_dest_appearing_meanwhile_is_not_clobbered(current: Interpreter, tmp_path: Path) -> None:
    """Another program creates DEST while the stub explains the new link: the export backs out."""
    venv = new_venv("linkable", current, tmp_path / "venv")
    dest = tmp_path / "tool"
    code = (
        "import pathlib, sys\n"
        "import virtualenv_linkable._export as e\n"
        "real = e._verify\n"
        "def verify(*args, **kwargs):\n"
        f"    pathlib.Path({str(dest)!r}).write_text('mine')\n"
        "    return real(*args, **kwargs)\n"
        "e._verify = verify\n"
        "from virtualenv_linkable.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    result = run([sys.executable, "-c", code, "export", venv, dest], check=False)
    assert result.returncode == 1
    assert result.stderr == (
        f"venvlink: error: {dest} appeared while venvlink was exporting; nothing was changed "
        "(pass --force to replace it)\n"
    )
    assert dest.read_text() == "mine"
    assert recorded(tmp_path) == {}


@pytest.mark.parametrize("dest", ["bin/python", "bin/tool", "lib/../bin/python3"])
def test_export_never_self_destructs(dest: str, current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    before = tree(venv)
    code, _, err = venvlink("export", "--force", venv, venv / dest)
    assert code == 1
    assert "choose a DEST elsewhere" in err
    assert tree(venv) == before
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)
    assert recorded(tmp_path) == {}


def test_export_refuses_a_hard_link_to_an_entry(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    os.link(venv / "bin" / "python", tmp_path / "tool")
    code, _, err = venvlink("export", "--force", venv, tmp_path / "tool")
    assert code == 1
    assert f"{tmp_path / 'tool'} is one of {venv}'s own interpreters" in err


def test_dotdot_in_dest_means_what_the_kernel_means(current: Interpreter, tmp_path: Path) -> None:
    """`lnkbin/../victim`, lnkbin a link to a directory: the kernel (and ln -s) name real/victim, not ./victim."""
    venv = new_venv("linkable", current, tmp_path / "venv")
    (tmp_path / "real" / "bin").mkdir(parents=True)
    (tmp_path / "lnkbin").symlink_to(tmp_path / "real" / "bin")
    (tmp_path / "victim").write_text("keep me")
    code, out, err = venvlink("export", "--force", venv, "lnkbin/../victim", cwd=tmp_path)
    assert code == 0, err
    assert (tmp_path / "victim").read_text() == "keep me"
    assert os.readlink(tmp_path / "real" / "victim") == str(venv / "bin" / "python")
    assert f"exported {tmp_path / 'real' / 'victim'}" in out


def test_relative_through_a_linked_directory(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    (tmp_path / "deep" / "real" / "bin").mkdir(parents=True)
    (tmp_path / "lnkbin").symlink_to(tmp_path / "deep" / "real" / "bin")
    code, _, err = venvlink("export", "--relative", venv, tmp_path / "lnkbin" / "tool")
    assert code == 0, err
    made = tmp_path / "deep" / "real" / "bin" / "tool"
    assert os.readlink(made) == "../../../venv/bin/python"
    assert sys_info(tmp_path / "lnkbin" / "tool")["prefix"] == str(venv)


def test_export_relative_and_name(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("stdlib", current, tmp_path / "venv")
    (tmp_path / "bin").mkdir()
    code, _, err = venvlink("export", "--relative", "--name", "python3", venv, tmp_path / "bin" / "tool")
    assert code == 0, err
    assert os.readlink(tmp_path / "bin" / "tool") == "../venv/bin/python3"
    info = sys_info(tmp_path / "bin" / "tool")
    assert info["prefix"] == str(venv)
    assert Path(info["executable"]).parent == venv / "bin"


def test_name_must_be_an_interpreter(current: Interpreter, tmp_path: Path) -> None:
    """--name pip3: refused before anything changes (it used to leave the venv converted)."""
    venv = new_venv("stdlib", current, tmp_path / "venv")
    (venv / "bin" / "pip3").write_text("#!/bin/sh\n")
    before = tree(venv)
    code, _, err = venvlink("export", "--name", "pip3", venv, tmp_path / "tool")
    assert code == 1
    assert f"{venv / 'bin' / 'pip3'} is not an interpreter of {venv}; choose one with --name: python, python3" in err
    assert tree(venv) == before
    assert not os.path.lexists(tmp_path / "tool")


def test_export_on_path_says_nothing_about_path(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    (tmp_path / "bin").mkdir()
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    code, _, err = venvlink("export", venv, tmp_path / "bin" / "tool", env=env)
    assert code == 0
    assert "PATH" not in err


def test_failed_export_leaves_everything_as_it_was(current: Interpreter, tmp_path: Path) -> None:
    """A link placed in another venv's bin/ runs that venv (first pyvenv.cfg wins): refused; the conversion it
    made is undone exactly, the registry untouched, and no temporary name appears in the message."""
    venv = new_venv("uv", current, tmp_path / "venv")
    other = new_venv("linkable", current, tmp_path / "other")
    before, other_before = tree(venv), tree(other)
    code, _, err = venvlink("export", venv, other / "bin" / "tool")
    assert code == 1
    assert err == (
        f"venvlink: error: {other / 'bin' / 'tool'} would run with sys.prefix = {other}, not {venv}; "
        f"nothing was changed (see: venvlink which {venv / 'bin' / 'python'})\n"
    )
    assert ".venvlink" not in err
    assert tree(venv) == before
    assert tree(other) == other_before
    assert recorded(tmp_path) == {}


@pytest.mark.parametrize("given", ["directory", "its python", "a project", "nothing"])
def test_export_says_what_the_venv_argument_should_have_been(given: str, current: Interpreter, tmp_path: Path) -> None:
    """Not "create one with virtualenv" for /tmp or for ve/bin/python: what the argument should have been."""
    venv = new_venv("linkable", current, tmp_path / "project" / ".venv")
    wrong, expected = {
        "directory": (tmp_path, f"{tmp_path} is not a virtual environment (no pyvenv.cfg in it); give the directory"),
        "its python": (
            venv / "bin" / "python",
            f"{venv / 'bin' / 'python'} is a file, not a virtual environment's directory: give its venv, {venv}",
        ),
        "a project": (
            venv.parent,
            f"{venv.parent} is not a virtual environment (no pyvenv.cfg in it); did you mean {venv}?",
        ),
        "nothing": (
            tmp_path / "new",
            f"{tmp_path / 'new'} does not exist; create a venv there with: virtualenv "
            f"--creator linkable {tmp_path / 'new'}",
        ),
    }[given]
    code, _, err = venvlink("export", wrong, tmp_path / "tool")
    assert (code, err.count("\n")) == (1, 1)
    assert err.startswith(f"venvlink: error: {expected}")
    assert "virtualenv" not in err or given == "nothing"


def test_remove(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    code, out, _ = venvlink("remove", tmp_path / "tool")
    assert code == 0
    assert out == f"removed {tmp_path / 'tool'}\n"
    assert not os.path.lexists(tmp_path / "tool")
    assert (venv / "bin" / "python").is_file(), "the venv is never touched"
    assert json.loads(venvlink("list", "--json")[1])["exports"] == []


def test_remove_refuses_what_venvlink_did_not_make(current: Interpreter, tmp_path: Path) -> None:
    (tmp_path / "mine").write_text("mine")
    code, _, err = venvlink("remove", tmp_path / "mine")
    assert code == 1
    assert "is not an export of venvlink" in err
    assert (tmp_path / "mine").read_text() == "mine"


def test_remove_refuses_a_changed_link(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    (tmp_path / "tool").unlink()
    (tmp_path / "tool").symlink_to("/usr/bin/env")
    code, _, err = venvlink("remove", tmp_path / "tool")
    assert code == 1
    assert "now points to /usr/bin/env" in err
    assert os.readlink(tmp_path / "tool") == "/usr/bin/env"


def test_remove_forgets_a_link_already_gone(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    (tmp_path / "tool").unlink()
    code, out, _ = venvlink("remove", tmp_path / "tool")
    assert code == 0
    assert out == f"forgot {tmp_path / 'tool'}, which was already gone\n"
    assert json.loads(venvlink("list", "--json")[1])["exports"] == []


def test_python_api(current: Interpreter, tmp_path: Path) -> None:
    import virtualenv_linkable  # noqa: PLC0415

    venv = new_venv("stdlib", current, tmp_path / "venv")
    result = virtualenv_linkable.export(venv, tmp_path / "tool")
    assert result.converted
    assert result.dest == tmp_path / "tool"
    resolution = virtualenv_linkable.resolve(tmp_path / "tool")
    assert resolution.prefix == venv
    assert resolution.hops == [str(tmp_path / "tool"), str(venv / "bin" / "python")]
    assert virtualenv_linkable.convert(venv).changed is False


def test_remove_finds_an_entry_of_venvlink_0_1(current: Interpreter, tmp_path: Path) -> None:
    """0.1 recorded DEST with its directory unresolved; remove still finds it by the path the user gives."""
    venv = new_venv("linkable", current, tmp_path / "venv")
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    dest = tmp_path / "linked" / "tool"
    dest.symlink_to(venv / "bin" / "python")
    entry = {"dest": str(dest), "venv": str(venv), "target": str(venv / "bin" / "python"), "name": "python"}
    registry_file(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    registry_file(tmp_path).write_text(json.dumps({"format": 1, "exports": {str(dest): {**entry, "created": "x"}}}))
    assert venvlink("remove", dest)[:2] == (0, f"removed {dest}\n")
    assert recorded(tmp_path) == {}


SWAPPER = """
import os, sys, time
team, evil = sys.argv[1], sys.argv[2]
n, end = 0, time.time() + 120
while time.time() < end:
    for entry in os.scandir(team):
        if not entry.name.endswith(".venvlink") or entry.name.startswith(".mine"):
            continue
        n += 1
        mine = os.path.join(team, f".mine{n}.x")
        try:
            if entry.is_dir(follow_symlinks=False):  # a directory of venvlink's: put one of ours in its place
                os.rename(entry.path, mine)
                os.mkdir(entry.path)
                os.symlink(evil, os.path.join(entry.path, "link"))
            else:  # a link of venvlink's: ours over it
                os.symlink(evil, mine)
                os.replace(mine, entry.path)
        except OSError:
            pass
"""


def test_export_runs_nothing_of_whoever_can_write_dests_directory(
    current: Interpreter, world_readable_dir: Path
) -> None:
    """Root exports into a directory another user can write (a team's bin/, the ~/bin of a user root exports for)
    while that user renames links of their own over whatever venvlink puts there, as fast as a loop can: nothing
    of theirs runs, and DEST is never theirs. (They can make an export give up, as they can delete DEST: it is
    in their directory.)"""
    attacker = as_user(DEPLOY)
    venv = make_venv(current, world_readable_dir / "venv")
    team = world_readable_dir / "team-bin"
    team.mkdir(mode=0o777)
    team.chmod(0o777)
    marker, evil = world_readable_dir / "ran", world_readable_dir / "evil"
    evil.write_text(f"#!/bin/sh\necho ran >> {marker}\n")
    evil.chmod(0o755)
    swapper = subprocess.Popen([*attacker, "/usr/bin/python3", "-c", SWAPPER, team, evil])
    try:
        outcomes = [venvlink("export", "--force", venv, team / "tool") for _ in range(15)]
    finally:
        swapper.kill()
        swapper.wait()
    assert not marker.exists(), "the attacker's program ran as root"
    for code, _, err in outcomes:
        assert code == 0 or (code == 1 and err.count("\n") == 1), err
    if os.path.lexists(team / "tool"):
        assert os.readlink(team / "tool") == str(venv / "bin" / "python")
    assert venvlink("export", "--force", venv, team / "tool")[0] == 0, "and once they stop, the export goes through"
    assert os.readlink(team / "tool") == str(venv / "bin" / "python")
