"""`make demo`: the main job end to end on a local stack, then a summary of what arrived.

1. Start a real Kafka broker and the AEP emulator on free loopback ports (devenv/stack.py).
2. Provision AEP with `profile-sync init --json` (its output is the consumer's config file).
3. Produce sample events, some of them poison, with `profile-sync produce`.
4. Run `profile-sync run --exit-when-idle` until everything is delivered or dead-lettered.
5. Count, from what the emulator and the dead-letter topic hold (devenv/accounting.py), and
   stop everything started here.

The last stdout line is `demo: produced P, delivered D, dead-lettered Q, lost L`; the exit code
is 0 only when L = 0 and D > 0.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devenv.accounting import read_partitions
from devenv.stack import DLQ_TOPIC, TOPIC, LocalStack, StepFailedError

EVENTS = int(os.environ.get("DEMO_EVENTS", "12000"))
POISON_SHARE = float(os.environ.get("DEMO_POISON_SHARE", "0.02"))
PARTITIONS = 6

T = TypeVar("T")


def say(text: str) -> None:
    print(text, flush=True)


def run_step(name: str, step: Callable[[], T]) -> T:
    started = time.monotonic()
    try:
        result = step()
    except StepFailedError as exc:
        say(f"{name}: exit {exc.returncode}; stderr tail:")
        say("\n".join(exc.stderr.splitlines()[-20:]))
        raise SystemExit(1) from None
    say(f"{name}: done in {time.monotonic() - started:.1f} s")
    return result


def dead_letter_classes(bootstrap: str) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for message in read_partitions(bootstrap, DLQ_TOPIC):
        headers = dict(message.headers() or [])
        counts[(headers.get("profile_sync.error.class") or b"?").decode()] += 1
    return counts


def main() -> int:
    with LocalStack(partitions=PARTITIONS, topic=TOPIC, dlq_topic=DLQ_TOPIC) as stack:
        say(f"demo: working in {stack.work}")
        say(f"demo: Kafka broker on {stack.bootstrap}, topics {TOPIC} ({PARTITIONS}), {DLQ_TOPIC}")
        say(f"demo: AEP emulator on {stack.emulator_url}")

        config = run_step("init", stack.init)
        summary = run_step(
            "produce", lambda: stack.produce(EVENTS, seed=7, poison_share=POISON_SHARE)
        )
        say(f"produce: {json.dumps(summary)}")
        finished = run_step("run", lambda: stack.run_until_idle(config, idle_s=3, check=True))

        result = stack.account()
        stats = stack.emulator_stats()
        say(f"run: {finished.elapsed_s:.1f} s including start-up and the idle wait")
        say(f"emulator: {json.dumps(stats['messages'], sort_keys=True)}")
        say(f"dead letters by class: {dict(sorted(dead_letter_classes(stack.bootstrap).items()))}")
        if result.lost:
            say(f"lost records (first 10): {result.lost_coordinates[:10]}")
        say(result.line())
        return 0 if result.lost == 0 and result.delivered > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
