"""venvlink list and doctor: every export's state, one line per problem with the command that fixes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import Interpreter, make_venv, run, venvlink
from virtualenv_linkable import _stub
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
    report = {e["dest"]: e for e in json.loads(venvlink("doctor", "--json")[1])["exports"]}
    assert report[str(tmp_path / "tool-d")]["state"] == "ok"
    assert report[str(tmp_path / "tool-b")]["problems"][0]["fix"].endswith(f"venvlink convert {venvs['b']}")

    assert main(["convert", str(venvs["b"])]) == 0
    assert main(["remove", str(tmp_path / "tool-a")]) == 0
    assert main(["remove", str(tmp_path / "tool-c")]) == 0
    assert venvlink("doctor")[:2] == (0, "all 2 exports are fine\n")


def test_doctor_names_stale_stubs(current: Interpreter, tmp_path: Path) -> None:
    """After an upgrade of venvlink, the venvs made by the old one: named, with the fix that upgrades them."""
    venv = make_venv(current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    for entry in (venv / "bin").iterdir():
        if _stub.is_stub(entry):
            old = bytearray(entry.read_bytes())
            at = old.find(_stub.IDENTITY)
            old[at + 32 : at + 64] = b"0.1.9".ljust(32, b"\0")
            entry.write_bytes(bytes(old))
    code, out, _ = venvlink("doctor")
    assert code == 1
    assert out == (
        f"{tmp_path / 'tool'}: stale stub; {venv}'s stubs are not the installed venvlink's (upgrade them): "
        f"venvlink convert {venv}\n"
    )
    assert main(["convert", str(venv)]) == 0
    assert venvlink("doctor")[:2] == (0, "all 1 exports are fine\n")


def test_doctor_base_interpreter_gone(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(
        cfg.read_text().replace(f"venvlink-executable = {current.real}", "venvlink-executable = /gone/python3")
    )
    code, out, _ = venvlink("doctor")
    assert code == 1
    assert out.startswith(f"{tmp_path / 'tool'}: ")
    assert "/gone/python3" in out
    assert out.count("\n") == 1


def test_convert_repairs_a_pyvenv_cfg_that_lost_the_keys(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    cfg = venv / "pyvenv.cfg"
    cfg.write_text("".join(line for line in cfg.read_text().splitlines(True) if not line.startswith("venvlink")))
    code, out, _ = venvlink("convert", venv)
    assert code == 0
    assert out == f"converted {venv}: pyvenv.cfg names {current.real} for the stub again\n"
    assert "venvlink-executable" in cfg.read_text()


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
    registry.parent.mkdir(parents=True)
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
    assert f"forget it: venvlink remove {dest}" in out
    code, out, _ = venvlink("list")
    assert code == 0
    assert f"{dest} -> ?  [malformed]" in out
    if dest != "relative":
        assert venvlink("remove", dest)[0] == 0
        assert dest not in json.loads(registry.read_text())["exports"]
