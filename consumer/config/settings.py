"""Settings of every command, one class per concern.

Each command builds only the classes it uses, so a setting that command does not read can never
stop it. Values come from `PROFILE_SYNC_*` environment variables first, then from the config file
(`--config FILE` or `PROFILE_SYNC_CONFIG_FILE`, JSON or YAML, the same keys without the prefix, or
the keys `init --json` prints). A wrong value raises `pydantic.ValidationError`, which
`consumer.config.errors` turns into an exit-2 message naming the variable, never the value.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, TypeVar

import yaml
from pydantic import (
    AnyHttpUrl,
    Field,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from schemas.genders import DEFAULT_GENDER_MAP, gender_map_by_id

ENV_PREFIX: Final = "PROFILE_SYNC_"
CONFIG_FILE_VARIABLE: Final = "PROFILE_SYNC_CONFIG_FILE"

# The keys `init --json` prints, and the settings they fill (docs/DESIGN.md §4).
INIT_OUTPUT_KEYS: Final[dict[str, str]] = {
    "tenant_id": "aep_tenant_id",
    "schema_id": "aep_schema_id",
    "dataset_id": "aep_dataset_id",
    "connection_id": "aep_connection_id",
    "inlet_url": "aep_inlet_url",
    "flow_id": "aep_flow_id",
    "ready_at": "aep_ready_at",
}
# Reported by `init --json` but no setting: a config file made from that output still loads.
IGNORED_FILE_KEYS: Final = frozenset({"changes"})

# JSON-valued settings are parsed by their validators (NoDecode), so that a malformed value is a
# validation error naming the variable rather than a parse crash.

# librdkafka properties the service sets itself (docs/DESIGN.md §6), written last by
# `consumer.kafka.properties`; overriding one would break the delivery guarantees, so setting one
# is a configuration error. `bootstrap.servers` and `group.id` come from their own settings.
CONSUMER_OWNED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
    }
)
PRODUCER_OWNED: Final[Mapping[str, str]] = MappingProxyType(
    {"enable.idempotence": "true", "acks": "all"}
)
OWNED_CONSUMER_PROPERTIES: Final = frozenset(CONSUMER_OWNED) | {"bootstrap.servers", "group.id"}
OWNED_PRODUCER_PROPERTIES: Final = frozenset(PRODUCER_OWNED) | {"bootstrap.servers"}
# librdkafka properties that carry a secret: held as SecretStr, unwrapped only into the client.
SECRET_KAFKA_PROPERTIES: Final = frozenset(
    {
        "sasl.password",
        "sasl.oauthbearer.client.secret",
        "ssl.key.password",
        "ssl.key.pem",
        "ssl.keystore.password",
    }
)
# A secret setting X may instead be given as X_FILE, the path of a file holding it (a mounted
# Kubernetes secret): the settings classes declare both fields, `_Settings` reads the file.
FILE_FORM_SUFFIX: Final = "_file"

_config_file_values: ContextVar[dict[str, Any] | None] = ContextVar(
    "config_file_values", default=None
)


class ConfigFileError(ValueError):
    """A setting checked outside pydantic is wrong: the config file, or an OTEL_* variable."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Values of the config file loaded by `load_config_file`, below the environment.

    Not pydantic-settings' `JsonConfigSettingsSource`/`YamlConfigSettingsSource`: they take the
    file from the class's model_config (here it comes from `--config` at run time), silently
    ignore a missing file, match keys only by exact field name (the file may use the variable
    names, any case, or the keys `init --json` prints) and cannot refuse an unknown key. Reading
    and normalising the file once, here, keeps each of those an exit-2 error naming the setting.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        values = _config_file_values.get() or {}
        return values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        values = _config_file_values.get() or {}
        return {name: values[name] for name in self.settings_cls.model_fields if name in values}


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        extra="ignore",
        hide_input_in_errors=True,
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls), file_secret_settings)

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        """`X_FILE` -> the value of `X`. Errors name the variables (the loc is the model)."""
        if not isinstance(data, dict):
            return data
        for name in cls.model_fields:
            file_field = f"{name}{FILE_FORM_SUFFIX}"
            path = data.get(file_field)
            if file_field not in cls.model_fields or path is None or path == "":
                continue
            if data.get(name) is not None:
                raise ValueError(
                    f"{variable(name)} and {variable(file_field)} are both set: set one of them"
                )
            data = {**data, name: read_secret_file(Path(str(path)), file_field)}
        return data


def read_secret_file(path: Path, file_field: str) -> SecretStr:
    """The secret a file holds, less the trailing newline `echo secret > file` writes.

    Errors name the variable and the path, never the content."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(
            f"{variable(file_field)}: cannot read {path} ({exc.strerror or type(exc).__name__})"
        ) from None
    except UnicodeDecodeError:
        raise ValueError(f"{variable(file_field)}: {path} is not UTF-8 text") from None
    value = text.rstrip("\r\n")
    if not value:
        raise ValueError(f"{variable(file_field)}: {path} is empty")
    return SecretStr(value)


def _json_object(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON object ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


KafkaProperties = dict[str, str | SecretStr]


def _refuse_owned(properties: dict[str, Any], owned: frozenset[str]) -> KafkaProperties:
    taken = sorted(owned & set(properties))
    if taken:
        raise ValueError(f"sets properties the service owns: {', '.join(taken)}")
    # librdkafka takes strings; JSON booleans become its "true"/"false".
    found: KafkaProperties = {}
    for key, value in properties.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        found[key] = SecretStr(text) if key in SECRET_KAFKA_PROPERTIES else text
    return found


def plain_properties(properties: KafkaProperties) -> dict[str, str]:
    """What librdkafka takes: the secrets unwrapped (only ever into a client's configuration)."""
    return {
        key: value.get_secret_value() if isinstance(value, SecretStr) else value
        for key, value in properties.items()
    }


class KafkaSettings(_Settings):
    """Where the events are and how the Kafka clients connect (run, produce, replay, dlq)."""

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", min_length=1)
    topic: str = Field("commerce.customer.v1", min_length=1)
    dlq_topic: str = Field("commerce.customer.v1.dlq", min_length=1)
    group_id: str = Field("commerce-profile-sync", min_length=1)
    kafka_config: Annotated[KafkaProperties, NoDecode] = Field(default_factory=dict)
    kafka_consumer_config: Annotated[KafkaProperties, NoDecode] = Field(default_factory=dict)
    kafka_producer_config: Annotated[KafkaProperties, NoDecode] = Field(default_factory=dict)
    # librdkafka's `sasl.password` for both clients, kept out of the JSON above (e.g. from a
    # mounted secret through PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE).
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_password_file: Path | None = None
    # The service's own topics (docs/DESIGN.md §11, §12): `{group_id}` and `{topic}` in a value
    # stand for those settings, so the defaults follow a renamed group or source topic.
    state_topic: str = Field("{group_id}.state", min_length=1, validate_default=True)
    replay_topic: str = Field("{topic}.replay", min_length=1, validate_default=True)

    @field_validator("state_topic", "replay_topic")
    @classmethod
    def _expand(cls, value: str, info: ValidationInfo) -> str:
        known: dict[str, str] = {
            name: info.data[name] for name in ("group_id", "topic") if name in info.data
        }
        try:
            return value.format_map(known)
        except (KeyError, ValueError, IndexError):
            raise ValueError(
                "may hold only the placeholders {group_id} and {topic} (braces otherwise doubled)"
            ) from None

    @field_validator("kafka_config", mode="before")
    @classmethod
    def _common(cls, value: Any) -> KafkaProperties:
        return _refuse_owned(
            _json_object(value), OWNED_CONSUMER_PROPERTIES | OWNED_PRODUCER_PROPERTIES
        )

    @field_validator("kafka_consumer_config", mode="before")
    @classmethod
    def _consumer(cls, value: Any) -> KafkaProperties:
        return _refuse_owned(_json_object(value), OWNED_CONSUMER_PROPERTIES)

    @field_validator("kafka_producer_config", mode="before")
    @classmethod
    def _producer(cls, value: Any) -> KafkaProperties:
        return _refuse_owned(_json_object(value), OWNED_PRODUCER_PROPERTIES)

    @field_validator("kafka_sasl_password")
    @classmethod
    def _password_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _one_sasl_password(self) -> KafkaSettings:
        if self.kafka_sasl_password is None:
            return self
        for field in ("kafka_config", "kafka_consumer_config", "kafka_producer_config"):
            if "sasl.password" in getattr(self, field):
                raise ValueError(
                    f"{variable('kafka_sasl_password')} (or its _FILE) and sasl.password in "
                    f"{variable(field)} are both set: set one of them"
                )
        return self

    def common_properties(self) -> KafkaProperties:
        """PROFILE_SYNC_KAFKA_CONFIG with the SASL password merged in."""
        if self.kafka_sasl_password is None:
            return dict(self.kafka_config)
        return {**self.kafka_config, "sasl.password": self.kafka_sasl_password}

    def secret_values(self) -> list[str]:
        """Every secret these settings hold, to scrub from a client library's messages."""
        found = [
            value.get_secret_value()
            for props in (self.kafka_config, self.kafka_consumer_config, self.kafka_producer_config)
            for value in props.values()
            if isinstance(value, SecretStr)
        ]
        if self.kafka_sasl_password is not None:
            found.append(self.kafka_sasl_password.get_secret_value())
        return [value for value in found if value]


class AvroSettings(_Settings):
    """Where writer schemas come from (run, produce, replay, dlq)."""

    schema_registry_url: AnyHttpUrl | None = None
    avro_schema_dir: Path | None = None

    @field_validator("avro_schema_dir")
    @classmethod
    def _is_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("is not a directory")
        return value


class XdmSettings(_Settings):
    """What the mapper emits (map, run, init)."""

    xdm_audit_field_group: bool = True
    xdm_tenant_fields: bool = False
    xdm_email_identity: bool = True
    # Commerce gender option id -> XDM `person.gender`; JSON keys are strings.
    gender_map: Annotated[dict[int, str], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_GENDER_MAP)
    )

    @field_validator("gender_map", mode="before")
    @classmethod
    def _gender_map(cls, value: Any) -> dict[int, str]:
        return gender_map_by_id(_json_object(value))


class AepAuthSettings(_Settings):
    """Credentials and endpoints of AEP (run, init)."""

    aep_ims_url: AnyHttpUrl = AnyHttpUrl("https://ims-na1.adobelogin.com")
    aep_platform_url: AnyHttpUrl = AnyHttpUrl("https://platform.adobe.io")
    aep_client_id: str = Field(min_length=1)
    aep_client_secret: SecretStr
    aep_client_secret_file: Path | None = None  # read into aep_client_secret (a mounted secret)
    aep_org_id: str = Field(min_length=1)
    aep_sandbox: str = Field("prod", min_length=1)
    aep_scopes: str = Field(
        "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session",
        min_length=1,
    )
    # PEM bundle of the CAs the AEP clients trust instead of the public ones (a TLS proxy's CA).
    aep_ca_bundle: Path | None = None

    @field_validator("aep_ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: Path | None) -> Path | None:
        if value is None:
            return value
        try:
            ssl.create_default_context(cafile=str(value))
        except OSError as exc:
            if not isinstance(exc, ssl.SSLError):
                raise ValueError(f"cannot read {value} ({exc.strerror})") from None
            raise ValueError(f"{value} holds no PEM CA certificate") from None
        return value

    @field_validator("aep_client_secret")
    @classmethod
    def _secret_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value


class AepResourceSettings(_Settings):
    """Names `init` reconciles, and the ids `run` uses instead of looking them up."""

    aep_schema_title: str = Field("Commerce Customer Profile", min_length=1)
    aep_dataset_name: str = Field("Commerce Customer Profiles", min_length=1)
    aep_connection_name: str = Field("commerce-profile-sync", min_length=1)
    aep_flow_name: str = Field("commerce-profile-sync", min_length=1)
    # How long a new dataflow drops data (docs/AEP.md §2.8: "wait ~5 minutes"); `init` adds it to
    # the flow's creation time to print `ready_at`. 0 suits an emulator started without warm-up.
    aep_dataflow_warmup_s: float = Field(300, ge=0)
    aep_tenant_id: str | None = None
    aep_schema_id: str | None = None
    aep_dataset_id: str | None = None
    aep_connection_id: str | None = None
    aep_flow_id: str | None = None
    aep_inlet_url: AnyHttpUrl | None = None
    aep_ready_at: datetime | None = None

    @field_validator("aep_ready_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-11-28T10:15:00Z")
        return value


class DeliverySettings(_Settings):
    """Batching, rate limits, timeouts, the dead-letter guard and the native core (run)."""

    aep_max_requests_per_s: PositiveFloat = 1000
    aep_max_records_per_s: PositiveFloat = 10000
    expected_replicas: PositiveInt = 1
    aep_request_timeout_s: PositiveFloat = 30
    revoke_timeout_s: PositiveFloat = 45
    dlq_guard_window_s: PositiveFloat = 60
    dlq_guard_min_records: PositiveInt = 200
    dlq_guard_max_share: float = Field(0.5, gt=0, le=1)
    batch_max_records: PositiveInt = 500
    batch_linger_ms: float = Field(200, ge=0)
    max_in_flight_requests: PositiveInt = 8
    # Records in the pipeline at most (lanes, requests, unacknowledged writes): the bound on
    # memory when AEP is slower than the consumer. 8 requests of 500 in flight leave 6,000 to
    # fill the next batches. 20,000 before the native core: once it made AEP the bottleneck,
    # the full buffer took the peak with a 1,000,000-record backlog to 161 MB (10,000: 143 MB,
    # drained as fast; bench/README.md, sixth round).
    max_buffered_records: PositiveInt = 10000
    # Retried AEP requests per second, process-wide; consecutive failed requests that open the
    # circuit breaker (then one probe per back-off interval).
    aep_max_retries_per_s: PositiveFloat = 10
    aep_breaker_failures: PositiveInt = 5
    # The back-off ceiling (docs/DESIGN.md §6: 60 s); tests lower it to resume quickly.
    aep_retry_backoff_cap_s: PositiveFloat = 60
    # Decode, map, validate and serialise the newest shipped schemas in native code
    # (consumer/pipeline/steps/native_core.py); false: the Python steps read every record.
    native_core: bool = True

    @property
    def process_requests_per_s(self) -> float:
        return self.aep_max_requests_per_s / self.expected_replicas

    @property
    def process_records_per_s(self) -> float:
        return self.aep_max_records_per_s / self.expected_replicas


class StateSettings(_Settings):
    """Where the stale-update guard keeps its per-partition stores (run; docs/DESIGN.md §11).

    The directory is a cache of the changelog topic: deleting it costs a restore, nothing else.
    """

    state_dir: Path = Path("state")


class TelemetrySettings(_Settings):
    """Logging (every command) and `run`'s health port. OpenTelemetry exporters read their own
    OTEL_* variables."""

    log_level: str = "INFO"
    log_format: str = Field("json", pattern="^(json|console)$")
    # /livez, /readyz and, with OTEL_METRICS_EXPORTER=prometheus, /metrics (docs/DESIGN.md §14).
    health_port: int = Field(8080, ge=0, le=65535)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level


ALL_SETTINGS: Final[tuple[type[_Settings], ...]] = (
    KafkaSettings,
    AvroSettings,
    XdmSettings,
    AepAuthSettings,
    AepResourceSettings,
    DeliverySettings,
    StateSettings,
    TelemetrySettings,
)

S = TypeVar("S", bound=_Settings)


def known_keys() -> frozenset[str]:
    return frozenset(name for cls in ALL_SETTINGS for name in cls.model_fields)


def load_config_file(path: Path | None) -> None:
    """Read the config file once; every settings class built afterwards sees its values."""
    if path is None:
        _config_file_values.set({})
        return
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(CONFIG_FILE_VARIABLE, f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError):
        raise ConfigFileError(CONFIG_FILE_VARIABLE, f"{path} is not valid JSON or YAML") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError(CONFIG_FILE_VARIABLE, f"{path} must hold one object")
    _config_file_values.set(_normalise_keys(data))


def _normalise_keys(data: dict[str, Any]) -> dict[str, Any]:
    known = known_keys()
    values: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key).lower()
        if key.startswith(ENV_PREFIX.lower()):
            key = key[len(ENV_PREFIX) :]
        key = INIT_OUTPUT_KEYS.get(key, key)
        if key in IGNORED_FILE_KEYS:
            continue
        if key not in known:
            raise ConfigFileError(
                f"{ENV_PREFIX}{key.upper()}", "unknown setting in the config file"
            )
        values[key] = value
    return values


def build(cls: type[S]) -> S:
    """Build one settings class from the environment and the loaded config file."""
    return cls()


def variable(field_name: str) -> str:
    """The environment variable a settings field is read from."""
    return f"{ENV_PREFIX}{field_name.upper()}"
