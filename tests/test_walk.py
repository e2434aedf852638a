"""The walk of docs/walk.rst: the shared table tests/walk_cases.json run against the C stub and its mirror."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from venvlink import resolve
from venvlink._install import stub_path

STUB_SOURCE = Path(__file__).parent.parent / "src" / "venvlink" / "_stub" / "stub.c"
SANITIZE = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "walk_cases.json").read_text())["cases"]

PRINTER_C = r"""
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    char self[PATH_MAX];
    puts(realpath("/proc/self/exe", self));
    for (int i = 0; i < argc; i++)
        puts(argv[i]);
    return 0;
}
"""


def compiler() -> str:
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler (cc) to build a test program")
    return cc


@pytest.fixture(scope="session", params=["release", "asan+ubsan"])
def stub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stub the table runs against: the packaged build, and one under AddressSanitizer and UBSan."""
    if request.param == "release":
        return stub_path()
    directory = tmp_path_factory.mktemp("asan")
    built = subprocess.run(
        [compiler(), "-std=c99", *SANITIZE, "-o", directory / "stub", STUB_SOURCE], capture_output=True, check=False
    )
    if built.returncode != 0:
        pytest.skip(f"{compiler()} cannot build with -fsanitize=address,undefined: {built.stderr[-200:]!r}")
    return directory / "stub"


@pytest.fixture(scope="session")
def printer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in interpreter that prints which file runs and the argv it got."""
    directory = tmp_path_factory.mktemp("printer")
    (directory / "printer.c").write_text(PRINTER_C)
    subprocess.run([compiler(), "-o", directory / "printer", directory / "printer.c"], check=True)
    return directory / "printer"


def build_layout(root: Path, case: dict[str, Any], printer: Path, stub: Path | None = None) -> None:
    if case.get("owners") and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    for relative, spec in case["layout"].items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, dict):
            text = spec["repeat"].replace("{root}", str(root)) * spec["times"]
            if "pad_to" in spec:  # a comment line fills the file to exactly pad_to bytes
                text += "#" * (spec["pad_to"] - len(text.encode()) - 1) + "\n"
            path.write_text(text)
        elif spec == "dir":
            path.mkdir(exist_ok=True)
        elif spec == "stub":
            shutil.copy(stub or stub_path(), path)
        elif spec == "python":
            shutil.copy(printer, path)
        elif spec.startswith("link:"):
            path.symlink_to(spec[len("link:") :].replace("{root}", str(root)))
        else:
            path.write_text(spec.replace("{root}", str(root)))
            path.chmod(0o755)
    for relative, mode in case.get("modes", {}).items():
        (root / relative).chmod(int(mode, 8))
    for relative, uid in case.get("owners", {}).items():
        os.chown(root / relative, uid, -1)


def case_argv0(case: dict[str, Any], root: Path) -> str:
    return str(case.get("argv0", "{root}/" + case["run"])).replace("{root}", str(root))


def case_path(case: dict[str, Any], root: Path) -> str:
    return os.pathsep.join(str(root / p) for p in case.get("path", [])) or str(root / "no-such-dir")


def run_case(
    case: dict[str, Any], root: Path, printer: Path, stub: Path | None = None
) -> subprocess.CompletedProcess[str]:
    build_layout(root, case, printer, stub)
    argv0, search = case_argv0(case, root), case_path(case, root)
    return subprocess.run(
        [argv0, "-c", "pass"],
        executable=root / case["run"],
        env={"PATH": search},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_stub_walk(case: dict[str, Any], tmp_path: Path, printer: Path, stub: Path) -> None:
    root = tmp_path.resolve() / "case"
    result = run_case(case, root, printer, stub)
    expect = case["expect"]
    assert result.returncode == expect["status"], result.stderr
    if expect["status"] == 0:
        executed, argv0, *arguments = result.stdout.splitlines()
        assert executed == str((root / expect["exec"]).resolve())
        assert argv0 == str(root / expect["argv0"])
        assert arguments == ["-c", "pass"]
        assert result.stderr == ""
    else:
        assert result.stdout == ""
        assert result.stderr.startswith("venvlink: ")
        assert result.stderr.count("\n") == 1, "errors are one line"
        assert expect["error"].replace("{root}", str(root)) in result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_mirror_walk(case: dict[str, Any], tmp_path: Path, printer: Path) -> None:
    if "stub_only" in case:
        pytest.skip(f"stub only: {case['stub_only']}")
    root = tmp_path.resolve() / "case"
    build_layout(root, case, printer)
    resolution = resolve(root / case["run"], argv0=case_argv0(case, root), search_path=case_path(case, root))
    expect = case["expect"]
    assert resolution.via_stub
    if expect["status"] == 0:
        assert resolution.error is None
        assert resolution.executable is not None
        assert resolution.executable.resolve() == (root / expect["exec"]).resolve()
        assert resolution.argv0 == str(root / expect["argv0"])
        assert resolution.prefix == (root / expect["argv0"]).parent.parent
    else:
        assert resolution.error is not None
        assert expect["error"].replace("{root}", str(root)) in resolution.error


def test_mirror_and_stub_say_the_same(tmp_path: Path, printer: Path) -> None:
    """Not only the same outcome: the same words, for every error case of the table."""
    for index, case in enumerate(c for c in CASES if c["expect"]["status"] == 127):
        root = tmp_path.resolve() / str(index)
        result = run_case(case, root, printer)
        resolution = resolve(root / case["run"], argv0=case_argv0(case, root), search_path=case_path(case, root))
        assert result.stderr == f"venvlink: {resolution.error}\n", case["name"]


def test_debug_traces_every_hop(tmp_path: Path, printer: Path) -> None:
    case = next(c for c in CASES if c["name"] == "three hops, relative and absolute")
    root = tmp_path.resolve() / "case"
    build_layout(root, case, printer)
    result = subprocess.run(
        [root / "a" / "one"], env={"VENVLINK_DEBUG": "1"}, capture_output=True, text=True, check=True
    )
    trace = result.stderr.splitlines()
    assert [line.split(": ", 2)[2] for line in trace if line.startswith("venvlink: hop")] == [
        f"{root}/a/one",
        f"{root}/a/../b/two",
        f"{root}/c/three",
        f"{root}/c/../v/bin/python",
    ]
    assert f"venvlink: pyvenv.cfg: {root}/c/../v/pyvenv.cfg" in trace
    assert f"venvlink: exec {root}/base/python3.11 with argv[0] = {root}/v/bin/python" in trace


def test_argc_zero_runs_own_venv(tmp_path: Path, printer: Path) -> None:
    """A program may exec the stub with an empty argv; the stub then starts from its own path."""
    case = CASES[0]
    root = tmp_path.resolve() / "case"
    build_layout(root, case, printer)
    # CPython's os.execve refuses an empty argv, so a few lines of C do it.
    launcher = tmp_path / "argc0.c"
    launcher.write_text(
        "#include <unistd.h>\nint main(int c, char **v) { char *a[] = {0}, *e[] = {0}; (void)c;"
        " execve(v[1], a, e); return 99; }\n"
    )
    subprocess.run([os.environ.get("CC", "cc"), "-o", tmp_path / "argc0", launcher], check=True)
    result = subprocess.run([tmp_path / "argc0", root / "v/bin/python"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(root / "base/python3.11"), str(root / "v/bin/python")]


def test_valgrind_memcheck_is_clean(tmp_path: Path, printer: Path) -> None:
    """Every case of the table once under memcheck. valgrind shows the stub its own binary as /proc/self/exe,
    so argv[0] is never trusted there: the outcome may be the stub's own venv, but memory use must be clean."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        pytest.skip("valgrind is not installed")
    for index, case in enumerate(CASES):
        if case["expect"]["status"] == 126:
            continue  # valgrind itself dies when execve fails ("I can't recover from execve() failing")
        root = tmp_path.resolve() / str(index)
        build_layout(root, case, printer)
        result = subprocess.run(
            [valgrind, "-q", "--error-exitcode=99", "--leak-check=no", root / case["run"], "-c", "pass"],
            env={"PATH": case_path(case, root)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 99, f"{case['name']}: {result.stderr}"
        assert "==" not in result.stderr, f"{case['name']}: {result.stderr}"
