"""venvlink's benchmarks: start-up overhead, creation cost and scale, against the alternatives.

    python benchmarks/bench.py [--all-pythons] [--runs N] [--stub PATH] [--json PATH] [--chart PATH]  (tox -e bench)

Every figure comes from interleaved runs in this one invocation (each round runs every variant once, in a
fresh random order), as a median with its 10th-90th percentile spread, and as a ratio against a baseline timed in
the same rounds: a plain venv's own python, and for the stub alone a static launcher that only execs. Absolute
times hold for the machine named in the results only. The stub measured is the one users get: the Linux wheel's
for this machine in dist/ (tox -e dist builds it with zig), else --stub, else the installed one; every venv of the
run gets it. Instruction counts (callgrind) and syscall counts (strace) repeat exactly, unlike wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import virtualenv_linkable
from virtualenv_linkable import _stub

HERE = Path(__file__).parent
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")  # before HOME moves to a temporary one
PROXY_SH = r"""#!/bin/sh
# What venvlink's stub does, in POSIX sh: follow $0 to the first pyvenv.cfg, run that venv's python.
p=$0
while :; do
  d=${p%/*}
  if [ -f "$d/pyvenv.cfg" ] || [ -f "${d%/*}/pyvenv.cfg" ]; then exec "$d/python" "$@"; fi
  t=$(readlink "$p") || { echo "no pyvenv.cfg along $0" >&2; exit 127; }
  case $t in /*) p=$t ;; *) p=$d/$t ;; esac
done
"""
TRUE_C = "int main(void) { return 0; }\n"
# the floor for any launcher: exec the program named in argv[1], nothing else
EXEC_C = "#include <unistd.h>\nint main(int c, char **v) { (void)c; execv(v[1], v + 1); return 127; }\n"
STUB: bytes = b""  # the stub measured, chosen in main()
MODES = {"-S -c pass": ["-S", "-c", "pass"], "-c pass": ["-c", "pass"], "-I -c pass": ["-I", "-c", "pass"]}


def spawn_time(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds from spawn to exit of one run; posix_spawn keeps the harness's own cost small and constant."""
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {argv} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed


def summary(samples: list[float]) -> dict[str, float]:
    deciles = statistics.quantiles(samples, n=10)
    return {"median_ms": statistics.median(samples) * 1e3, "p10_ms": deciles[0] * 1e3, "p90_ms": deciles[-1] * 1e3}


def interleaved(variants: dict[str, Callable[[], float]], runs: int) -> dict[str, dict[str, float]]:
    """``runs`` rounds; each round times every variant once, in a random order."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for _ in range(runs):
        random.shuffle(names)
        for name in names:
            samples[name].append(variants[name]())
    return {name: summary(values) for name, values in samples.items()}


def with_ratios(results: dict[str, dict[str, float]], baseline: str) -> dict[str, dict[str, float]]:
    base = results[baseline]["median_ms"]
    return {name: {**figures, "ratio": figures["median_ms"] / base} for name, figures in results.items()}


def run(cmd: list[object], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, env=env)


def virtualenv(*args: object) -> None:
    run([sys.executable, "-m", "virtualenv", "-q", *args])


def find_pythons(everything: bool) -> list[Path]:
    found = [p for p in sorted(PYENV_ROOT.glob("versions/3.*/bin/python3.*")) if p.name[len("python3.") :].isdigit()]
    found = [p for p in found if tuple(int(x) for x in p.name[len("python") :].split(".")) >= (3, 8)]
    if not found:
        found = [Path(sys.executable)]
    if everything:
        return found
    current = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return [next((p for p in found if p.name == current), found[-1])]


def build_static(directory: Path, name: str, source: str) -> Path:
    """A tiny static program (musl where there is musl-gcc, as the stub)."""
    (directory / f"{name}.c").write_text(source)
    cc = shutil.which("musl-gcc") or "cc"
    run([cc, "-O2", "-static", "-o", directory / name, directory / f"{name}.c"])
    return directory / name


def the_stub(given: Path | None) -> tuple[bytes, str]:
    """The stub to measure and where it came from: ``given``, else the Linux wheel for this machine in dist/, else
    the installed one."""
    if given is not None:
        return given.read_bytes(), str(given)
    machine = platform.machine()
    wheels = sorted((HERE.parent / "dist").glob(f"*linux*_{machine}.whl"), key=lambda p: p.stat().st_mtime)
    if wheels:
        with zipfile.ZipFile(wheels[-1]) as wheel:
            return wheel.read("virtualenv_linkable/_stub/venvlink-stub"), f"{wheels[-1].name} (zig)"
    return _stub.template().read_bytes(), f"{_stub.template()} (installed; build the wheel for the stub users get)"


def use_stub(venv: Path) -> None:
    """Put the measured stub in each stub entry of a linkable venv, recording its interpreter as venvlink does."""
    for entry in (venv / "bin").iterdir():
        if not entry.is_symlink() and _stub.is_stub(entry):
            data = _stub.with_recorded(STUB, _stub.recorded(entry.read_bytes()))
            temporary = entry.with_name(f".{entry.name}.bench")
            temporary.write_bytes(data)
            temporary.chmod(0o755)
            os.replace(temporary, entry)


def machine() -> str:
    """The CPU, cores and kernel: absolute times hold for this machine only."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def startup(python: Path, work: Path, runs: int) -> dict[str, Any]:
    plain, linkable = work / "plain", work / "linkable"
    virtualenv("--no-seed", "--creator", "builtin", "-p", python, plain)
    virtualenv("--no-seed", "--creator", "linkable", "-p", python, linkable)
    use_stub(linkable)
    os.environ["XDG_STATE_HOME"] = str(work / "state")
    (work / "bin").mkdir()
    virtualenv_linkable.export(linkable, work / "bin" / "tool")
    for hop, target in (("c", linkable / "bin" / "python"), ("b", work / "hops" / "c"), ("a", work / "hops" / "b")):
        (work / "hops").mkdir(exist_ok=True)
        (work / "hops" / hop).symlink_to(target)
    proxy = plain / "bin" / "python-proxy"
    proxy.write_text(PROXY_SH)
    proxy.chmod(0o755)
    (work / "bin" / "proxy").symlink_to(proxy)
    commands = {
        "venv python (baseline)": plain / "bin" / "python",
        "linkable venv python": linkable / "bin" / "python",
        "venvlink export symlink": work / "bin" / "tool",
        "3-hop chain": work / "hops" / "a",
        "sh proxy script": work / "bin" / "proxy",
    }
    envs: dict[str, dict[str, str]] = {}
    shim = PYENV_ROOT / "shims" / python.name
    if shim.exists():
        # the shim picks the version named like the interpreter's directory: pyenv's own layout
        env = {**os.environ, "PYENV_ROOT": str(PYENV_ROOT), "PYENV_VERSION": python.parent.parent.name}
        if subprocess.run([shim, "-c", "pass"], env=env, capture_output=True, check=False).returncode == 0:
            commands["pyenv shim (base python)"] = shim
            envs["pyenv shim (base python)"] = env
        else:
            print(f"bench: the pyenv shim {shim} does not run here; left out")
    results = {}
    for mode, flags in MODES.items():
        variants = {
            name: (lambda c=command, f=flags, n=name: spawn_time([str(c), *f], envs.get(n)))
            for name, command in commands.items()
        }
        results[mode] = with_ratios(interleaved(variants, runs), "venv python (baseline)")
    return results


def stub_alone(work: Path, runs: int) -> dict[str, Any]:
    """The stub in front of a static ``true``, against the floor for any launcher: a static program that only
    execs ``true``. Their ratio is the stub's cost on any machine; the differences in microseconds hold for this
    one."""
    true = build_static(work, "true", TRUE_C)
    launcher = build_static(work, "exec", EXEC_C)
    venv = work / "stubvenv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_bytes(STUB)
    (venv / "bin" / "python").chmod(0o755)
    (venv / "pyvenv.cfg").write_text(f"home = {work}\nvenvlink-executable = {true}\n")
    (work / "stubtool").symlink_to(venv / "bin" / "python")
    variants = {
        "static true": lambda: spawn_time([str(true)]),
        "exec-only launcher -> static true": lambda: spawn_time([str(launcher), str(true)]),
        "stub -> static true": lambda: spawn_time([str(venv / "bin" / "python")]),
        "symlink -> stub -> static true": lambda: spawn_time([str(work / "stubtool")]),
    }
    timing = with_ratios(interleaved(variants, runs * 5), "exec-only launcher -> static true")
    floor = timing["exec-only launcher -> static true"]["median_ms"]
    result: dict[str, Any] = {
        "timing": timing,
        "stub_ratio": timing["stub -> static true"]["ratio"],
        "stub_via_symlink_ratio": timing["symlink -> stub -> static true"]["ratio"],
        "stub_ms": timing["stub -> static true"]["median_ms"] - floor,
        "stub_via_symlink_ms": timing["symlink -> stub -> static true"]["median_ms"] - floor,
        "stub_bytes": len(STUB),
    }
    valgrind, strace = shutil.which("valgrind"), shutil.which("strace")
    if valgrind:
        # callgrind writes nothing when the process execs: it dumps before execv, a symbol the packaged (stripped)
        # stub does not have; this build is the same source and flags, unstripped
        unstripped = venv / "bin" / "python-unstripped"  # the local compiler's, not zig's: counts differ a little
        cc = ["musl-gcc", "-static"] if shutil.which("musl-gcc") else ["cc"]
        source = HERE.parent / "src" / "virtualenv_linkable" / "_stub" / "stub.c"
        run(
            [
                *cc,
                "-std=c99",
                "-O2",
                f'-DVENVLINK_VERSION="{virtualenv_linkable.__version__}"',
                "-o",
                unstripped,
                source,
            ]
        )
        (work / "unstripped-tool").symlink_to(unstripped)
        out = work / "callgrind.out"
        subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                "--dump-before=execv",
                f"--callgrind-out-file={out}",
                work / "unstripped-tool",
            ],
            capture_output=True,
            check=False,
        )
        totals = [line for p in work.glob("callgrind.out*") for line in p.read_text().splitlines()]
        result["instructions"] = max(int(line.split()[1]) for line in totals if line.startswith("summary:"))
    if strace:
        trace = work / "strace.out"
        run([strace, "-f", "-o", trace, work / "stubtool"])
        lines = trace.read_text().splitlines()
        first_exec = next(i for i, line in enumerate(lines) if f'execve("{true}"' in line)
        result["syscalls"] = first_exec - 1  # those between the kernel starting the stub and the stub's execve
    return result


def creation(python: Path, work: Path, runs: int) -> dict[str, Any]:
    def fresh(name: str) -> Path:
        path = work / name
        shutil.rmtree(path, ignore_errors=True)
        return path

    def timed(cmd: list[object]) -> float:
        start = time.perf_counter()
        run(cmd)
        return time.perf_counter() - start

    venv_cmd = [sys.executable, "-m", "virtualenv", "-q", "-p", python]
    variants: dict[str, Callable[[], float]] = {
        "virtualenv builtin, no seed": lambda: timed([*venv_cmd, "--no-seed", "--creator", "builtin", fresh("b0")]),
        "virtualenv linkable, no seed": lambda: timed([*venv_cmd, "--no-seed", "--creator", "linkable", fresh("l0")]),
        "virtualenv builtin, seeded": lambda: timed([*venv_cmd, "--creator", "builtin", fresh("b1")]),
        "virtualenv linkable, seeded": lambda: timed([*venv_cmd, "--creator", "linkable", fresh("l1")]),
        "python -m venv --without-pip": lambda: timed([python, "-m", "venv", "--without-pip", fresh("s0")]),
    }
    if subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True, check=False).returncode == 0:
        uv = [sys.executable, "-m", "uv", "venv", "-q", "--no-python-downloads", "--python", python]
        variants["uv venv"] = lambda: timed([*uv, fresh("u0")])
    for warm in variants.values():  # fill virtualenv's app-data cache before anything is timed
        warm()
    timed_all = interleaved(variants, runs)
    results: dict[str, Any] = {}
    for kind in ("no seed", "seeded"):
        same_kind = {name: figures for name, figures in timed_all.items() if name.endswith(kind)}
        results.update(with_ratios(same_kind, f"virtualenv builtin, {kind}"))
    results.update({name: figures for name, figures in timed_all.items() if "virtualenv" not in name})

    plain = work / "convert-me"
    run([python, "-m", "venv", "--without-pip", plain])
    samples = []
    for _ in range(runs * 5):
        start = time.perf_counter()
        virtualenv_linkable.convert(plain)
        samples.append(time.perf_counter() - start)
        virtualenv_linkable.convert(plain, revert=True)
    results["virtualenv_linkable.convert() of a stdlib venv (in process)"] = summary(samples)
    command = []
    for _ in range(5):
        virtualenv_linkable.convert(plain, revert=True)
        command.append(timed([sys.executable, "-m", "virtualenv_linkable", "convert", plain]))
    results["venvlink convert (command, with Python's start-up)"] = summary(command)
    return results


def commands(python: Path, work: Path, runs: int) -> dict[str, Any]:
    """venvlink export and convert, as commands, against ``venvlink --version`` (Python's start-up and venvlink's
    import, which every command pays): what the commands themselves add. venvlink reads and runs no interpreter,
    so the goal is at most 2x."""
    linkable, plain = work / "linkable", work / "plain"
    virtualenv("--no-seed", "--creator", "linkable", "-p", python, linkable)
    run([python, "-m", "venv", "--without-pip", plain])
    venvlink = [sys.executable, "-m", "virtualenv_linkable"]

    def timed(cmd: list[object]) -> float:
        start = time.perf_counter()
        run(cmd)
        return time.perf_counter() - start

    def plain_again() -> None:  # outside the time taken: the venv to convert, as python -m venv made it
        virtualenv_linkable.convert(plain, revert=True)

    variants: dict[str, Callable[[], float]] = {
        "venvlink --version": lambda: timed([*venvlink, "--version"]),
        "venvlink export --force (a linkable venv)": lambda: timed(
            [*venvlink, "export", "--force", linkable, work / "tool"]
        ),
        "venvlink convert (a stdlib venv)": lambda: plain_again() or timed([*venvlink, "convert", plain]),
        "venvlink export --force (a stdlib venv: converts it)": lambda: (
            plain_again() or timed([*venvlink, "export", "--force", plain, work / "plain-tool"])
        ),
    }
    for warm in variants.values():
        warm()
    return with_ratios(interleaved(variants, runs), "venvlink --version")


def scale(python: Path, work: Path) -> dict[str, Any]:
    """list, doctor and doctor --fix (with nothing to fix) over 1, 100 and 1000 exports, each of a venv of its own
    (copies of one venv the creator made, activators and all: distinct venvs, each read and walked on its own),
    recorded as the creator and export record them."""
    model = work / "scale-venv"
    virtualenv("--no-seed", "--creator", "linkable", "-p", python, model)
    results: dict[str, Any] = {}
    for count in (1, 100, 1000):
        state, links, venvs = work / f"state-{count}", work / f"links-{count}", work / f"venvs-{count}"
        links.mkdir()
        venvs.mkdir()
        exports = {}
        for i in range(count):
            venv, dest = venvs / f"v{i}", links / f"tool{i}"
            shutil.copytree(model, venv, symlinks=True)
            dest.symlink_to(venv / "bin" / "python")
            exports[str(dest)] = {
                "dest": str(dest),
                "venv": str(venv),
                "target": str(venv / "bin" / "python"),
                "name": "python",
                "created": "2026-01-01T00:00:00+00:00",
            }
        # as the creator records each venv it makes, and export each link
        venvs_made = {e["venv"]: {"venv": e["venv"], "converted": e["created"]} for e in exports.values()}
        (state / "venvlink").mkdir(parents=True)
        registry = {"format": 2, "exports": exports, "venvs": venvs_made}
        (state / "venvlink" / "exports.json").write_text(json.dumps(registry))
        env = {**os.environ, "XDG_STATE_HOME": str(state)}
        figures = {}
        for command in (["list"], ["doctor"], ["doctor", "--fix"]):
            start = time.perf_counter()
            run([sys.executable, "-m", "virtualenv_linkable", *command], env=env)
            figures[f"{'_'.join(c.strip('-') for c in command)}_s"] = time.perf_counter() - start
        figures["doctor_ms_per_export"] = figures["doctor_s"] / count * 1e3
        results[str(count)] = figures
    return results


def chart(results: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("bench: matplotlib is not installed; no chart (pip install matplotlib, or tox -e bench)")
        return
    first = next(iter(results["startup"].values()))["-S -c pass"]
    names = list(first)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    medians = [first[n]["median_ms"] for n in names]
    errors = [
        [first[n]["median_ms"] - first[n]["p10_ms"] for n in names],
        [first[n]["p90_ms"] - first[n]["median_ms"] for n in names],
    ]
    ax.barh(names, medians, xerr=errors, color=["#999"] + ["#2a7"] * 3 + ["#c63"] * (len(names) - 4))
    for i, name in enumerate(names):
        ax.text(first[name]["p90_ms"], i, f"  {first[name]['ratio']:.3f}x", va="center")
    ax.set_xlim(0, max(first[n]["p90_ms"] for n in names) * 1.15)
    ax.invert_yaxis()
    ax.set_xlabel("start-up, python -S -c pass (ms, median, p10-p90)")
    ax.set_title(f"{next(iter(results['startup']))}: start-up through venvlink and the alternatives")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    print(f"bench: chart written to {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all-pythons", action="store_true", help="every CPython 3.8+ of pyenv's, not one")
    parser.add_argument("--runs", type=int, default=200, help="rounds of start-up runs per mode (default 200)")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--chart", type=Path, default=HERE.parent / "docs" / "_static" / "benchmark.svg")
    parser.add_argument("--skip", action="append", default=[], choices=["startup", "creation", "commands", "scale"])
    parser.add_argument("--creation-runs", type=int, default=30, help="rounds of venv creation (default 30)")
    parser.add_argument("--stub", type=Path, help="the stub to measure (default: dist/'s wheel's, else the installed)")
    args = parser.parse_args()

    global STUB  # one stub for the whole run
    STUB, origin = the_stub(args.stub)
    print(f"bench: stub {origin}, {len(STUB)} bytes; machine: {machine()}")
    results: dict[str, Any] = {
        "machine": machine(),
        "stub_origin": origin,
        "runner": sys.version.split()[0],
        "startup": {},
    }
    with tempfile.TemporaryDirectory(prefix="venvlink-bench-") as temporary:
        work = Path(temporary)
        os.environ["HOME"] = str(work / "home")  # virtualenv's app data and the registry stay in here
        (work / "stub").mkdir()
        results["stub"] = stub_alone(work / "stub", args.runs)
        for python in find_pythons(args.all_pythons):
            name = python.name
            if "startup" not in args.skip:
                (work / name).mkdir()
                results["startup"][name] = startup(python, work / name, args.runs)
            if "creation" not in args.skip and "creation" not in results:
                (work / "create").mkdir()
                results["creation"] = creation(python, work / "create", args.creation_runs)
            if "commands" not in args.skip and "commands" not in results:
                (work / "commands").mkdir()
                results["commands"] = commands(python, work / "commands", args.creation_runs)
            if "scale" not in args.skip and "scale" not in results:
                (work / "scale").mkdir()
                results["scale"] = scale(python, work / "scale")
    report(results)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"bench: results written to {args.json}")
    if results["startup"]:
        chart(results, args.chart)
    return 0


def report(results: dict[str, Any]) -> None:
    stub = results["stub"]
    floor = stub["timing"]["exec-only launcher -> static true"]["median_ms"]
    print(
        f"\nmachine: {results['machine']}\nstub: {results['stub_origin']}, {stub['stub_bytes']} bytes: "
        f"{stub['stub_ratio']:.2f}x an exec-only launcher's time in front of a static true "
        f"(via a symlink: {stub['stub_via_symlink_ratio']:.2f}x); here {stub['stub_ms'] * 1e3:.0f} us over "
        f"{floor * 1e3:.0f} us; {stub.get('instructions', '?')} instructions, "
        f"{stub.get('syscalls', '?')} syscalls before exec"
    )
    for python, modes in results["startup"].items():
        for mode, variants in modes.items():
            print(f"\n{python} {mode}")
            for name, f in variants.items():
                print(f"  {name:28} {f['median_ms']:7.2f} ms  [{f['p10_ms']:.2f}-{f['p90_ms']:.2f}]  {f['ratio']:.3f}x")
    if "creation" in results:
        print("\ncreation")
        for name, f in results["creation"].items():
            ratio = f"  {f['ratio']:.3f}x" if "ratio" in f else ""
            print(f"  {name:50} {f['median_ms']:8.1f} ms  [{f['p10_ms']:.1f}-{f['p90_ms']:.1f}]{ratio}")
    if "commands" in results:
        print("\ncommands, against venvlink --version (goal: at most 2x)")
        for name, f in results["commands"].items():
            print(f"  {name:55} {f['median_ms']:8.1f} ms  [{f['p10_ms']:.1f}-{f['p90_ms']:.1f}]  {f['ratio']:.2f}x")
    if "scale" in results:
        print("\nscale (exports of as many venvs: list, doctor, doctor --fix with nothing to fix)")
        for count, f in results["scale"].items():
            print(f"  {count:>5}: {f['list_s']:6.2f} s  {f['doctor_s']:6.2f} s  {f['doctor_fix_s']:6.2f} s")


if __name__ == "__main__":
    sys.exit(main())
