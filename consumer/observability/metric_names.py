"""Every metric name the service emits, in one place (dashboards and alerts use these).

Attributes are limited to the ones named here; none carries personal data.
"""

from typing import Final

RECORDS_IN: Final = "profile_sync.records.in"
RECORDS_DELIVERED: Final = "profile_sync.records.delivered"
RECORDS_SUPERSEDED: Final = "profile_sync.records.superseded"
RECORDS_DEAD_LETTERED: Final = "profile_sync.records.dead_lettered"
# Records older than their customer's mark: accounted for, never sent (docs/DESIGN.md §11).
RECORDS_STALE: Final = "profile_sync.records.stale"
# Delivered records from which the mapper left a value out (schemas.error_classes.NOTE_CLASSES).
RECORDS_NOTES: Final = "profile_sync.records.notes"
BATCH_RECORDS: Final = "profile_sync.batch.records"
BATCH_BYTES: Final = "profile_sync.batch.bytes"
REQUEST_DURATION: Final = "profile_sync.aep.request.duration"
REQUESTS_IN_FLIGHT: Final = "profile_sync.aep.requests.in_flight"
REQUEST_RETRIES: Final = "profile_sync.aep.request.retries"
END_TO_END_LATENCY: Final = "profile_sync.records.end_to_end_latency"
RECORDS_BUFFERED: Final = "profile_sync.records.buffered"
COMMITS: Final = "profile_sync.offsets.commits"
PARTITIONS_PAUSED: Final = "profile_sync.partitions.paused"
REBALANCES: Final = "profile_sync.consumer.rebalances"
BREAKER_OPENED: Final = "profile_sync.aep.circuit.opened"
GUARD_TRIPPED: Final = "profile_sync.dead_letter_guard.tripped"
# The stale-update guard's state (docs/DESIGN.md §11).
STATE_RESTORE_RECORDS: Final = "profile_sync.state.restore.records"
STATE_RESTORE_DURATION: Final = "profile_sync.state.restore.duration"
STATE_STORE_KEYS: Final = "profile_sync.state.store.keys"
STATE_MARK_WRITES: Final = "profile_sync.state.mark.writes"
# Lag (docs/DESIGN.md §14), per owned partition: end offset - committed position ("behind"), and
# the age of the oldest record polled and not yet accounted for ("stuck").
CONSUMER_LAG: Final = "profile_sync.consumer.lag"
OLDEST_UNACCOUNTED_AGE: Final = "profile_sync.records.oldest_unaccounted.age"

# Attribute keys.
ATTR_ERROR_CLASS: Final = "error.class"
ATTR_STAGE: Final = "stage"
ATTR_KIND: Final = "kind"  # rebalances: assigned, revoked, lost
ATTR_PARTITION: Final = "partition"  # state stores and lag: the source partition
ATTR_TOPIC: Final = "topic"  # lag: the source topic
