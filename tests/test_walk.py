"""The walk of docs/walk.rst: tests/walk_cases.json, run against the stub for real and in its explain mode.

The stub is the only implementation of the walk. Each case runs twice, once exec'ing a stand-in interpreter and
once as `stub --venvlink-explain`, and the two must agree to the word: what venvlink's command reports is what runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from helpers import ARM64, STUB_SOURCE, compiler, macho, macho_note
from virtualenv_linkable import _macho, _stub, resolve
from virtualenv_linkable.exceptions import VenvlinkError

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


# Another build of the stub to run the table against, and what runs it: the release's aarch64 build under
# qemu-user (.ci/dist), a build that records coverage (.ci/coverage).
GIVEN_STUB = os.environ.get("VENVLINK_TEST_STUB")
GIVEN_RUNNER = os.environ.get("VENVLINK_TEST_STUB_RUNNER")
GIVEN_RUNNER = GIVEN_RUNNER and (shutil.which(GIVEN_RUNNER) or GIVEN_RUNNER)  # the cases run with a PATH of their own


@pytest.fixture(scope="session", params=["release", "asan+ubsan", "given"])
def stub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stub the table runs against: the packaged build, one under AddressSanitizer and UBSan, and the one
    VENVLINK_TEST_STUB names, if any."""
    if request.param == "release":
        return _stub.template()
    if request.param == "given":
        if not GIVEN_STUB:
            pytest.skip(
                "no VENVLINK_TEST_STUB (.ci/dist sets it to the aarch64 build, .ci/stub-coverage to a gcov one)"
            )
        return Path(GIVEN_STUB)
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


def make(path: Path, spec: str | dict[str, Any], root: Path, printer: Path, stub_bytes: bytes) -> None:
    """One entry of a case's layout (see the table's "about")."""
    if isinstance(spec, dict):
        text = spec["repeat"].replace("{root}", str(root)) * spec["times"]
        if "pad_to" in spec:  # a comment line fills the file to exactly pad_to bytes
            text += "#" * (spec["pad_to"] - len(text.encode()) - 1) + "\n"
        path.write_text(text)
    elif spec in {"dir", "fifo", "python"}:
        {"dir": path.mkdir, "fifo": lambda: os.mkfifo(path), "python": lambda: shutil.copy(printer, path)}[spec]()
    elif spec.startswith("link:"):
        path.symlink_to(spec[len("link:") :].replace("{root}", str(root)))
    else:
        recorded = spec.partition(":")[2].replace("{root}", str(root))
        if spec.startswith("stub"):
            path.write_bytes(_stub.with_recorded(stub_bytes, recorded) if recorded else stub_bytes)
        else:
            path.write_text(spec.replace("{root}", str(root)))
        path.chmod(0o755)


def build_layout(root: Path, case: dict[str, Any], printer: Path, stub: Path | None = None) -> None:
    if (case.get("owners") or case.get("link_owners")) and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    stub_bytes = (stub or _stub.template()).read_bytes()
    for relative, spec in case["layout"].items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        make(root / relative, spec, root, printer, stub_bytes)
    for relative, mode in case.get("modes", {}).items():
        (root / relative).chmod(int(mode, 8))
    for relative, uid in case.get("owners", {}).items():
        os.chown(root / relative, uid, -1)
    for relative, uid in case.get("link_owners", {}).items():
        os.lchown(root / relative, uid, -1)


def run_case(
    case: dict[str, Any], root: Path, printer: Path, stub: Path | None = None, *, explain: bool = False
) -> subprocess.CompletedProcess[str]:
    build_layout(root, case, printer, stub)
    cwd = root / case.get("cwd", "")
    run = case["run"] if "cwd" in case else str(root / case["run"])
    argv0 = str(case.get("argv0", run)).replace("{root}", str(root))
    env = {"PATH": os.pathsep.join(str(root / p) for p in case.get("path", [])) or str(root / "no-such-dir")}
    arguments = [_stub.EXPLAIN] if explain else ["-c", "pass"]
    if stub is not None and str(stub) == GIVEN_STUB and GIVEN_RUNNER:  # qemu-user; the interpreter it execs is native
        runner = [GIVEN_RUNNER, "-0", argv0, run]
        return subprocess.run(
            [*runner, *arguments], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60
        )
    return subprocess.run(
        [argv0, *arguments], executable=run, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=5
    )


def expected(case: dict[str, Any], root: Path) -> dict[str, Any]:
    expect = dict(case["expect"])
    for key in ("exec", "argv0"):
        if key in expect:
            expect[key] = str(root / expect[key])
    expect["args"] = [a.replace("{root}", str(root)) for a in expect.get("args", ["-c", "pass"])]
    if "error" in expect:
        expect["error"] = expect["error"].replace("{root}", str(root))
    return expect


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_stub_walk(case: dict[str, Any], tmp_path: Path, printer: Path, stub: Path) -> None:
    if str(stub) == GIVEN_STUB and GIVEN_RUNNER and "args" in case["expect"]:
        pytest.skip("a #! script needs the kernel to run a foreign stub itself (binfmt_misc), not qemu-user")
    root = tmp_path.resolve() / "case"
    result = run_case(case, root, printer, stub)
    expect = expected(case, root)
    assert result.returncode == expect["status"], result.stderr
    if expect["status"] == 0:
        executed, argv0, *arguments = result.stdout.splitlines()
        assert executed == os.path.realpath(expect["exec"])
        assert argv0 == expect["argv0"]
        assert arguments == expect["args"]
        assert result.stderr == ""
    else:
        assert result.stdout == ""
        assert result.stderr.startswith("venvlink: ")
        assert result.stderr.count("\n") == 1, "errors are one line"
        assert expect["error"] in result.stderr


def record(output: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for item in output.split("\0")[:-1]:
        key, _, value = item.partition("=")
        fields.setdefault(key, []).append(value)
    return fields


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_explain_says_what_runs(case: dict[str, Any], tmp_path: Path, printer: Path, stub: Path) -> None:
    """One walk: the explain mode's record is the real run's outcome, to the word."""
    if case["run"].startswith("s/"):
        pytest.skip("a start as a #! script's interpreter is not explained: its first argument is the script")
    real = run_case(case, tmp_path.resolve() / "real", printer, stub)
    root = tmp_path.resolve() / "explained"
    explained = run_case(case, root, printer, stub, explain=True)
    fields = record(explained.stdout)
    if "explained" in case:
        assert (explained.returncode, fields["exec"]) == (0, [str(root / case["explained"]["exec"])])
        return
    assert explained.returncode == real.returncode
    assert fields["venvlink-explain"] == [_stub.version(stub.read_bytes())]
    assert fields["status"] == [str(real.returncode)]
    if real.returncode == 0:
        executed, argv0, *_ = real.stdout.replace(str(tmp_path.resolve() / "real"), str(root)).splitlines()
        assert os.path.realpath(fields["exec"][0]) == executed
        assert fields["argv0"] == [argv0]
        assert "error" not in fields
    else:
        message = real.stderr.replace(str(tmp_path.resolve() / "real"), str(root))
        assert fields["error"] == [message.removeprefix("venvlink: ").rstrip("\n")]
        assert explained.stderr == message


PLAIN_RUNS = [c for c in CASES if not {"cwd", "argv0", "path", "explained"} & set(c) and "args" not in c["expect"]]


@pytest.mark.parametrize("case", PLAIN_RUNS, ids=[c["name"] for c in PLAIN_RUNS])
def test_resolve_asks_the_stub(case: dict[str, Any], tmp_path: Path, printer: Path) -> None:
    """venvlink.resolve(), which the command uses, gives each case's outcome (the stub's batch explain mode)."""
    root = tmp_path.resolve() / "case"
    build_layout(root, case, printer)
    resolution = resolve(root / case["run"])
    expect = expected(case, root)
    assert resolution.via_stub
    if expect["status"] == 0:
        assert resolution.error is None
        assert resolution.executable == Path(os.path.realpath(expect["exec"]))
        assert resolution.argv0 == expect["argv0"]
    else:
        assert resolution.error is not None
        assert expect["error"] in resolution.error


def test_explain_paths_answers_each_path_as_explain_does(tmp_path: Path, printer: Path, stub: Path) -> None:
    """--venvlink-explain-paths (what venvlink's command uses) gives, for each path, the record a start there
    gives."""
    cases = [c for c in PLAIN_RUNS if not c.get("owners") and not c.get("link_owners")]
    paths = []
    for index, case in enumerate(cases):
        build_layout(tmp_path / str(index), case, printer, stub)
        paths.append(str(tmp_path / str(index) / case["run"]))
    runner = [GIVEN_RUNNER] if str(stub) == GIVEN_STUB and GIVEN_RUNNER else []
    env = {"PATH": "/nonexistent"}
    batch = subprocess.run([*runner, stub, _stub.EXPLAIN_PATHS, *paths], env=env, capture_output=True, check=False)
    assert batch.returncode == 0
    records = [f"venvlink-explain={r}" for r in batch.stdout.decode().split("venvlink-explain=")[1:]]
    assert len(records) == len(paths)
    for path, batched in zip(paths, records):
        alone = subprocess.run([*runner, path, _stub.EXPLAIN], env=env, capture_output=True, check=False)
        assert batched == alone.stdout.decode(), path


def test_a_41st_link_is_a_loop_as_for_the_kernel(tmp_path: Path, printer: Path, stub: Path) -> None:
    """The kernel will not exec a path through 41 links (ELOOP), so only a question about the path reaches the
    stub's limit: the 40-link chain of the table walks, one more link is refused as the kernel refuses it."""
    case = next(c for c in CASES if c["name"].startswith("a chain of 40 links"))
    build_layout(tmp_path, case, printer, stub)
    (tmp_path / "l-1").symlink_to("l0")
    runner = [GIVEN_RUNNER] if str(stub) == GIVEN_STUB and GIVEN_RUNNER else []
    paths = [str(tmp_path / "l0"), str(tmp_path / "l-1")]
    batch = subprocess.run([*runner, stub, _stub.EXPLAIN_PATHS, *paths], capture_output=True, check=False)
    forty, forty_one = batch.stdout.decode().split("venvlink-explain=")[1:]
    assert "\0status=0\0" in forty
    assert f"more than 40 symlinks from {tmp_path}/l-1 -> " in forty_one
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        subprocess.run([tmp_path / "l-1"], check=False)


@pytest.mark.parametrize(
    "name", ["a pyvenv.cfg that is a FIFO is not waited for", "an interpreter that is a FIFO is not waited for"]
)
def test_explaining_opens_no_fifo_or_device(name: str, tmp_path: Path, printer: Path, stub: Path) -> None:
    """Asked about a path (perhaps another user's, as root), the stub opens nothing but regular files: a FIFO's
    writer, blocked until a reader opens it, stays blocked (a device's open, such as a watchdog's, would act)."""
    case = next(c for c in CASES if c["name"] == name)
    root = tmp_path.resolve() / "case"
    build_layout(root, case, printer, stub)
    fifo = next(root / path for path, spec in case["layout"].items() if spec == "fifo")
    writer = threading.Thread(target=lambda: os.close(os.open(fifo, os.O_WRONLY)), daemon=True)
    writer.start()
    runner = [GIVEN_RUNNER] if str(stub) == GIVEN_STUB and GIVEN_RUNNER else []
    subprocess.run([*runner, stub, _stub.EXPLAIN_PATHS, root / case["run"]], capture_output=True, check=False)
    writer.join(timeout=0.5)
    opened = not writer.is_alive()
    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer go
    writer.join()
    assert not opened, f"explaining {case['run']} opened {fifo}"


def test_explaining_reads_no_file_of_size_0_nor_of_the_kernels(tmp_path: Path) -> None:
    """procfs files say their size is 0, sysfs files 4096, and reading one can take what others wait for (root
    reading /proc/kmsg drains the kernel's log), block, or clear a device's state: asked to explain, the stub reads
    no file of size 0 (it reads as empty), nor one of the kernel's file systems, as an interpreter or as a
    pyvenv.cfg. (strace shows the opens: a read of an empty file changes nothing else.)"""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (apt install strace)")
    kernels = next((Path(p) for p in ("/sys/kernel/uevent_seqnum", "/sys/kernel/profiling") if Path(p).is_file()), None)
    root = tmp_path.resolve()
    (root / "empty").touch(mode=0o755)
    cfgs = {"v": f"home = {root}\nvenvlink-executable = {root / 'empty'}\n", "w": ""}
    if kernels is not None:
        cfgs["k"] = f"home = {root}\nvenvlink-executable = {kernels}\n"
    for venv, cfg in cfgs.items():
        (root / venv / "bin").mkdir(parents=True)
        (root / venv / "bin" / "python").write_bytes(_stub.template().read_bytes())
        (root / venv / "bin" / "python").chmod(0o755)
        (root / venv / "pyvenv.cfg").write_text(cfg)
    log = tmp_path / "strace.log"
    paths = [root / venv / "bin" / "python" for venv in cfgs]
    subprocess.run(
        [strace, "-f", "-e", "trace=open,openat", "-o", log, _stub.template(), _stub.EXPLAIN_PATHS, *paths],
        capture_output=True,
        check=True,
    )
    lines = log.read_text().splitlines()
    reopened = [line for line in lines if '"/proc/self/fd/' in line]
    assert len(reopened) == len(cfgs) - 1, "only the pyvenv.cfg files not empty are read: not w's, nor interpreters"
    for looked_at in (root / "empty", kernels):
        if looked_at is not None:
            assert [line for line in lines if f'"{looked_at}"' in line and "O_PATH" in line], looked_at
            assert not [line for line in lines if f'"{looked_at}"' in line and "O_PATH" not in line], looked_at


def test_explaining_without_proc_answers_as_with_it(
    tmp_path: Path, printer: Path, stub: Path, request: pytest.FixtureRequest
) -> None:
    """Without /proc (a container, ``unshare -m``), explain mode cannot reopen the file it checked through
    ``/proc/self/fd``: it opens, then checks that the file is the one it checked, as where there is no O_PATH."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None or GIVEN_RUNNER:
        pytest.skip("unmounting /proc in a mount namespace of its own needs root and unshare, and a native stub")
    if request.node.callspec.params["stub"] == "asan+ubsan":
        pytest.skip("AddressSanitizer itself needs /proc")
    script = "umount -l /proc && test ! -e /proc/self"
    probe = subprocess.run([unshare, "--mount", "sh", "-c", script], capture_output=True, text=True, check=False)
    if probe.returncode:  # a chroot's / is no mount point: unshare cannot make it private
        pytest.skip(f"this machine cannot unmount /proc in a namespace of its own: {probe.stderr.strip()}")
    cases = [c for c in PLAIN_RUNS if not c.get("owners") and not c.get("link_owners")]
    paths = []
    for index, case in enumerate(cases):
        build_layout(tmp_path / str(index), case, printer, stub)
        paths.append(str(tmp_path / str(index) / case["run"]))
    with_proc = subprocess.run([stub, _stub.EXPLAIN_PATHS, *paths], capture_output=True, check=False)
    without = subprocess.run(
        [unshare, "--mount", "sh", "-c", f'{script} && exec "$0" "$@"', stub, _stub.EXPLAIN_PATHS, *paths],
        capture_output=True,
        check=False,
    )
    assert (without.returncode, without.stderr) == (with_proc.returncode, with_proc.stderr)
    assert without.stdout == with_proc.stdout


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
        f"{root}/b/two",
        f"{root}/c/three",
        f"{root}/v/bin/python",
    ]
    assert f"venvlink: pyvenv.cfg: {root}/v/pyvenv.cfg" in trace
    assert f"venvlink: exec {root}/base/python3.11 with argv[0] = {root}/v/bin/python" in trace


def test_argc_zero_runs_own_venv(tmp_path: Path, printer: Path) -> None:
    """A program may exec the stub with an empty argv; the kernel still says which file it ran."""
    case = CASES[0]
    root = tmp_path.resolve() / "case"
    build_layout(root, case, printer)
    # CPython's os.execve refuses an empty argv, so a few lines of C do it.
    launcher = tmp_path / "argc0.c"
    launcher.write_text(
        "#include <unistd.h>\nint main(int c, char **v) { char *a[] = {0}, *e[] = {0}; (void)c;"
        " execve(v[1], a, e); return 99; }\n"
    )
    subprocess.run([compiler(), "-o", tmp_path / "argc0", launcher], check=True)
    result = subprocess.run([tmp_path / "argc0", root / "v/bin/python"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(root / "base/python3.11"), str(root / "v/bin/python")]


def test_identity_is_in_the_first_4_kib() -> None:
    """The stub finds out whether an interpreter is a stub by reading 4 KiB; venvlink reads the version there."""
    data = _stub.template().read_bytes()
    assert 0 <= data.find(_stub.IDENTITY) < 4096 - 64
    assert _stub.version(data) == __import__("virtualenv_linkable").__version__
    assert _stub.recorded(data) == ""
    assert _stub.recorded(_stub.with_recorded(data, "/usr/bin/python3.12")) == "/usr/bin/python3.12"


def test_a_macos_stub_is_found_by_its_load_commands(tmp_path: Path, printer: Path, stub: Path) -> None:
    """A Mach-O stub's note lies past its first 4 KiB, in the section its load commands name (stub.c's macho_note):
    a venv whose interpreter is one runs what that stub records, as with any stub; a Mach-O file without the
    section is an interpreter."""
    root = tmp_path.resolve() / "case"
    case = {
        "layout": {
            "v/pyvenv.cfg": "home = {root}/base\nvenvlink-executable = {root}/mac/python\n",
            "v/bin/python": "stub",
            "w/pyvenv.cfg": "home = {root}/base\nvenvlink-executable = {root}/mac/interpreter\n",
            "w/bin/python": "stub",
            "base/python3.11": "python",
        },
        "run": "v/bin/python",
    }
    (root / "mac").mkdir(parents=True)
    (root / "mac" / "python").write_bytes(macho(ARM64, note=macho_note(str(root / "base" / "python3.11"))))
    (root / "mac" / "interpreter").write_bytes(macho(ARM64))
    for name in ("python", "interpreter"):
        (root / "mac" / name).chmod(0o755)
    result = run_case(case, root, printer, stub)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [str(root / "base" / "python3.11"), str(root / "v" / "bin" / "python")]
    explained = record(run_case({**case, "run": "w/bin/python"}, root, printer, stub, explain=True).stdout)
    assert explained["exec"] == [str(root / "mac" / "interpreter")]


def test_macos_stub_identity_and_signature() -> None:
    """venvlink finds a Mach-O stub's note as the stub does, records in its 1024-byte slot (macOS's PATH_MAX), and
    renews its ad-hoc signature, without which arm64 macOS kills it; a stub signed with an identity is refused."""
    data = macho(ARM64, minos="11.0", note=macho_note(version="9.9"), signature="adhoc")
    assert _macho.signature_valid(data)
    assert (_stub.version(data), _stub.recorded(data)) == ("9.9", "")
    recorded = _stub.with_recorded(data, "/usr/local/bin/python3.13")
    assert _stub.recorded(recorded) == "/usr/local/bin/python3.13"
    assert len(recorded) == len(data)
    assert _macho.signature_valid(recorded)
    unsigned = bytearray(recorded)
    start = recorded.index(b"/usr/local/bin/python3.13")
    unsigned[start : start + 4] = b"/opt"
    assert not _macho.signature_valid(bytes(unsigned)), "the signature covers the recorded slot"
    with pytest.raises(VenvlinkError, match="/x in venvlink's stub; reinstall"):  # longer than the slot
        _stub.with_recorded(data, "/x" * 512)
    with pytest.raises(VenvlinkError, match="signed with an identity, which only its signer can renew"):
        _stub.with_recorded(macho(ARM64, note=macho_note(), signature="cms"), "/x")
    assert _stub.recorded(macho(ARM64)) == ""


def test_valgrind_memcheck_is_clean(tmp_path: Path, printer: Path) -> None:
    """Every case of the table once under memcheck: memory use must be clean."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        pytest.skip("valgrind is not installed")
    for index, case in enumerate(CASES):
        if case["expect"]["status"] == 126 or "cwd" in case:
            continue  # valgrind itself dies when execve fails ("I can't recover from execve() failing")
        root = tmp_path.resolve() / str(index)
        build_layout(root, case, printer)
        result = subprocess.run(
            [valgrind, "-q", "--error-exitcode=99", "--leak-check=no", root / case["run"], "-c", "pass"],
            env={"PATH": str(root / "no-such-dir")},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 99, f"{case['name']}: {result.stderr}"
        assert "==" not in result.stderr, f"{case['name']}: {result.stderr}"


def test_an_environment_variable_never_turns_a_run_into_an_explanation(tmp_path: Path, printer: Path) -> None:
    """VENVLINK_EXPLAIN, which venvlink 0.2 read, leaked into a shell's environment made every start a silent
    no-op with exit 0. Explaining is asked for by an argument now; no variable changes what runs."""
    case = CASES[0]
    root = tmp_path.resolve() / "case"
    build_layout(root, case, printer)
    for name in ("VENVLINK_EXPLAIN", "VENVLINK_EXPLAIN_PATHS"):
        for value in ("1", "paths", "yes"):
            result = subprocess.run(
                [root / "v/bin/python", "-c", "pass"], env={name: value}, capture_output=True, text=True, check=True
            )
            assert result.stdout.splitlines()[0] == str(root / "base/python3.11"), "the interpreter ran"
