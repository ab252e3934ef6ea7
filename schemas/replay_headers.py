"""Headers of the records the operator commands write into the replay topic.

`replay` copies source records and `dlq redrive` writes dead letters back, both into the replay
topic. These headers say where a record really comes from, so that `run` gives it the ordering
key of its original offset (a replayed version never rolls a profile back), and which operation
wrote it. Shared by the writers and by `run`, which reads them.
"""

from __future__ import annotations

from typing import Final

SOURCE_TOPIC: Final = "profile_sync.source.topic"
SOURCE_PARTITION: Final = "profile_sync.source.partition"
SOURCE_OFFSET: Final = "profile_sync.source.offset"
REPLAY_ID: Final = "profile_sync.replay.id"
REDRIVE_ID: Final = "profile_sync.redrive.id"
# On a redriven record: the delivery attempts its dead letter had (`run` adds one when the
# record fails again, so `dlq stats` shows what a redrive fixed).
ATTEMPTS: Final = "profile_sync.attempts"

PROVENANCE: Final = frozenset(
    {SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET, REPLAY_ID, REDRIVE_ID}
)
