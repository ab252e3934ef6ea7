"""Records per AEP request at saturation (>= 400): emulator accepted messages / batch requests."""

from __future__ import annotations

from bench.figures.common import Context, Figure

NAME = "records per AEP request"
TARGET = 400.0


def measure(ctx: Context) -> Figure:
    s = ctx.saturation()
    per_request = s.accepted / max(s.batch_requests, 1)
    return Figure(
        NAME,
        f"{per_request:.0f}",
        f">= {TARGET:.0f}",
        per_request >= TARGET,
        [
            f"{s.accepted:,} accepted / {s.batch_requests:,} batch requests; a batch sends only "
            f"a customer's newest record, so {s.delivered:,} source records needed "
            f"{s.accepted:,} messages"
        ],
    )
