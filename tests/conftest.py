"""Test set-up: the interpreter matrix, an isolated HOME, and the base interpreters' integrity."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from helpers import Interpreter, build_demo_wheel, find_interpreters, make_venv, run

if TYPE_CHECKING:
    from collections.abc import Iterator

INTERPRETERS = find_interpreters()
_ran: Counter[str] = Counter()
# where to write the matrix, for .ci/run's check of README.md's "tested on" list (.ci/tested-on.py)
MATRIX = os.environ.get("VENVLINK_TEST_MATRIX")


def pytest_report_header() -> list[str]:
    if not INTERPRETERS:
        return ["venvlink interpreters: none found (set VENVLINK_TEST_PYTHONS to a list of python3.X paths)"]
    return ["venvlink interpreters: " + ", ".join(f"{i.id} ({i.path})" for i in INTERPRETERS)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "interpreter" in metafunc.fixturenames:
        params = [pytest.param(i, id=i.id) for i in INTERPRETERS] or [
            pytest.param(
                None, marks=pytest.mark.skip(reason="no CPython 3.8+ or PyPy 3 found; set VENVLINK_TEST_PYTHONS")
            )
        ]
        metafunc.parametrize("interpreter", params, scope="session")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and "[" in report.nodeid:
        for interpreter in INTERPRETERS:
            if f"[{interpreter.id}" in report.nodeid or f"-{interpreter.id}]" in report.nodeid:
                _ran[interpreter.id] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("venvlink interpreter matrix")
    for interpreter in INTERPRETERS:
        passed = _ran[interpreter.id]
        terminalreporter.write_line(
            f"{interpreter.id:24} {interpreter.machine:8} {interpreter.path}: {passed} tests passed"
        )
    if not INTERPRETERS:
        terminalreporter.write_line("no interpreters found: the interpreter-level tests were skipped")
    if MATRIX:
        ran = [
            {
                "implementation": i.implementation,
                "version": i.full_version,
                "machine": i.machine,
                "path": str(i.path),
                "origin": i.origin,
                "passed": _ran[i.id],
            }
            for i in INTERPRETERS
        ]
        with open(MATRIX, "w", encoding="utf-8") as file:
            json.dump({"machine": platform.machine(), "interpreters": ran}, file, indent=1)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session", autouse=True)
def _base_interpreters_unchanged() -> Iterator[None]:
    """Hard rule 1: nothing may write through a venv's bin/python into the interpreter it links to."""
    before = {i.real: _digest(i.real) for i in INTERPRETERS}
    yield
    changed = [str(path) for path, digest in before.items() if _digest(path) != digest]
    assert not changed, f"base interpreters were modified: {changed}"


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep HOME, the XDG dirs and virtualenv's app data inside the test's temporary directory."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("VIRTUALENV_", "PIP_", "PYTHON", "VENVLINK_")) or name in {
                "VIRTUAL_ENV",
                "CONDA_PREFIX",
            }:
                patch.delenv(name)
        patch.setenv("HOME", str(home))
        for name, sub in [
            ("XDG_DATA_HOME", ".local/share"),
            ("XDG_CONFIG_HOME", ".config"),
            ("XDG_CACHE_HOME", ".cache"),
            ("XDG_STATE_HOME", ".local/state"),
        ]:
            patch.setenv(name, str(home / sub))
        patch.setenv("VIRTUALENV_NO_PERIODIC_UPDATE", "1")
        patch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        patch.setenv("PIP_NO_INDEX", "1")
        patch.setenv("PIP_NO_CACHE_DIR", "1")
        patch.setenv("PYTHONDONTWRITEBYTECODE", "1")
        yield


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A temporary directory other users can enter (pytest's own are private to us)."""
    directory = Path(tempfile.mkdtemp(prefix="venvlink-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture(scope="session")
def our_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built from a copy of it: the build hook compiles the stub into the tree it
    builds, and the stub the other tests run is the checkout's."""
    root = Path(__file__).parent.parent
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "hatch_build.py", "README.md", "LICENSE"):
        shutil.copy(root / name, tree / name)
    shutil.copytree(root / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "venvlink-stub"))
    wheels = tmp_path_factory.mktemp("our-wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, tree])
    (wheel,) = wheels.glob("virtualenv_linkable-*.whl")
    return wheel


@pytest.fixture(scope="session")
def demo_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_wheel(tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="session")
def linkable(interpreter: Interpreter, demo_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded linkable venv with the demo package installed by its own pip. Tests must not change it."""
    venv = tmp_path_factory.mktemp(f"linkable-{interpreter.id}") / "venv"
    make_venv(interpreter, venv, pip=True)
    from helpers import run  # noqa: PLC0415

    run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", str(demo_wheel)])
    return venv


@pytest.fixture(scope="session")
def current() -> Interpreter:
    """The interpreter running the tests, for tests of creator options that do not vary by version."""
    found = Interpreter.probe(Path(getattr(sys, "_base_executable", sys.executable)))
    if found is None:
        pytest.skip(f"the interpreter running the tests ({sys.executable}) is not a CPython 3.8+ or PyPy 3")
    return found
