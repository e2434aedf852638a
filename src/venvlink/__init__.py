"""venvlink: symlink a virtual environment's python anywhere and keep the virtual environment."""

from __future__ import annotations

__version__ = "0.1.0"

# __version__ comes first: these modules import it.
from ._convert import Conversion, convert
from ._export import ExportResult, export, remove
from ._walk import Resolution, resolve
from .exceptions import VenvlinkError

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
