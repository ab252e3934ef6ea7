"""The core reads exactly the newest shipped writer schema of each record type. When a schema
version is added, this fails: teach native/src/events.rs the new layout and its fingerprint."""

from __future__ import annotations

from profile_sync_core import FINGERPRINTS

from schemas.avro import RECORD_TYPES
from schemas.avro.fingerprint import FINGERPRINT_SIZE
from tests.native.support import registry


def test_fingerprints_are_the_newest_shipped_writer_schemas() -> None:
    newest = {registry().shipped(name).fingerprint for name in RECORD_TYPES}
    assert all(len(fp) == FINGERPRINT_SIZE for fp in FINGERPRINTS)
    assert len(FINGERPRINTS) == len(set(FINGERPRINTS))
    assert set(FINGERPRINTS) == newest, (
        "the shipped writer schemas changed: update native/src/events.rs (layout and fingerprints)"
    )


def test_older_versions_are_not_read() -> None:
    older = {schema.fingerprint for schema in registry() if schema.version is not None}
    older -= {registry().shipped(name).fingerprint for name in RECORD_TYPES}
    assert older, "expected older shipped versions (v1) to exist"
    assert not older & set(FINGERPRINTS)
