"""Operator commands that work beside the running consumer: `replay` and `dlq`.

They read and write Kafka topics only (the source topic is only ever read), so they can run at
any time without stopping `run`.
"""
