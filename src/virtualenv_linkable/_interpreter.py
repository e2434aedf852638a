"""What an interpreter is, learned by running it once: the stub may exec only interpreters venvlink knows."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .exceptions import VenvlinkError

_PROBE = (
    "import json, platform, sys, sysconfig; print(json.dumps([platform.python_implementation(), "
    "list(sys.version_info[:3]), sysconfig.get_config_var('Py_GIL_DISABLED') == 1, sys.prefix]))"
)
#: what the stub has been tested with (docs/platforms.rst); others run as Python but are refused
SUPPORTED = {"CPython": (3, 8), "PyPy": (3, 9)}


@dataclass(frozen=True)
class Interpreter:
    path: Path
    implementation: str
    version: tuple[int, int, int]
    free_threaded: bool

    @property
    def describe(self) -> str:
        """``CPython 3.12.1``, ``CPython 3.13.0 (free-threaded)``, ``PyPy 3.9.16``."""
        version = ".".join(map(str, self.version))
        return f"{self.implementation} {version}{' (free-threaded)' if self.free_threaded else ''}"


def probe(path: Path, *, venv: Path) -> Interpreter:
    """Run ``path`` once, isolated, and refuse it unless it is an interpreter the stub supports."""
    if not path.exists():
        msg = (
            f"cannot convert {venv}: its interpreter {path} does not exist; "
            "the Python it was made from was moved or removed (recreate the venv)"
        )
        raise VenvlinkError(msg)
    try:
        done = subprocess.run(
            [str(path), "-I", "-S", "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
        )
        implementation, version, free_threaded, _ = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError, TypeError):
        msg = f"cannot convert {venv}: its interpreter {path} is not a Python that venvlink can run it with"
        raise VenvlinkError(msg) from None
    found = Interpreter(path, implementation, (version[0], version[1], version[2]), bool(free_threaded))
    minimum = SUPPORTED.get(implementation)
    if minimum is None or found.version[:2] < minimum:
        supported = ", ".join(f"{name} {major}.{minor}+" for name, (major, minor) in SUPPORTED.items())
        msg = f"cannot convert {venv}: its interpreter {path} is {found.describe}; venvlink supports {supported}"
        raise VenvlinkError(msg)
    return found
