"""Errors a user can fix: the CLI prints them as one line and exits 2.

Anything raised as `InputError` must name what is wrong and where (file, line, row,
field, URL), because an operator reading a nightly log has nothing else to go on.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a person or a file: one clear line, exit code 2, nothing written."""

    def __init__(self, message: str, *, where: str = "") -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class DatabaseError(InputError):
    """The database cannot be reached or its schema does not fit this version of probe."""
