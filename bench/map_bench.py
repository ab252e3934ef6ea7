"""Map + validate + serialise throughput on one core, and the split between the three.

    .venv/bin/python bench/map_bench.py [--events N] [--rounds R] [--seed S]

Input: realistic sample events (devenv.sample_events, no poison) as Avro datums (datetimes,
dates), the form the consumer hands to the mapper. Each stage is timed over the whole set in
its own loop (best of R rounds, process CPU time), so the figures are per core.
Target: 15,000 events/s or more.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from typing import Any

import orjson

from devenv.sample_events import generate_events
from mappers import Delete, MapFailure, Mapper, Upsert
from schemas.avro import EventDecoder, EventEncoder, WriterSchemaRegistry
from schemas.limits import RECORD_LIMIT
from schemas.xdm import compile_validator

TARGET = 15_000


def _best(rounds: int, work: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        # CPU time of this process: the cost per core, whatever else the machine is running.
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    events = [(e.record_type, e.datum) for e in generate_events(args.events, seed=args.seed)]
    mapper = Mapper()
    validator = compile_validator(mapper.options.xdm)
    results = [mapper.map(record_type, datum) for record_type, datum in events]
    assert not any(isinstance(result, MapFailure) for result in results)
    records = [r.record for r in results if isinstance(r, Upsert | Delete)]
    upserts = [r.record for r in results if isinstance(r, Upsert)]
    assert all(not validator.validate(record) for record in upserts)

    def map_all() -> None:
        for record_type, datum in events:
            mapper.map(record_type, datum)

    # As `profile-sync run` maps: datums read back by its decoder (epoch-millisecond timestamps)
    # through `map_decoded`. Shown beside the table, not part of its total.
    encoder = EventEncoder(WriterSchemaRegistry.load())
    decoder = EventDecoder(WriterSchemaRegistry.load(), timestamps_as_millis=True)
    decoded = [decoder.decode(encoder.encode_single_object(t, d)) for t, d in events]

    def map_decoded_all() -> None:
        for event in decoded:
            mapper.map_decoded(event.record_type, event.datum)

    def validate_all() -> None:
        # Deletes carry no profile fields: the consumer validates upserts only.
        for record in upserts:
            validator.validate(record)

    def serialise_all() -> None:
        for record in records:
            # One dumps per record: the size check and the request body reuse the bytes.
            assert len(orjson.dumps(record)) <= RECORD_LIMIT

    seconds = {
        "map": _best(args.rounds, map_all),
        "validate": _best(args.rounds, validate_all),
        "serialise": _best(args.rounds, serialise_all),
    }
    total = sum(seconds.values())
    count = len(events)
    rate = count / total
    print(f"events: {count} ({len(upserts)} upserts, {count - len(upserts)} deletes), one core")
    for stage, spent in seconds.items():
        print(
            f"  {stage:<9} {spent / count * 1e6:7.2f} us/event  {spent / total:6.1%}"
            f"  ({count / spent:,.0f} events/s alone)"
        )
    spent_decoded = _best(args.rounds, map_decoded_all)
    print(
        f"  map_decoded {spent_decoded / count * 1e6:5.2f} us/event  (decoded datums, as run maps)"
    )
    verdict = "meets" if rate >= TARGET else "MISSES"
    print(f"map + validate + serialise: {rate:,.0f} events/s ({verdict} the {TARGET:,}/s target)")


if __name__ == "__main__":
    main()
