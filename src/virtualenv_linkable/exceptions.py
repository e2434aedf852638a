"""The errors venvlink reports to its users."""

from __future__ import annotations


class VenvlinkError(Exception):
    """Something the user can fix: the message is one line that names the file involved and the fix."""
