"""Shared test helpers: the real Kafka broker and the Schema Registry used by integration tests."""
