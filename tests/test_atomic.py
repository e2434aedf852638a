"""Directories held open, renames, and steps undone in reverse: never through a link, never half done."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from virtualenv_linkable._atomic import Directory, Steps, temporary_name
from virtualenv_linkable.exceptions import VenvlinkError


def test_write_replaces_a_link_never_its_target(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.write_bytes(b"\x7fELF the system's python")
    (tmp_path / "python").symlink_to(precious)
    with Directory.open(tmp_path) as directory:
        directory.write("python", b"stub", 0o755, durable=True)
        assert directory.is_link("python") is False
    assert precious.read_bytes() == b"\x7fELF the system's python"
    assert (tmp_path / "python").read_bytes() == b"stub"
    assert oct((tmp_path / "python").stat().st_mode & 0o777) == "0o755"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious", "python"], "no temporary name left"


def test_symlink_replaces_whatever_is_there(tmp_path: Path) -> None:
    (tmp_path / "entry").write_text("a file")
    with Directory.open(tmp_path) as directory:
        directory.symlink("entry", "/usr/bin/python3")
        assert directory.readlink("entry") == "/usr/bin/python3"


def test_sub_refuses_a_symlink_to_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "bin").symlink_to(tmp_path / "elsewhere")
    with Directory.open(tmp_path) as directory, pytest.raises(VenvlinkError) as refused:
        directory.sub("bin")
    assert str(refused.value) == (
        f"{tmp_path / 'bin'} is a symlink (to {tmp_path / 'elsewhere'}); venvlink changes only what is inside the "
        "venv itself: put the directory in its place"
    )
    with pytest.raises(VenvlinkError, match=r"cannot open the directory .*: No such file or directory"):
        Directory.open(tmp_path / "missing")


def test_a_held_directory_is_the_one_changed_whatever_its_path_names(tmp_path: Path) -> None:
    (tmp_path / "venv").mkdir()
    with Directory.open(tmp_path / "venv") as held:
        (tmp_path / "venv").rename(tmp_path / "moved")
        (tmp_path / "venv").mkdir()
        held.write("pyvenv.cfg", b"home = /usr/bin\n", 0o644)
    assert (tmp_path / "moved" / "pyvenv.cfg").exists()
    assert not (tmp_path / "venv" / "pyvenv.cfg").exists()


def test_link_aside_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a file system without hard links, the file is copied aside, mode and all."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "libexec").mkdir()
    (tmp_path / "bin" / "python").write_bytes(b"a copy of python")
    (tmp_path / "bin" / "python").chmod(0o751)

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    with Directory.open(tmp_path / "bin") as bin_dir, Directory.open(tmp_path / "libexec") as libexec:
        bin_dir.link_aside("python", libexec, "python")
    aside = tmp_path / "libexec" / "python"
    assert (aside.read_bytes(), oct(aside.stat().st_mode & 0o777)) == (b"a copy of python", "0o751")


def test_link_aside_refuses_to_replace_another_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "python").write_text("mine")
    (tmp_path / "b" / "python").write_text("someone else's")
    with Directory.open(tmp_path / "a") as a, Directory.open(tmp_path / "b") as b:
        with pytest.raises(VenvlinkError, match=r"already exists; move it away, then run this again"):
            a.link_aside("python", b, "python")
        os.unlink(tmp_path / "b" / "python")
        a.link_aside("python", b, "python")
        a.link_aside("python", b, "python")  # linked aside already, by an interrupted run: nothing to do
    assert (tmp_path / "b" / "python").stat().st_ino == (tmp_path / "a" / "python").stat().st_ino


def test_steps_undo_in_reverse_and_finish(tmp_path: Path) -> None:
    done: list[str] = []
    with pytest.raises(RuntimeError), Steps() as steps:
        steps.did(lambda: done.append("undo first"))
        steps.did(lambda: done.append("undo second"))
        steps.finally_(lambda: done.append("finally"))
        raise RuntimeError
    assert done == ["undo second", "undo first", "finally"]
    done.clear()
    with Steps() as steps:
        steps.did(lambda: done.append("undo"))
        steps.finally_(lambda: done.append("finally"))
    assert done == ["finally"], "nothing undone when the block succeeds"


def test_keep_aside_mkdir_rmdir_unlink(tmp_path: Path) -> None:
    (tmp_path / "python3.12").write_bytes(b"the base, copied")
    with Directory.open(tmp_path) as directory:
        aside = directory.keep_aside("python3.12")
        assert (tmp_path / aside).read_bytes() == b"the base, copied"
        assert directory.mkdir("libexec") is True
        assert directory.mkdir("libexec") is False
        (tmp_path / "libexec" / "x").write_text("x")
        directory.rmdir_if_empty("libexec")
        assert (tmp_path / "libexec").is_dir(), "not empty: kept"
        directory.unlink(aside)
        directory.unlink(aside)  # gone already: nothing to do
    assert not (tmp_path / aside).exists()


@pytest.mark.parametrize("name", ["t" * 255, "é" * 127 + "x", "tool"])
def test_a_temporary_name_fits_in_a_directory(name: str, tmp_path: Path) -> None:
    """Beside a name of 237 bytes or more, the temporary name went past 255 bytes: such an entry or DEST could
    never be converted or exported."""
    temporary = temporary_name(name)
    assert len(os.fsencode(temporary)) <= 255
    (tmp_path / temporary).touch()
    assert temporary.startswith(".") and temporary.endswith(".venvlink")
