"""Fixtures of the init job's tests: one real emulator (HTTP, in-process) for the module,
emptied before every test, and settings pointing at it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import RunningEmulator, running_emulator
from consumer.config.settings import load_config_file
from tests.consumer.provisioning.init_helpers import Aep


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorOptions(port=0, sandboxes=("dev",))) as running:
        yield running


@pytest.fixture
def aep(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aep]:
    for name in list(os.environ):
        if name.startswith("PROFILE_SYNC_"):
            monkeypatch.delenv(name)
    load_config_file(None)
    handle = Aep(emulator.url)
    handle.reset()
    yield handle
    handle.close()
