"""Build the settings a command uses, collecting every mistake before reporting them.

Library code raises :class:`ConfigurationError`; only the CLI turns it into exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from consumer.config.errors import describe
from consumer.config.settings import ConfigFileError, S, build, load_config_file


class ConfigurationError(Exception):
    """One or more settings are wrong; `lines` name each variable and what is wrong with it."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def load_all(config_file: Path | None, *classes: type[Any]) -> list[Any]:
    """Build several settings classes, reporting the mistakes of all of them at once."""
    try:
        load_config_file(config_file)
    except ConfigFileError as exc:
        raise ConfigurationError(describe(exc)) from None
    built: list[Any] = []
    problems: list[str] = []
    for cls in classes:
        try:
            built.append(build(cls))
        except ValidationError as exc:
            problems.extend(describe(exc))
    if problems:
        raise ConfigurationError(problems)
    return built


def load(config_file: Path | None, cls: type[S]) -> S:
    """Build one settings class."""
    settings: S = load_all(config_file, cls)[0]
    return settings
