"""Everything one emulator instance holds, shared by its routes.

Platform routes (`aep_emulator.platform`) receive this object: `state.resources` is the control
plane, `state.tokens` checks bearer tokens, `state.options` holds the credential and sandbox
rules. Sandbox checks, faults and request statistics are applied in front of every IMS,
Platform and inlet route by `aep_emulator.app` (the edge), so routes need not repeat them.
"""

from __future__ import annotations

from aep_emulator.faults import FaultController, ListenerControl
from aep_emulator.ingest import IngestWorker
from aep_emulator.limits import InletLimits
from aep_emulator.options import EmulatorOptions
from aep_emulator.resources import Resources
from aep_emulator.stats import Stats
from aep_emulator.store import DataStore
from aep_emulator.tokens import TokenStore
from aep_emulator.validation import ValidatorCache


class EmulatorState:
    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.resources = Resources(
            tenant_id=options.tenant_id, public_url=options.effective_public_url
        )
        self.tokens = TokenStore(options.token_ttl_s)
        self.faults = FaultController()
        self.stats = Stats()
        self.store = DataStore(options.merge_mode)
        self.limits = InletLimits(
            options.max_requests_per_s,
            options.max_messages_per_s,
            options.sync_validation_per_min,
        )
        self.validators = ValidatorCache(self.resources)
        self.worker = IngestWorker(
            self.store,
            self.stats,
            self.validators.checker_for,
            timestamp_mode=options.merge_mode == "timestamp",
            processes=options.validation_processes,
        )
        # Set by the real server (not under a test client): closes the listening socket.
        self.listener: ListenerControl | None = None

    def reset(self, *, resources: bool = False) -> None:
        """Admin reset: data, stats, faults and rate-limit budgets; optionally resources."""
        self.worker.wait_idle()
        self.store.clear()
        self.stats.reset()
        self.faults.clear()
        self.limits.reset()
        if resources:
            self.resources.clear()

    def close(self) -> None:
        self.worker.stop()
