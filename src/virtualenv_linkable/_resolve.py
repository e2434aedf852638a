"""What running a path does: the stub's own account when the path leads to a stub, CPython's rule otherwise."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import _stub
from ._interpreter import behind_the_shim, is_pyenv_shim, is_python
from ._paths import located
from .exceptions import VenvlinkError


@dataclass(frozen=True)
class Resolution:
    """What running ``path`` does.

    :ivar path: the path asked about, absolute (a bare name: the file found on ``PATH``)
    :ivar via_stub: whether ``path`` leads to a venvlink stub, which then walks the chain (docs/walk.rst)
    :ivar hops: the chain the stub walked, from ``path`` to the hop where it found the venv
    :ivar pyvenv_cfg: the ``pyvenv.cfg`` that decides the venv, or ``None`` (no venv)
    :ivar executable: the interpreter that runs, links resolved
    :ivar named_by: which ``pyvenv.cfg`` key named ``executable`` (``home`` for a guess from it, ``recorded`` for
        the interpreter recorded in a copy of the stub outside any venv); ``None`` without a stub
    :ivar argv0: the ``argv[0]`` the interpreter gets, and so ``sys.executable`` (for an interpreter that is a
        ``#!`` script, the path exec'd: what the kernel hands it as ``$0``)
    :ivar prefix: the ``sys.prefix`` that results: the directory above ``argv0``'s when CPython finds a
        ``pyvenv.cfg`` from ``argv0``, as its ``site.py`` takes it; ``None`` when it runs as the base interpreter
    :ivar error: the stub's one-line message when it runs nothing
    :ivar stale: whether the stub reached is not the installed one (``venvlink convert`` replaces it)
    :ivar found: how the stub's walk found the venv: ``along the chain``, ``own venv`` (the venv it lives in,
        reached through a link to its directory) or ``recorded`` (a copy outside any venv); None without a stub
    :ivar stub_version: the venvlink version of the stub reached; None without a stub
    :ivar lost_venv: for a path that does not lead to a stub: the venv along its links that CPython does not see
    """

    path: str
    via_stub: bool
    hops: list[str] = field(default_factory=list)
    pyvenv_cfg: Path | None = None
    executable: Path | None = None
    named_by: str | None = None
    argv0: str | None = None
    prefix: Path | None = None
    error: str | None = None
    stale: bool = False
    lost_venv: Path | None = None
    found: str | None = None
    stub_version: str | None = None


def _beside(path: Path) -> Path | None:
    """The pyvenv.cfg CPython reads for an executable started as ``path``: beside it, then one level up."""
    for candidate in (path.parent / "pyvenv.cfg", path.parent.parent / "pyvenv.cfg"):
        if candidate.is_file():
            return candidate
    return None


def resolve(path: str | os.PathLike[str], *, search_path: str | None = None) -> Resolution:
    """What running ``path`` does, as the stub itself reports it (it walks the path in its explain mode).

    :param path: a path, or a bare name looked up on ``search_path`` as a shell would
    :param search_path: the ``PATH`` for a bare name (default: ``$PATH``)
    :raises VenvlinkError: when ``path`` does not exist, cannot be run, or is not a Python interpreter
    """
    start = located(os.fspath(path), search_path)
    real = Path(os.path.realpath(start))
    stub = _stub.facts(real)
    explained = _stub.explain([str(start)])[0]
    if stub is not None:
        return Resolution(
            path=str(start),
            via_stub=True,
            hops=explained.hops,
            pyvenv_cfg=Path(explained.pyvenv_cfgs[0]) if explained.pyvenv_cfgs else None,
            executable=Path(os.path.realpath(explained.executable)) if explained.executable else None,
            named_by=explained.named_by,
            argv0=explained.argv0,
            prefix=Path(explained.prefix) if explained.prefix else None,
            error=explained.error,
            stale=not stub.current,
            found=explained.found,
            stub_version=stub.version,
        )
    if is_pyenv_shim(real):
        msg = (
            f"{start} is pyenv's shim, which runs whichever Python pyenv selects at each start; ask of an interpreter "
            f"itself, such as the newest pyenv has: venvlink which {behind_the_shim(start)}"
        )
        raise VenvlinkError(msg)
    if not is_python(real):
        msg = f"{start} runs {real}, which is not a Python interpreter"
        raise VenvlinkError(msg)
    # Not a stub: CPython looks for pyvenv.cfg beside the path it was started as, links unresolved (PEP 405).
    beside = _beside(start)
    walked = [Path(cfg) for cfg in explained.pyvenv_cfgs]
    lost = None
    if beside is None and walked:
        lost = walked[0].parent.parent if walked[0].parent.name == "bin" else walked[0].parent
    return Resolution(
        path=str(start),
        via_stub=False,
        hops=[str(start)],
        pyvenv_cfg=beside,
        executable=real,
        argv0=str(start),
        prefix=start.parent.parent if beside is not None else None,
        lost_venv=lost,
    )
