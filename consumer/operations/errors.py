"""How an operator command fails: a usage mistake (exit 2) or an error on the way (exit 1)."""

from __future__ import annotations

from consumer.config import exit_codes


class OperationError(Exception):
    """The command stops; `exit_code` is 1 (error) unless made by :func:`usage`."""

    def __init__(self, message: str, exit_code: int = exit_codes.ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def usage(message: str) -> OperationError:
    """A bad argument, filter, coordinate or missing topic: exit 2 with `message`."""
    return OperationError(message, exit_codes.USAGE)
