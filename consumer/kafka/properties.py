"""librdkafka properties: the user's, then the ones the service owns (docs/DESIGN.md §6).

`consumer.config.settings` defines the owned properties and refuses user properties that name one,
so the owned values written last here are the ones in force.
"""

from __future__ import annotations

from typing import Final

from consumer.config.settings import CONSUMER_OWNED, PRODUCER_OWNED, KafkaSettings, plain_properties

# librdkafka prefetches up to 64 MiB per consumer by default: with a backlog that is tens of MB
# of RSS that buys nothing, since one poll takes at most the pipeline's room (500 records). 16 MiB
# still holds thousands of records ahead (peak VmHWM with a 400,000-record backlog: 286 -> 223 MB).
# A default: PROFILE_SYNC_KAFKA_CONSUMER_CONFIG may set another value.
FETCH_QUEUE_KBYTES: Final = "16384"


def consumer_config(settings: KafkaSettings) -> dict[str, str]:
    return {
        "queued.max.messages.kbytes": FETCH_QUEUE_KBYTES,
        **plain_properties(settings.common_properties()),
        **plain_properties(settings.kafka_consumer_config),
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "group.id": settings.group_id,
        **CONSUMER_OWNED,
    }


def bounded_reader_config(settings: KafkaSettings, group_id: str) -> dict[str, str]:
    """A reader that assigns partitions itself and reads them to their end: it never joins
    `group_id` (the client requires one) and never commits; `enable.partition.eof` tells it
    where the end is. The state restore and the operator tools (`replay`, `dlq`) read so."""
    return {
        **plain_properties(settings.common_properties()),
        **plain_properties(settings.kafka_consumer_config),
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
