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


def compiler() -> list[str]:
    """The C compiler Python was built with, unless ``$CC`` names another."""
    return shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")


class StubBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        source = root / STUB_DIR / "stub.c"
        target = root / STUB_DIR / "venvlink-stub"
        cc = compiler()
        if not cc or shutil.which(cc[0]) is None:
            # SystemExit prints one line and no traceback through any build frontend.
            raise SystemExit(
                f"venvlink: no C compiler ({' '.join(cc) or 'cc'}) to build the stub; install one "
                "(Debian/Ubuntu: apt install gcc, Fedora: dnf install gcc, macOS: xcode-select --install) "
                "or set CC"
            )
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        result = subprocess.run(
            [*cc, *FLAGS, "-o", str(partial), str(source)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(f"venvlink: {' '.join(cc)} failed to compile {source} (output above)")
        partial.replace(target)

        # The stub does not use Python's ABI: one wheel serves every Python 3 on this platform.
        build_data["pure_python"] = False
        build_data["tag"] = "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")
        if version != "editable":  # an editable install runs the stub from the source tree
            build_data["force_include"][str(target)] = "venvlink/_stub/venvlink-stub"
