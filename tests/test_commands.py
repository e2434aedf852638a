"""The venvlink command: each command's happy path and each refusal, on each kind of venv."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, make_venv, run, sys_info
from venvlink.__main__ import main
from venvlink._install import is_stub

KINDS = ["linkable", "stdlib", "builtin", "uv"]
PLAIN_KINDS = KINDS[1:]


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def registry_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "venvlink" / "exports.json"


def new_venv(kind: str, interpreter: Interpreter, dest: Path) -> Path:
    if kind == "stdlib":
        run([interpreter.path, "-m", "venv", "--without-pip", dest])
        return dest
    if kind == "uv":
        run([sys.executable, "-m", "uv", "venv", "--no-python-downloads", "--python", interpreter.path, dest])
        return dest
    return make_venv(interpreter, dest, creator="linkable" if kind == "linkable" else "builtin")


def venvlink(*args: str | Path, **kwargs: object) -> tuple[int, str, str]:
    """The command in a process of its own, as users run it."""
    result = run([sys.executable, "-m", "venvlink", *args], check=False, **kwargs)  # type: ignore[arg-type]
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def test_version_and_help() -> None:
    code, out, _ = venvlink("--version")
    assert code == 0
    assert out.startswith("venvlink ")
    for command in ("export", "convert", "which", "list", "remove", "doctor"):
        code, out, _ = venvlink(command, "--help")
        assert code == 0
        assert "examples:" in out


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
    (entry,) = json.loads(out)
    assert entry["dest"] == str(tmp_path / "bin" / "tool")
    assert entry["venv"] == str(venv)
    assert entry["state"] == "ok"


@pytest.mark.parametrize("kind", PLAIN_KINDS)
def test_export_no_convert_refuses(kind: str, current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv(kind, current, tmp_path / "venv")
    code, _, err = venvlink("export", "--no-convert", venv, tmp_path / "tool")
    assert code == 1
    assert err.startswith(f"venvlink: error: {venv} is not linkable")
    assert f"venvlink convert {venv}" in err
    assert not os.path.lexists(tmp_path / "tool")
    assert (venv / "bin" / "python").is_symlink()


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
    assert not registry_file(tmp_path).exists() or json.loads(registry_file(tmp_path).read_text())["exports"] == {}


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


def test_export_relative_and_name(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("stdlib", current, tmp_path / "venv")
    (tmp_path / "bin").mkdir()
    code, _, err = venvlink("export", "--relative", "--name", "python3", venv, tmp_path / "bin" / "tool")
    assert code == 0, err
    assert os.readlink(tmp_path / "bin" / "tool") == "../venv/bin/python3"
    info = sys_info(tmp_path / "bin" / "tool")
    assert info["prefix"] == str(venv)
    assert info["executable"] == str(venv / "bin" / "python3")


def test_export_on_path_says_nothing_about_path(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    (tmp_path / "bin").mkdir()
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    code, _, err = venvlink("export", venv, tmp_path / "bin" / "tool", env=env)
    assert code == 0
    assert "PATH" not in err


def test_export_checks_the_result_and_undoes(current: Interpreter, tmp_path: Path) -> None:
    """A link placed in another venv's bin/ runs that venv (first pyvenv.cfg wins): refused, nothing kept."""
    venv = new_venv("stdlib", current, tmp_path / "venv")
    other = new_venv("linkable", current, tmp_path / "other")
    before = sorted(p.name for p in (other / "bin").iterdir())
    code, _, err = venvlink("export", venv, other / "bin" / "tool")
    assert code == 1
    assert f"would run with sys.prefix = {other}, not {venv}; nothing was changed" in err
    assert sorted(p.name for p in (other / "bin").iterdir()) == before
    assert (venv / "bin" / "python").is_symlink(), "the conversion was undone"
    assert "venvlink" not in (venv / "pyvenv.cfg").read_text()


def test_export_refuses_what_is_not_a_venv(tmp_path: Path) -> None:
    code, _, err = venvlink("export", tmp_path, tmp_path / "tool")
    assert code == 1
    assert err == (
        f"venvlink: error: {tmp_path} is not a virtual environment (no pyvenv.cfg); "
        f"create one with: virtualenv --creator linkable {tmp_path}\n"
    )


@pytest.mark.parametrize("kind", PLAIN_KINDS)
def test_convert_and_revert(kind: str, current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv(kind, current, tmp_path / "venv")
    lines = (venv / "pyvenv.cfg").read_text().splitlines()
    link = tmp_path / "tool"
    link.symlink_to(venv / "bin" / "python")
    assert sys_info(link)["prefix"] != str(venv)

    assert main(["convert", str(venv)]) == 0
    converted = (venv / "pyvenv.cfg").read_text().splitlines()
    assert set(lines) <= set(converted), "every existing line is kept"
    assert f"venvlink-executable = {current.real}" in converted or any(
        line.startswith("venvlink-executable = ") and Path(line.split(" = ")[1]).resolve() == current.real
        for line in converted
    )
    assert is_stub(venv / "bin" / "python")
    assert sys_info(link)["prefix"] == str(venv)
    assert main(["convert", str(venv)]) == 0  # idempotent
    assert (venv / "pyvenv.cfg").read_text().splitlines() == converted

    assert main(["convert", "--revert", str(venv)]) == 0
    assert (venv / "bin" / "python").is_symlink()
    assert Path(os.path.realpath(venv / "bin" / "python")) == current.real
    assert (venv / "pyvenv.cfg").read_text().splitlines() == lines
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)
    assert main(["convert", "--revert", str(venv)]) == 0  # idempotent


def test_convert_refuses_a_venv_whose_base_is_gone(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("stdlib", current, tmp_path / "venv")
    cfg = venv / "pyvenv.cfg"
    text = cfg.read_text().replace(str(current.path.parent), str(tmp_path / "moved"))
    text = "\n".join(line for line in text.splitlines() if not line.startswith("executable"))
    cfg.write_text(text + "\n")
    code, _, err = venvlink("convert", venv)
    assert code == 1
    assert f"cannot convert {venv}: no python in {tmp_path / 'moved'}" in err
    assert (venv / "bin" / "python").is_symlink()
    assert cfg.read_text() == text + "\n"


def test_convert_refuses_other_implementations(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("builtin", current, tmp_path / "venv")
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace("implementation = CPython", "implementation = PyPy"))
    code, _, err = venvlink("convert", venv)
    assert code == 1
    assert "is not CPython" in err


def test_which_linkable(current: Interpreter, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    (tmp_path / "tool").symlink_to(venv / "bin" / "python")
    assert main(["which", str(tmp_path / "tool")]) == 0
    out = capsys.readouterr().out
    assert f"  -> {venv / 'bin' / 'python'}" in out
    assert f"sys.prefix  {venv}" in out
    assert main(["which", "--json", str(tmp_path / "tool")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["via_stub"] is True
    assert info["prefix"] == str(venv)
    assert info["named_by"] == "venvlink-executable"
    assert Path(info["runs"]).resolve() == current.real


def test_which_plain_venv_suggests_convert(
    current: Interpreter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = new_venv("stdlib", current, tmp_path / "venv")
    (tmp_path / "tool").symlink_to(venv / "bin" / "python")
    assert main(["which", str(tmp_path / "tool")]) == 0
    out = capsys.readouterr().out
    assert f"runs without the venv {venv}" in out
    assert f"fix: venvlink convert {venv}" in out
    assert main(["which", "--json", str(tmp_path / "tool")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["via_stub"] is False
    assert info["lost_venv"] == str(venv)


def test_which_reports_the_stub_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from venvlink._install import stub_path  # noqa: PLC0415

    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "python").write_bytes(stub_path().read_bytes())
    assert main(["which", "--json", str(tmp_path / "lone" / "python")]) == 1
    assert "no pyvenv.cfg beside" in json.loads(capsys.readouterr().out)["error"]


def test_remove(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    code, out, _ = venvlink("remove", tmp_path / "tool")
    assert code == 0
    assert out == f"removed {tmp_path / 'tool'}\n"
    assert not os.path.lexists(tmp_path / "tool")
    assert (venv / "bin" / "python").is_file(), "the venv is never touched"
    assert json.loads(venvlink("list", "--json")[1]) == []


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
    assert "already gone" in out
    assert json.loads(venvlink("list", "--json")[1]) == []


def test_doctor(current: Interpreter, tmp_path: Path) -> None:
    venvs = {name: new_venv("linkable", current, tmp_path / name) for name in ("a", "b", "c", "d")}
    for name, venv in venvs.items():
        assert main(["export", str(venv), str(tmp_path / f"tool-{name}")]) == 0
    code, out, _ = venvlink("doctor")
    assert (code, out) == (0, "all 4 exports are fine\n")

    (tmp_path / "tool-a").unlink()  # link missing
    assert main(["convert", "--revert", str(venvs["b"])]) == 0  # as `python -m venv --upgrade` would
    run(["rm", "-r", venvs["c"]])  # venv missing
    code, out, _ = venvlink("doctor")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{tmp_path / 'tool-a'}: link missing; re-create it: venvlink export --force")
    assert lines[1] == (
        f"{tmp_path / 'tool-b'}: not linkable; {venvs['b']}'s python is no longer venvlink's stub; "
        f"run: venvlink convert {venvs['b']}"
    )
    assert lines[2].startswith(f"{tmp_path / 'tool-c'}: venv missing; ")
    assert f"venvlink remove {tmp_path / 'tool-c'}" in lines[2]
    report = {e["dest"]: e for e in json.loads(venvlink("doctor", "--json")[1])}
    assert report[str(tmp_path / "tool-d")]["state"] == "ok"
    assert report[str(tmp_path / "tool-b")]["problems"][0]["fix"].endswith(f"venvlink convert {venvs['b']}")

    assert main(["convert", str(venvs["b"])]) == 0
    assert main(["remove", str(tmp_path / "tool-a")]) == 0
    assert main(["remove", str(tmp_path / "tool-c")]) == 0
    assert venvlink("doctor")[:2] == (0, "all 2 exports are fine\n")


def test_python_api(current: Interpreter, tmp_path: Path) -> None:
    import venvlink  # noqa: PLC0415

    venv = new_venv("stdlib", current, tmp_path / "venv")
    result = venvlink.export(venv, tmp_path / "tool")
    assert result.converted
    assert result.dest == tmp_path / "tool"
    resolution = venvlink.resolve(tmp_path / "tool")
    assert resolution.prefix == venv
    assert resolution.hops == [str(tmp_path / "tool"), str(venv / "bin" / "python")]
    assert venvlink.convert(venv).changed is False


def test_doctor_base_interpreter_gone(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(
        cfg.read_text().replace(f"venvlink-executable = {current.real}", "venvlink-executable = /gone/python3")
    )
    code, out, _ = venvlink("doctor")
    assert code == 1
    assert out == (
        f"{tmp_path / 'tool'}: cannot run; interpreter /gone/python3 named by venvlink-executable in {cfg} "
        "does not exist; the Python this venv was made from was moved or removed (recreate the venv)\n"
    )


def test_convert_repairs_a_pyvenv_cfg_that_lost_the_keys(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("linkable", current, tmp_path / "venv")
    cfg = venv / "pyvenv.cfg"
    cfg.write_text("".join(line for line in cfg.read_text().splitlines(True) if not line.startswith("venvlink")))
    code, out, _ = venvlink("convert", venv)
    assert code == 0
    assert out == f"converted {venv}: pyvenv.cfg names {current.real} for the stub again\n"
    assert "venvlink-executable" in cfg.read_text()
