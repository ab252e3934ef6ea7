"""Fixtures of the Avro codec tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from schemas.avro import ConfluentRegistryClient, WriterSchemaRegistry
from tests.schemas.avro.avro_testdata import FakeRegistryApi


@pytest.fixture(scope="session")
def registry() -> WriterSchemaRegistry:
    return WriterSchemaRegistry.load()


@pytest.fixture
def fake_api() -> FakeRegistryApi:
    return FakeRegistryApi()


@pytest.fixture
def fake_client(fake_api: FakeRegistryApi) -> Iterator[ConfluentRegistryClient]:
    """A client whose registry is `fake_api`, under a path prefix as Apicurio serves it."""
    client = ConfluentRegistryClient(
        "http://registry.test/apis/ccompat/v7", transport=httpx.MockTransport(fake_api.handle)
    )
    yield client
    client.close()
