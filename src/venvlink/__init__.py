"""venvlink: symlink a virtual environment's python anywhere and keep the virtual environment."""

from __future__ import annotations

from .exceptions import VenvlinkError

__version__ = "0.1.0"

__all__ = ["VenvlinkError", "__version__"]
