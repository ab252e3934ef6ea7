"""The stale-update guard's state (docs/DESIGN.md §11): per-customer marks, their on-disk store
per source partition, and the decision that skips records older than their mark."""
