"""Fixtures of the emulator's data-plane contract tests: apps under Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from aep_emulator.app import build_app
from aep_emulator.options import EmulatorOptions
from aep_emulator.state import EmulatorState
from tests.aep_emulator.emulator_helpers import Emulator, EmulatorFactory

# Rate limits off unless a test asks for them: the contract tests send in quick bursts.
_TEST_DEFAULTS: dict[str, Any] = {"max_requests_per_s": 0.0, "max_messages_per_s": 0.0}


@pytest.fixture
def make_emulator() -> Iterator[EmulatorFactory]:
    made: list[Emulator] = []

    def make(**options: Any) -> Emulator:
        state = EmulatorState(EmulatorOptions(**{**_TEST_DEFAULTS, **options}))
        client = TestClient(build_app(state))
        emulator = Emulator(client=client, state=state)
        made.append(emulator)
        return emulator

    yield make
    for emulator in made:
        emulator.client.close()
        emulator.state.close()


@pytest.fixture
def emulator(make_emulator: EmulatorFactory) -> Emulator:
    return make_emulator()
