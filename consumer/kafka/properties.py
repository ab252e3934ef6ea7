"""librdkafka properties: the user's, then the ones the service owns (docs/DESIGN.md §6).

`consumer.config.settings` already refuses user properties that name an owned one, so the owned
values
written last here are the ones in force.
"""

from __future__ import annotations

from typing import Final

from consumer.config.settings import KafkaSettings

CONSUMER_OWNED: Final[dict[str, str]] = {
    "enable.auto.offset.store": "false",
    "auto.offset.reset": "earliest",
    "partition.assignment.strategy": "cooperative-sticky",
}
PRODUCER_OWNED: Final[dict[str, str]] = {
    "enable.idempotence": "true",
    "acks": "all",
}


def consumer_config(settings: KafkaSettings) -> dict[str, str]:
    return {
        **settings.kafka_config,
        **settings.kafka_consumer_config,
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "group.id": settings.group_id,
        **CONSUMER_OWNED,
    }


def dead_letter_producer_config(settings: KafkaSettings) -> dict[str, str]:
    return {
        "linger.ms": "5",
        **settings.kafka_config,
        **settings.kafka_producer_config,
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        **PRODUCER_OWNED,
    }


def producer_config(settings: KafkaSettings) -> dict[str, str]:
    """The `produce` command's producer: same durability as the dead-letter producer."""
    return {
        "linger.ms": "20",
        "compression.type": "lz4",
        **settings.kafka_config,
        **settings.kafka_producer_config,
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        **PRODUCER_OWNED,
    }
