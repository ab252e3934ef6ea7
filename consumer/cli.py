"""`profile-sync`: one console script, one subcommand per job.

This module only parses arguments and loads the settings each command uses; every command body
lives in a module of its own. A settings mistake stops the command before it connects anything,
with exit code 2 and the name of the variable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from consumer.config import exit_codes
from consumer.config.errors import describe
from consumer.config.loading import ConfigurationError, load, load_all
from consumer.config.settings import CONFIG_FILE_VARIABLE, ConfigFileError, TelemetrySettings

F = TypeVar("F", bound=Callable[..., Any])


def _config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar=CONFIG_FILE_VARIABLE,
        default=None,
        help=f"JSON or YAML file with settings (or {CONFIG_FILE_VARIABLE}).",
    )(func)


def _fail_config(lines: list[str]) -> NoReturn:
    click.echo("profile-sync: configuration error:", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    sys.exit(exit_codes.USAGE)


@contextmanager
def _configuration_errors_exit() -> Iterator[None]:
    """The one place where a settings mistake becomes exit code 2."""
    try:
        yield
    except ConfigurationError as exc:
        _fail_config(exc.lines)
    except ConfigFileError as exc:
        _fail_config(describe(exc))


def _missing_extra(command: str, extra: str, exc: ImportError) -> NoReturn:
    click.echo(
        f"profile-sync {command}: needs the development tooling that is not installed here "
        f"({exc.name}); install commerce-profile-sync[{extra}] from a checkout",
        err=True,
    )
    sys.exit(exit_codes.USAGE)


def _setup_logging(config_file: Path | None) -> None:
    from consumer.observability.logs import configure_logging

    with _configuration_errors_exit():
        configure_logging(load(config_file, TelemetrySettings))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="commerce-profile-sync")
def main() -> None:
    """Keep Adobe Commerce customer profiles in step with Adobe Experience Platform."""


@main.command()
@_config_option
@click.option(
    "--exit-when-idle",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Stop cleanly after SECONDS with nothing polled, buffered or in flight.",
)
def run(config_file: Path | None, exit_when_idle: float | None) -> None:
    """Consume the topic and deliver every record to AEP (or the dead-letter topic)."""
    _setup_logging(config_file)
    from consumer.commands.allocator import tune_malloc
    from consumer.commands.run import run_consumer
    from consumer.observability import telemetry

    # Before the telemetry exporters and the clients start their threads, which would each take
    # an arena of their own.
    tune_malloc()
    with _configuration_errors_exit():
        port = load(config_file, TelemetrySettings).health_port
        providers = telemetry.configure(health_port=port)
    telemetry.install(providers)
    try:
        with _configuration_errors_exit():
            code = run_consumer(
                config_file, exit_when_idle=exit_when_idle, prometheus=providers.prometheus
            )
    finally:
        providers.shutdown()
    sys.exit(code)


@main.command()
@_config_option
@click.option("--plan", is_flag=True, help="Print the changes without making them.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line on stdout.")
def init(config_file: Path | None, plan: bool, as_json: bool) -> None:
    """Reconcile the AEP schema, identity namespace, dataset and streaming dataflow."""
    _setup_logging(config_file)
    from consumer.commands.init import run_init
    from consumer.observability import telemetry

    # Spans of the Platform calls; init serves no /metrics and exports no metrics.
    with _configuration_errors_exit():
        providers = telemetry.configure(metrics_wanted=False)
    telemetry.install(providers)
    try:
        with _configuration_errors_exit():
            code = run_init(config_file, plan=plan, as_json=as_json)
    finally:
        providers.shutdown()
    sys.exit(code)


@main.command(name="map")
@_config_option
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-", required=False)
def map_(config_file: Path | None, source: Any) -> None:
    """Map contract JSON lines (FILE or stdin) to AEP records, one output line per input line."""
    from consumer.commands.map import run_map
    from consumer.config.mapper_options import options_from_settings
    from consumer.config.settings import AepResourceSettings, XdmSettings

    with _configuration_errors_exit():
        xdm, resources = load_all(config_file, XdmSettings, AepResourceSettings)
        options = options_from_settings(xdm, resources.aep_tenant_id)
    sys.exit(run_map(source, sys.stdout, options))


@main.command()
@_config_option
@click.option("--count", type=click.IntRange(min=1), required=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--poison-share", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--topic", default=None, help="Defaults to PROFILE_SYNC_TOPIC.")
@click.option(
    "--format",
    "wire_format",
    type=click.Choice(["single-object", "confluent"]),
    default="single-object",
    show_default=True,
)
def produce(
    config_file: Path | None,
    count: int,
    seed: int,
    poison_share: float,
    topic: str | None,
    wire_format: str,
) -> None:
    """Write realistic, reproducible sample events to the topic (development tooling)."""
    _setup_logging(config_file)
    # Lazy on purpose: the sample-event generator is development tooling, not in the runtime
    # install (the container image has none).
    try:
        from devenv.produce import run_produce
    except ImportError as exc:
        _missing_extra("produce", "dev", exc)

    with _configuration_errors_exit():
        code = run_produce(
            config_file,
            count=count,
            seed=seed,
            poison_share=poison_share,
            topic=topic,
            wire_format=wire_format,
        )
    sys.exit(code)


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def emulator(ctx: click.Context) -> None:
    """Run the local AEP emulator (IMS, Platform APIs, streaming inlet, admin API).

    Options: --port P (default 8765), --public-url URL, --client-id ID --client-secret S,
    --sandbox NAME (repeatable), --dataflow-warmup-s N, --require-flow-id, and more:
    `profile-sync emulator --help` lists them all.
    """
    # Lazy on purpose: the runtime never imports the emulator otherwise, and its web stack is
    # the `emulator` extra. The emulator owns its options (one parser shared with
    # `python -m aep_emulator`), so they are passed through.
    try:
        from aep_emulator.server import main as emulator_main
    except ImportError as exc:
        _missing_extra("emulator", "emulator", exc)

    sys.exit(emulator_main(ctx.args))


class _Time(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2
    """ISO-8601 with a UTC offset, or a duration back from now (2h, 7d): bad TIME exits 2."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from datetime import UTC, datetime

        from consumer.operations.times import TimeFormatError, parse_time

        if isinstance(value, datetime):
            return value
        try:
            return parse_time(str(value), datetime.now(UTC))
        except TimeFormatError as exc:
            self.fail(str(exc), param, ctx)


TIME = _Time()
_RATE = click.FloatRange(min=0, min_open=True)


@main.command()
@_config_option
@click.option("--from", "start", type=TIME, required=True, help="Window start (inclusive).")
@click.option("--to", "end", type=TIME, default=None, help="Window end (exclusive); default now.")
@click.option("--partition", "partitions", type=click.IntRange(min=0), multiple=True)
@click.option("--customer", "customers", multiple=True, help="Customer id (the record key).")
@click.option("--execute", is_flag=True, help="Copy; without it nothing is written.")
@click.option("--rate", type=_RATE, default=None, metavar="N", help="At most N records/s.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout.")
def replay(
    config_file: Path | None,
    start: Any,
    end: Any,
    partitions: tuple[int, ...],
    customers: tuple[str, ...],
    execute: bool,
    rate: float | None,
    as_json: bool,
) -> None:
    """Copy the source records of a time window into the replay topic (dry run by default).

    TIME is ISO-8601 with a UTC offset (2026-12-01T10:00:00Z) or a duration back from now
    (90s, 15m, 2h, 7d, 1w).
    """
    _setup_logging(config_file)
    from consumer.commands.replay import run_replay
    from consumer.operations.replay import Window

    if end is not None and end <= start:
        raise click.BadParameter("must be after --from", param_hint="--to")
    window = Window(start, end, partitions, frozenset(customers))
    with _configuration_errors_exit():
        code = run_replay(config_file, window, execute=execute, rate=rate, as_json=as_json)
    sys.exit(code)


def _dlq_filters(func: F) -> F:
    options = [
        click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout."),
        click.option("--since", type=TIME, default=None, help="Dead-lettered at or after."),
        click.option("--until", type=TIME, default=None, help="Dead-lettered before."),
        click.option("--class", "class_glob", default=None, metavar="GLOB", help="e.g. decode.*"),
        click.option("--stage", default=None, help="decode, map, validate or deliver."),
        click.option("--event-type", default=None, help="e.g. CustomerUpdated."),
        click.option("--customer", "customer_id", default=None, metavar="ID"),
        click.option(
            "--partition",
            type=click.IntRange(min=0),
            default=None,
            help="Source partition of the record.",
        ),
        click.option(
            "--source-offset",
            type=click.IntRange(min=0),
            default=None,
            help="Source offset of the record.",
        ),
        _config_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filters(options: dict[str, Any]) -> Any:
    from consumer.operations.filters import Filters

    return Filters(
        since=options.pop("since"),
        until=options.pop("until"),
        class_glob=options.pop("class_glob"),
        stage=options.pop("stage"),
        event_type=options.pop("event_type"),
        customer_id=options.pop("customer_id"),
        source_partition=options.pop("partition"),
        source_offset=options.pop("source_offset"),
    )


@main.group()
def dlq() -> None:
    """Inspect, count, redrive and purge the dead-letter topic (PROFILE_SYNC_DLQ_TOPIC).

    Filters (stats, list, redrive): --since/--until TIME, --class GLOB, --stage, --event-type,
    --customer ID, --partition N and --source-offset N (both of the source record).
    """


@dlq.command(name="stats")
@_dlq_filters
@click.option(
    "--by",
    type=click.Choice(["class", "stage", "event_type", "status", "hour", "partition"]),
    default="class",
    show_default=True,
)
def dlq_stats(config_file: Path | None, as_json: bool, by: str, **options: Any) -> None:
    """Counts, oldest and newest dead letter per group."""
    _setup_logging(config_file)
    from consumer.commands import dlq as command

    filters = _filters(options)
    with _configuration_errors_exit():
        code = command.run_stats(config_file, filters, by, command.io(as_json))
    sys.exit(code)


@dlq.command(name="list")
@_dlq_filters
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N")
def dlq_list(config_file: Path | None, as_json: bool, limit: int | None, **options: Any) -> None:
    """One line per dead letter (JSON lines feed `redrive --from-file`)."""
    _setup_logging(config_file)
    from consumer.commands import dlq as command

    filters = _filters(options)
    with _configuration_errors_exit():
        code = command.run_list(config_file, filters, limit, command.io(as_json))
    sys.exit(code)


@dlq.command(name="show")
@_config_option
@click.argument("coordinates", metavar="PARTITION:OFFSET")
@click.option("--show-pii", is_flag=True, help="Show personal data unmasked.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line on stdout.")
def dlq_show(config_file: Path | None, coordinates: str, show_pii: bool, as_json: bool) -> None:
    """Everything about one dead letter (PARTITION:OFFSET of the dead-letter topic)."""
    _setup_logging(config_file)
    from consumer.commands import dlq as command

    with _configuration_errors_exit():
        code = command.run_show(config_file, coordinates, show_pii, command.io(as_json))
    sys.exit(code)


@dlq.command(name="redrive")
@_dlq_filters
@click.option("--execute", is_flag=True, help="Write; without it nothing is written.")
@click.option("--rate", type=_RATE, default=None, metavar="N", help="At most N records/s.")
@click.option(
    "--from-file",
    "selection",
    type=click.File("r", encoding="utf-8"),
    default=None,
    metavar="F",
    help="`dlq list --json` lines (- for stdin): only those dead letters.",
)
def dlq_redrive(
    config_file: Path | None,
    as_json: bool,
    execute: bool,
    rate: float | None,
    selection: Any,
    **options: Any,
) -> None:
    """Write the selected dead letters into the replay topic, for `run` to process again."""
    _setup_logging(config_file)
    from consumer.commands import dlq as command

    filters = _filters(options)
    with _configuration_errors_exit():
        code = command.run_redrive(
            config_file,
            filters,
            execute=execute,
            rate=rate,
            selection=selection,
            io=command.io(as_json),
        )
    sys.exit(code)


@dlq.command(name="purge")
@_config_option
@click.option("--before", type=TIME, default=None, help="Delete dead letters older than TIME.")
@click.option("--to-offset", default=None, metavar="P:O", help="Delete partition P below O.")
@click.option("--execute", is_flag=True, help="Delete; without it nothing is deleted.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout.")
def dlq_purge(
    config_file: Path | None,
    before: Any,
    to_offset: str | None,
    execute: bool,
    as_json: bool,
) -> None:
    """Delete dead letters from the start of the topic (Kafka deleteRecords)."""
    if (before is None) == (to_offset is None):
        raise click.UsageError("give exactly one of --before TIME and --to-offset P:O")
    _setup_logging(config_file)
    from consumer.commands import dlq as command

    with _configuration_errors_exit():
        code = command.run_purge(
            config_file,
            before=before,
            to_offset=to_offset,
            execute=execute,
            io=command.io(as_json),
        )
    sys.exit(code)
