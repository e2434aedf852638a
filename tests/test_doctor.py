"""venvlink list and doctor: the state of everything venvlink made, a fix for each problem, and doctor --fix."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from helpers import Interpreter, make_stale, make_venv, run, venvlink
from virtualenv_linkable import _doctor, _stub
from virtualenv_linkable.__main__ import main


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_doctor(current: Interpreter, tmp_path: Path) -> None:
    venvs = {name: make_venv(current, tmp_path / name) for name in ("a", "b", "c", "d")}
    for name, venv in venvs.items():
        assert main(["export", str(venv), str(tmp_path / f"tool-{name}")]) == 0
    code, out, _ = venvlink("doctor")
    assert (code, out) == (0, "all 4 exports are fine\n")

    (tmp_path / "tool-a").unlink()  # link missing
    assert main(["convert", "--revert", str(venvs["b"])]) == 0  # as a tool that recreates the venv would
    run(["rm", "-r", venvs["c"]])  # venv missing
    code, out, _ = venvlink("doctor")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0] == (
        f"{tmp_path / 'tool-a'}: link missing; {tmp_path / 'tool-a'} is gone; to forget it: venvlink remove "
        f"{tmp_path / 'tool-a'}; fix: venvlink export --force {venvs['a']} {tmp_path / 'tool-a'}"
    )
    assert lines[1] == (
        f"{tmp_path / 'tool-b'}: recreated; {venvs['b'] / 'bin' / 'python'} is no longer venvlink's stub (a tool "
        "recreated or reverted the venv): a link to it runs the base interpreter without the venv; "
        f"fix: venvlink convert {venvs['b']} (venvlink doctor --fix does it)"
    )
    assert lines[2].startswith(f"{tmp_path / 'tool-c'}: venv missing; ")
    assert lines[2].endswith(f"; fix: venvlink remove {tmp_path / 'tool-c'}")
    report = json.loads(venvlink("doctor", "--json")[1])
    assert report["schema"] == 2
    exports = {e["dest"]: e for e in report["exports"]}
    assert exports[str(tmp_path / "tool-d")]["state"] == "ok"
    assert exports[str(tmp_path / "tool-b")]["problems"] == [
        {
            "what": "recreated",
            "detail": lines[1].split("; ")[1].removesuffix(" (venvlink doctor --fix does it)"),
            "fix": ["venvlink", "convert", str(venvs["b"])],
            "automatic": True,
        }
    ]

    code, out, _ = venvlink("doctor", "--fix")
    assert code == 1, "what needs a choice is left, with its command"
    assert out.splitlines()[0] == f"fixed {venvs['b']} (recreated): converted it again"
    assert f"forgot {venvs['c']}, which is gone" not in out, "an exported venv gone is a choice: remove the export"
    assert venvlink("remove", tmp_path / "tool-a")[0] == 0
    assert venvlink("remove", tmp_path / "tool-c")[0] == 0
    code, out, _ = venvlink("doctor", "--fix")
    assert (code, out.splitlines()[-1]) == (0, "all 2 exports and 1 converted venv are fine")


def test_doctor_names_stale_stubs_and_fixes_them(current: Interpreter, tmp_path: Path) -> None:
    """After an upgrade of venvlink, the venvs made by the old one: named, with the fix that upgrades them."""
    venv = make_venv(current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    make_stale(venv)
    code, out, _ = venvlink("doctor")
    assert code == 1
    assert out == (
        f"{tmp_path / 'tool'}: stale stub; {venv}'s stubs are not the installed venvlink's; "
        f"fix: venvlink convert {venv} (venvlink doctor --fix does it)\n"
    )
    code, out, _ = venvlink("doctor", "--fix")
    assert (code, out) == (
        0,
        f"fixed {venv} (stale stub): converted it again\nthe 1 export is fine\n",
    )


def test_converted_venvs_are_remembered(current: Interpreter, tmp_path: Path) -> None:
    """tox, hatch and pre-commit envs converted and never exported: list shows them, doctor --fix refreshes their
    stubs, converts them again when a tool recreated them, and forgets them when they are gone."""
    tox_env, hatch_env, gone = (make_venv(current, tmp_path / n) for n in ("tox-py", "hatch-env", "gone"))
    listed = json.loads(venvlink("list", "--json")[1])
    assert [v["venv"] for v in listed["venvs"]] == sorted(str(v) for v in (gone, hatch_env, tox_env))
    assert listed["exports"] == []
    make_stale(tox_env)
    run([current.path, "-m", "venv", "--clear", "--without-pip", hatch_env])  # recreated, plain
    shutil.rmtree(gone)
    states = {v["venv"]: v["state"] for v in json.loads(venvlink("list", "--json")[1])["venvs"]}
    assert states == {str(tox_env): "stale stub", str(hatch_env): "recreated", str(gone): "gone"}
    code, out, _ = venvlink("doctor", "--fix")
    assert code == 0, out
    assert f"fixed {tox_env} (stale stub): converted it again" in out
    assert f"fixed {hatch_env} (recreated): converted it again" in out
    assert f"forgot {gone}, which is gone" in out
    assert out.splitlines()[-1] == "all 2 converted venvs are fine"
    assert _stub.is_current((tox_env / "bin" / "python").read_bytes())
    assert _stub.is_stub(hatch_env / "bin" / "python")


def test_doctor_base_interpreter_gone(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(
        cfg.read_text().replace(f"venvlink-executable = {current.real}", "venvlink-executable = /gone/python3")
    )
    code, out, _ = venvlink("doctor")
    assert code == 1
    assert out.startswith(f"{tmp_path / 'tool'}: interpreter gone; its interpreter /gone/python3 was removed")
    assert "; fix: venvlink convert --python " in out
    assert out.count("\n") == 1


def test_convert_repairs_a_pyvenv_cfg_that_lost_the_keys(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    cfg = venv / "pyvenv.cfg"
    cfg.write_text("".join(line for line in cfg.read_text().splitlines(True) if not line.startswith("venvlink")))
    assert json.loads(venvlink("list", "--json")[1])["venvs"][0]["state"] == "keys lost"
    code, out, _ = venvlink("convert", venv)
    assert code == 0
    assert out == f"converted {venv}: pyvenv.cfg names {current.real} for the stub again\n"
    assert "venvlink-executable" in cfg.read_text()


def test_remove_forget_leaves_a_link_repointed_by_hand(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    (tmp_path / "tool").unlink()
    (tmp_path / "tool").symlink_to("/usr/bin/env")
    assert json.loads(venvlink("list", "--json")[1])["exports"][0]["state"] == "link changed"
    code, _, err = venvlink("remove", tmp_path / "tool")
    assert code == 1
    assert f"to forget it and keep it: venvlink remove --forget {tmp_path / 'tool'}" in err
    assert venvlink("remove", "--forget", tmp_path / "tool")[:2] == (
        0,
        f"forgot {tmp_path / 'tool'}; the link is left as it is\n",
    )
    assert os.readlink(tmp_path / "tool") == "/usr/bin/env"
    assert json.loads(venvlink("list", "--json")[1])["exports"] == []


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({"dest": None}, "has fields ['dest'], not"),
        (["not", "a", "dict"], "has fields list"),
        ({"dest": "X", "venv": 3, "target": "t", "name": "python", "created": "c"}, "has venv not a non-empty string"),
        ({"dest": "relative", "venv": "/v", "target": "t", "name": "python", "created": "c"}, "not an absolute path"),
    ],
)
def test_malformed_entries_are_reported_and_kept(entry: object, why: str, current: Interpreter, tmp_path: Path) -> None:
    """One bad entry costs nothing else: list, doctor and export work, doctor names it, remove forgets it."""
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    registry.parent.mkdir(parents=True, exist_ok=True)
    dest = "relative" if "absolute" in why else str(tmp_path / "bad")
    if isinstance(entry, dict) and entry.get("dest") == "X":
        entry["dest"] = dest
    registry.write_text(json.dumps({"format": 1, "exports": {dest: entry}}))
    venv = make_venv(current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    assert json.loads(registry.read_text())["exports"][dest] == entry, "kept as it was"
    code, out, _ = venvlink("doctor")
    assert code == 1
    assert out.startswith(f"{dest}: malformed; its registry entry ")
    assert why in out
    assert f"fix: venvlink remove {dest}" in out
    code, out, _ = venvlink("list")
    assert code == 0
    assert f"{dest} -> ?  [malformed]" in out
    if dest != "relative":
        assert venvlink("remove", dest)[:2] == (
            0,
            f"forgot {dest}'s malformed registry entry; any file there is left as it is\n",
        )
        assert dest not in json.loads(registry.read_text())["exports"]


def test_one_venv_made_to_fail_stops_no_other(current: Interpreter, tmp_path: Path) -> None:
    """The seventh review: a venv another user made again where root's converted venv was (/tmp), with an
    interpreter name too long for the file system, or a stub whose recorded slot is full (no NUL), stopped root's
    list, doctor and doctor --fix for every entry ("File name too long"; "reinstall venvlink"); the eighth, a
    link in its bin/ to a name too long."""
    long_name, full_slot, long_link, fine = (make_venv(current, tmp_path / n) for n in ("long", "full", "link", "fine"))
    (long_link / "bin" / "zz").symlink_to("a" * 300)  # the eighth review: reading bin/ failed outside the check
    cfg = long_name / "pyvenv.cfg"
    cfg.write_text(
        cfg.read_text().replace(f"venvlink-executable = {current.real}", f"venvlink-executable = /{'0' * 300}")
    )
    stub = full_slot / "bin" / "python"
    data = bytearray(stub.read_bytes())
    at = _stub._note(bytes(data))
    assert at is not None
    size = _stub._recorded_size(bytes(data), at)
    data[at + _stub._RECORDED_AT : at + _stub._RECORDED_AT + size] = b"/x" * (size // 2)
    stub.unlink()
    stub.write_bytes(bytes(data))
    stub.chmod(0o755)
    states = {v["venv"]: v["state"] for v in json.loads(venvlink("list", "--json")[1])["venvs"]}
    assert states == {
        str(long_name): "interpreter gone",
        str(full_slot): "stale stub",
        str(long_link): "ok",  # a link in bin/ that names no interpreter is not one of its entries
        str(fine): "ok",
    }
    code, out, err = venvlink("which", stub)
    assert code == 0, err
    assert err == f"warning: this stub is not the installed venvlink's; upgrade it: venvlink convert {full_slot}\n"
    code, out, err = venvlink("doctor", "--fix")
    assert code == 1, "the long name needs a choice of yours"
    assert f"fixed {full_slot} (stale stub): converted it again" in out, out + err
    assert _stub.is_current(stub.read_bytes())


def test_an_entry_whose_check_fails_is_reported_alone(
    current: Interpreter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever a venv's files make fail (an error venvlink did not foresee), that entry is ``unreadable`` and
    every other is checked."""
    broken, fine = make_venv(current, tmp_path / "broken"), make_venv(current, tmp_path / "fine")
    checks = _doctor._venv_checks

    def failing(venv: str, *args: object, **kwargs: object) -> object:
        if venv == str(broken):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(broken / "pyvenv.cfg"))
        return checks(venv, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_doctor, "_venv_checks", failing)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert out == f"{broken} (converted)  [unreadable]\n{fine} (converted)  [ok]\n"
