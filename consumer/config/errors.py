"""Turn a settings failure into the exit-2 message operators see.

The message names the variable and what is wrong with it, never the value: a value may be a
secret or personal data.
"""

from __future__ import annotations

from pydantic import ValidationError

from consumer.config.settings import ConfigFileError, variable


def describe(error: ValidationError | ConfigFileError) -> list[str]:
    """One line per wrong setting: `PROFILE_SYNC_X: what is wrong`."""
    if isinstance(error, ConfigFileError):
        return [f"{error.setting}: {error.reason}"]
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "?"
        reason = "is required and not set" if item["type"] == "missing" else item["msg"]
        reason = reason.removeprefix("Value error, ")
        lines.append(f"{variable(field)}: {reason}")
    return lines
