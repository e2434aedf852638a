"""venvlink: symlink a virtual environment's python anywhere and keep the virtual environment."""

from __future__ import annotations

__version__ = "0.1.0"

from ._walk import Resolution, resolve  # __version__ first: the creator imports it
from .exceptions import VenvlinkError

__all__ = ["Resolution", "VenvlinkError", "__version__", "resolve"]
