"""The native core against the Python path, value by value: either the core declines (None) and
Python takes the value, or the core's outcome is the Python path's, byte for byte, with the
mapper's notes (the same strings in the same order)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache

import pytest

from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import XdmSettings
from mappers import MapperOptions
from mappers.notes import NOTE_CLASSES
from schemas.xdm import XdmOptions
from tests.native.support import PythonPath, core_for, fuzz_values, sample_values

OPTION_SETS: dict[str, MapperOptions] = {
    "defaults": options_from_settings(XdmSettings(), None),
    "no_email_identity": MapperOptions(email_identity=False),
    "no_audit": MapperOptions(xdm=XdmOptions(audit_field_group=False)),
    "tenant": MapperOptions(xdm=XdmOptions(tenant_fields=True, tenant_id="acme_42")),
    "gender_map": MapperOptions(gender_map={1: "female", 2: "male", 4: "non_specific"}),
}


@cache
def clean_samples() -> tuple[bytes, ...]:
    return tuple(sample_values(5000, 3, 0.0))


@cache
def poisoned_samples() -> tuple[bytes, ...]:
    return tuple(sample_values(2000, 8, 0.1))


@cache
def fuzzed() -> tuple[bytes, ...]:
    return tuple(fuzz_values(12000, 5))


def compare(options: MapperOptions, values: Iterable[bytes]) -> Counter[str]:
    """Counts of `handled` (identical), `none_python_sends` and `none_python_declines`, and of
    the handled records `with_notes`, `notes_repeated` (a note twice: shipping is billing) and
    per note class; any difference fails at once, naming the value's index."""
    core = core_for(options)
    python = PythonPath(options)
    counts: Counter[str] = Counter()
    for index, value in enumerate(values):
        ours = core.transform(value)
        theirs = python.outcome(value)
        if ours is None:
            counts["none_python_sends" if theirs is not None else "none_python_declines"] += 1
            continue
        assert theirs is not None, f"value {index}: the core handled what Python would not send"
        assert ours[:6] == theirs[:6], f"value {index}: the core's record differs from Python's"
        assert ours[6] == theirs[6], f"value {index}: notes {ours[6]} != Python's {theirs[6]}"
        counts["handled"] += 1
        found = ours[6]
        if found:
            counts["with_notes"] += 1
            counts.update(found)
            if len(set(found)) < len(found):
                counts["notes_repeated"] += 1
    return counts


@pytest.mark.parametrize("name", OPTION_SETS)
def test_sample_events(name: str) -> None:
    counts = compare(OPTION_SETS[name], clean_samples())
    # The core takes every sample event Python sends, those with notes (about a sixth: unknown
    # gender, dropped subdivision...) included, so that a core that stopped reading the newest
    # writer schema or declined noted records again fails here.
    assert counts["none_python_sends"] == 0, counts
    assert counts["handled"] >= 0.95 * len(clean_samples()), counts
    assert counts["with_notes"] > 0, counts


@pytest.mark.parametrize("name", OPTION_SETS)
def test_poisoned_sample_events(name: str) -> None:
    counts = compare(OPTION_SETS[name], poisoned_samples())
    assert counts["handled"] > 0, counts
    assert counts["none_python_declines"] > 0, counts


@pytest.mark.parametrize("name", OPTION_SETS)
def test_fuzzed_events(name: str) -> None:
    counts = compare(OPTION_SETS[name], fuzzed())
    assert counts["handled"] > 0, counts
    assert counts["none_python_declines"] + counts["none_python_sends"] > 0, counts
    # Every note class, and billing notes counted twice, among the records compared.
    assert all(counts[note] > 0 for note in NOTE_CLASSES), counts
    assert counts["notes_repeated"] > 0, counts
