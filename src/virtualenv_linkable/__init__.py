"""virtualenv-linkable: symlink a virtual environment's python anywhere and keep the virtual environment.

The import package of the ``virtualenv-linkable`` distribution, whose command is ``venvlink``.
"""

from __future__ import annotations

from .exceptions import VenvlinkError

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is at run time, without importing typing (10 ms)

__version__ = "0.3.0"

if TYPE_CHECKING:
    from ._convert import Conversion, convert
    from ._export import ExportResult, export, remove
    from ._resolve import Resolution, resolve

# Loaded on first use (PEP 562): `venvlink convert` should not pay for what `venvlink export` needs.
_LAZY = {
    "Conversion": "_convert",
    "convert": "_convert",
    "ExportResult": "_export",
    "export": "_export",
    "remove": "_export",
    "Resolution": "_resolve",
    "resolve": "_resolve",
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    from importlib import import_module  # noqa: PLC0415

    return getattr(import_module(f".{_LAZY[name]}", __name__), name)


__all__ = [
    "Conversion",
    "ExportResult",
    "Resolution",
    "VenvlinkError",
    "__version__",
    "convert",
    "export",
    "remove",
    "resolve",
]
