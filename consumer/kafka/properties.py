"""librdkafka properties: the user's, then the ones the service owns (docs/DESIGN.md §6).

`consumer.config.settings` defines the owned properties and refuses user properties that name one,
so the owned values written last here are the ones in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from consumer.config.settings import CONSUMER_OWNED, PRODUCER_OWNED, KafkaSettings, plain_properties

# librdkafka prefetches up to 64 MiB per consumer and asks for up to 50 MiB per fetch (1 MiB per
# partition) by default: with a backlog those buffers, and the decompressed batches of lz4
# producers, were most of the process's memory and bought nothing, since one poll takes at most
# the pipeline's room (500 records) and a fetch on a live connection takes milliseconds. 2 MiB
# ahead is thousands of sample records, a fraction of a second of work at saturation (peak VmHWM,
# 300,000-record backlog: 216-223 MB with 16 MiB ahead and 1 MiB per partition, 139-146 MB with
# these; bench/README.md, issue 22). Defaults: PROFILE_SYNC_KAFKA_CONFIG and
# PROFILE_SYNC_KAFKA_CONSUMER_CONFIG may set other values. The readers of bounded topics (state
# restore, operator tools) take them too.
FETCH_QUEUE_KBYTES: Final = 2048
FETCH_MAX_BYTES: Final = 2 * 1024 * 1024
PARTITION_FETCH_BYTES: Final = 256 * 1024
# librdkafka postpones a partition's next fetch by 1 s once the queue is full: with a queue this
# small the poll thread then starved (300,000-record backlog drained in 40-46 s, 33 s with the
# 16 MiB queue; 36 s with 20 ms). librdkafka's own advice for low queue thresholds.
FETCH_QUEUE_BACKOFF_MS: Final = 20


def fetch_defaults(user: Mapping[str, str]) -> dict[str, str]:
    """The fetch bounds, for the user's properties `user` to override. librdkafka refuses a
    `fetch.max.bytes` below `message.max.bytes` or above `receive.message.max.bytes` - 512, so
    the default follows either when the user sets it."""
    fetch = FETCH_MAX_BYTES
    message_max = _integer(user.get("message.max.bytes"))
    if message_max is not None:
        fetch = max(fetch, message_max)
    receive_max = _integer(user.get("receive.message.max.bytes"))
    if receive_max is not None:
        fetch = min(fetch, receive_max - 512)
    return {
        "queued.max.messages.kbytes": str(FETCH_QUEUE_KBYTES),
        "fetch.max.bytes": str(fetch),
        "max.partition.fetch.bytes": str(PARTITION_FETCH_BYTES),
        "fetch.queue.backoff.ms": str(FETCH_QUEUE_BACKOFF_MS),
    }


def _integer(value: str | None) -> int | None:
    # Anything else is librdkafka's to refuse, naming the property.
    return int(value) if value is not None and value.strip().isdigit() else None


def _user_consumer_properties(settings: KafkaSettings) -> dict[str, str]:
    user = {
        **plain_properties(settings.common_properties()),
        **plain_properties(settings.kafka_consumer_config),
    }
    return {**fetch_defaults(user), **user}


def consumer_config(settings: KafkaSettings) -> dict[str, str]:
    return {
        **_user_consumer_properties(settings),
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "group.id": settings.group_id,
        **CONSUMER_OWNED,
    }


def bounded_reader_config(settings: KafkaSettings, group_id: str) -> dict[str, str]:
    """A reader that assigns partitions itself and reads them to their end: it never joins
    `group_id` (the client requires one) and never commits; `enable.partition.eof` tells it
    where the end is. The state restore and the operator tools (`replay`, `dlq`) read so."""
    return {
        **_user_consumer_properties(settings),
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "group.id": group_id,
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "enable.partition.eof": "true",
        "auto.offset.reset": "earliest",
    }


def replay_consumer_config(settings: KafkaSettings) -> dict[str, str]:
    """`run`'s reader of the replay topic: the consumer's properties, its own group
    `{group_id}.replay` for commits only (it is assigned partitions, never subscribes), and no
    static membership (that belongs to the service's group member)."""
    config = consumer_config(settings)
    config.pop("group.instance.id", None)
    config["group.id"] = f"{settings.group_id}.replay"
    return config


# librdkafka's default `message.max.bytes`.
_MESSAGE_MAX_BYTES = 1_000_000


def dead_letter_producer_config(
    settings: KafkaSettings, topic_max_bytes: int | None = None
) -> dict[str, str]:
    """`topic_max_bytes`: the dead-letter topic's `max.message.bytes`. The producer's bound is
    lowered to it, so that a copy over the topic's limit is refused alone, before it is batched
    (and retried without its value), instead of the broker refusing the whole batch with the
    other records' copies in it."""
    config = {
        "linger.ms": "5",
        **plain_properties(settings.common_properties()),
        **plain_properties(settings.kafka_producer_config),
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        **PRODUCER_OWNED,
    }
    if topic_max_bytes is not None:
        own = int(config.get("message.max.bytes", _MESSAGE_MAX_BYTES))
        config["message.max.bytes"] = str(max(1000, min(own, topic_max_bytes)))
    return config


def producer_config(settings: KafkaSettings) -> dict[str, str]:
    """The `produce` command's producer: same durability as the dead-letter producer."""
    return {
        "linger.ms": "20",
        "compression.type": "lz4",
        **plain_properties(settings.common_properties()),
        **plain_properties(settings.kafka_producer_config),
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        **PRODUCER_OWNED,
    }


def admin_config(settings: KafkaSettings) -> dict[str, str | int | float | bool]:
    """The admin client `init` and `run`'s start-up checks use for topic metadata."""
    return {
        **plain_properties(settings.common_properties()),
        "bootstrap.servers": settings.kafka_bootstrap_servers,
    }
