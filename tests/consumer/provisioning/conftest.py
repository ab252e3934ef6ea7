"""Fixtures of the init job's tests: one real emulator (HTTP, in-process) for the module,
emptied before every test, a fresh source topic on the session broker, and settings pointing at
both."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import RunningEmulator, running_emulator
from consumer.config.settings import load_config_file
from tests.consumer.provisioning.init_helpers import Aep
from tests.support.kafka import TopicFactory, init_kafka_env


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorOptions(port=0, sandboxes=("dev",))) as running:
        yield running


@pytest.fixture
def aep(
    emulator: RunningEmulator, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Aep]:
    for name in list(os.environ):
        if name.startswith("PROFILE_SYNC_"):
            monkeypatch.delenv(name)
    load_config_file(None)
    # None of the service's own topics: init plans to create them.
    topics = make_topics(partitions=3, dlq=False, state=False, replay=False)
    handle = Aep(emulator.url, init_kafka_env(make_topics.bootstrap, topics))
    handle.reset()
    yield handle
    handle.close()
