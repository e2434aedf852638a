"""Compile venvlink's resolving stub into the package when a wheel (or an editable install) is built."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STUB_DIR = Path("src", "venvlink", "_stub")
FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]


def compilers() -> list[list[str]]:
    """The compile commands to try, best first.

    ``$CC`` when set, as given. Otherwise a static build with musl when ``musl-gcc`` is installed: no dynamic
    loader runs, which is most of the stub's start-up cost (benchmarks/). Then the C compiler Python was built with.
    """
    if os.environ.get("CC"):
        return [shlex.split(os.environ["CC"])]
    found = [["musl-gcc", "-static"]] if shutil.which("musl-gcc") else []
    return [*found, shlex.split(sysconfig.get_config_var("CC") or "cc")]


class StubBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        source = root / STUB_DIR / "stub.c"
        target = root / STUB_DIR / "venvlink-stub"
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        candidates = [cc for cc in compilers() if cc and shutil.which(cc[0])]
        if not candidates:
            # SystemExit prints one line and no traceback through any build frontend.
            raise SystemExit(
                f"venvlink: no C compiler ({' '.join(compilers()[-1]) or 'cc'}) to build the stub; install one "
                "(Debian/Ubuntu: apt install gcc, Fedora: dnf install gcc, macOS: xcode-select --install) "
                "or set CC"
            )
        for cc in candidates:
            result = subprocess.run(
                [*cc, *FLAGS, "-o", str(partial), str(source)], capture_output=True, text=True, check=False
            )
            if result.returncode == 0:
                break
            partial.unlink(missing_ok=True)
        else:
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(f"venvlink: {' '.join(cc)} failed to compile {source} (output above)")
        partial.replace(target)

        # The stub does not use Python's ABI: one wheel serves every Python 3 on this platform.
        build_data["pure_python"] = False
        build_data["tag"] = "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")
        if version != "editable":  # an editable install runs the stub from the source tree
            build_data["force_include"][str(target)] = "venvlink/_stub/venvlink-stub"
