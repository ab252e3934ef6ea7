"""`profile-sync`: one console script, one subcommand per job.

This module only parses arguments and loads the settings each command uses; every command body
lives in a module of its own. A settings mistake stops the command before it connects anything,
with exit code 2 and the name of the variable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import ValidationError

from consumer import exit_codes
from consumer.config_errors import describe
from consumer.settings import (
    CONFIG_FILE_VARIABLE,
    ConfigFileError,
    S,
    TelemetrySettings,
    build,
    load_config_file,
)

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
    sys.exit(exit_codes.CONFIG_INVALID)


def load_all(config_file: Path | None, *classes: type[Any]) -> list[Any]:
    """Build several settings classes, reporting the mistakes of all of them at once."""
    try:
        load_config_file(config_file)
    except ConfigFileError as exc:
        _fail_config(describe(exc))
    built: list[Any] = []
    problems: list[str] = []
    for cls in classes:
        try:
            built.append(build(cls))
        except ValidationError as exc:
            problems.extend(describe(exc))
    if problems:
        _fail_config(problems)
    return built


def load(config_file: Path | None, cls: type[S]) -> S:
    """Build one settings class, or exit 2 naming every wrong variable."""
    settings: S = load_all(config_file, cls)[0]
    return settings


def _setup_logging(config_file: Path | None) -> None:
    from consumer.logging_setup import configure_logging

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
    from consumer import telemetry
    from consumer.run_command import run_consumer

    try:
        provider = telemetry.metrics_provider()
    except ConfigFileError as exc:
        _fail_config(describe(exc))
    telemetry.install(provider)
    try:
        code = run_consumer(config_file, exit_when_idle=exit_when_idle)
    finally:
        if provider is not None:
            provider.shutdown()
    sys.exit(code)


@main.command()
@_config_option
@click.option("--plan", is_flag=True, help="Print the changes without making them.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line on stdout.")
def init(config_file: Path | None, plan: bool, as_json: bool) -> None:
    """Reconcile the AEP schema, identity namespace, dataset and streaming dataflow."""
    _setup_logging(config_file)
    from consumer.init_command import run_init

    sys.exit(run_init(config_file, plan=plan, as_json=as_json))


@main.command(name="map")
@_config_option
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-", required=False)
def map_(config_file: Path | None, source: Any) -> None:
    """Map contract JSON lines (FILE or stdin) to AEP records, one output line per input line."""
    from consumer.map_command import options_from_settings, run_map
    from consumer.settings import AepResourceSettings, XdmSettings

    xdm, resources = load_all(config_file, XdmSettings, AepResourceSettings)
    try:
        options = options_from_settings(xdm, resources.aep_tenant_id)
    except ConfigFileError as exc:
        _fail_config(describe(exc))
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
    """Write realistic, reproducible sample events to the topic."""
    _setup_logging(config_file)
    from consumer.produce_command import run_produce

    sys.exit(
        run_produce(
            config_file,
            count=count,
            seed=seed,
            poison_share=poison_share,
            topic=topic,
            wire_format=wire_format,
        )
    )


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
    # Lazy on purpose: the runtime never imports the emulator otherwise. The emulator owns its
    # options (one parser shared with `python -m aep_emulator`), so they are passed through.
    from aep_emulator.server import main as emulator_main

    sys.exit(emulator_main(ctx.args))


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def replay() -> None:
    """Reprocess a time window of the topic (not built yet)."""
    click.echo("profile-sync replay: not built yet (a later issue)", err=True)
    sys.exit(exit_codes.USAGE_ERROR)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def dlq() -> None:
    """Inspect and redrive the dead-letter topic (not built yet)."""
    click.echo("profile-sync dlq: not built yet (a later issue)", err=True)
    sys.exit(exit_codes.USAGE_ERROR)
