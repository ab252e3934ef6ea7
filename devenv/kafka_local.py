"""A real single-node Kafka broker (KRaft) from Maven Central jars, for development and tests.

Importable (tests, the demo) and a command line (`make kafka-up` / `make kafka-down`):

    python devenv/kafka_local.py fetch    # jars into the cache, once (needs mvn + network)
    python devenv/kafka_local.py up       # broker on PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS, detached
    python devenv/kafka_local.py status
    python devenv/kafka_local.py down

The Kafka version is pinned once, in devenv/kafka/pom.xml; devenv/README.md has the details.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
POM = REPO_ROOT / "devenv" / "kafka" / "pom.xml"
DEFAULT_CACHE = Path.home() / ".cache" / "commerce-profile-sync"
CACHE_ENV = "PROFILE_SYNC_DEVENV_CACHE"
BOOTSTRAP_ENV = "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS"
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
UP_DIR_ENV = "PROFILE_SYNC_KAFKA_UP_DIR"  # where `up` keeps data, log and pid file
DEFAULT_UP_DIR = REPO_ROOT / ".devenv" / "kafka"
STAMP_NAME = ".fetched"
READY_TIMEOUT_S = 60.0
LOG_TAIL_LINES = 40

JAVA_HINT = "install a JDK 17+ (Debian: apt-get install openjdk-17-jre-headless)"
MVN_HINT = "install Apache Maven 3.6+ (Debian: apt-get install maven)"

# Small-footprint settings for a single node on loopback; see devenv/README.md for why each.
BASE_PROPERTIES: Mapping[str, str] = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "num.partitions": "1",
    "default.replication.factor": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "share.coordinator.state.topic.num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "log.cleaner.dedupe.buffer.size": "2097152",
    "num.network.threads": "2",
    "num.io.threads": "4",
    "num.recovery.threads.per.data.dir": "1",
}

# Quiet: warnings to stderr, plus the one "Kafka Server started" line.
LOG4J2_PROPERTIES = """\
status = warn
shutdownHook = disable
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


class DevenvError(RuntimeError):
    """A failure of the local stack, with a message meant for a person."""


class ToolMissingError(DevenvError):
    """java or mvn is missing or too old."""


class BrokerStartError(DevenvError):
    """The broker died or did not become ready in time; the message holds its log tail."""


SCRAM_MECHANISM = "SCRAM-SHA-512"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required;"


@dataclass(frozen=True)
class SecureListeners:
    """Extra client listeners beside PLAINTEXT (which stays for the broker's own traffic).

    `SASL_SSL` on sasl_ssl_port: SCRAM-SHA-512 over TLS, for the `users` (name -> password),
    which KRaft needs at format time. `SSL` on mtls_port (optional): TLS with a client
    certificate signed by `ca`. `keystore` is the broker's PEM key, certificate and CA in one file.
    """

    sasl_ssl_port: int
    keystore: Path
    ca: Path
    users: Mapping[str, str] = field(repr=False)
    mtls_port: int | None = None

    def listeners(self, host: str) -> list[str]:
        found = [f"SASL_SSL://{host}:{self.sasl_ssl_port}"]
        if self.mtls_port is not None:
            found.append(f"SSL://{host}:{self.mtls_port}")
        return found

    def properties(self) -> dict[str, str]:
        props = {
            "sasl.enabled.mechanisms": SCRAM_MECHANISM,
            f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": SCRAM_LOGIN,
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.keystore),
        }
        if self.mtls_port is not None:
            props.update(
                {
                    "listener.name.ssl.ssl.client.auth": "required",
                    "listener.name.ssl.ssl.truststore.type": "PEM",
                    "listener.name.ssl.ssl.truststore.location": str(self.ca),
                }
            )
        return props

    def scram_arguments(self) -> list[str]:
        """`kafka-storage format --add-scram` for every user."""
        args: list[str] = []
        for name, password in self.users.items():
            args += ["--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={password}]"]
        return args

    def scrub(self, text: str) -> str:
        for password in self.users.values():
            text = text.replace(password, "***")
        return text


# ----------------------------------------------------------------------------------- jars


def kafka_version() -> str:
    """The one pinned Kafka version: the `kafka.version` property of devenv/kafka/pom.xml."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(POM).getroot().find("m:properties/m:kafka.version", ns)
    if node is None or not (node.text or "").strip():
        raise DevenvError(f"{POM} has no <kafka.version> property")
    return (node.text or "").strip()


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_CACHE


def jars_dir() -> Path:
    return cache_root() / f"kafka-{kafka_version()}" / "jars"


def _java_major() -> int | None:
    out = subprocess.run(
        ["java", "-XshowSettings:properties", "-version"],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in out.stderr.splitlines():
        key, _, value = line.strip().partition(" = ")
        if key == "java.specification.version":
            with contextlib.suppress(ValueError):
                return int(value.split(".")[-1] if value.startswith("1.") else value)
    return None


def check_tools(*, need_mvn: bool = True) -> None:
    """Raise ToolMissingError naming what to install when java (17+) or mvn is missing."""
    problems: list[str] = []
    if shutil.which("java") is None:
        problems.append(f"java not found: {JAVA_HINT}")
    else:
        major = _java_major()
        if major is not None and major < 17:
            problems.append(f"java {major} found, but Kafka 4 needs Java 17+: {JAVA_HINT}")
    if need_mvn and shutil.which("mvn") is None:
        problems.append(f"mvn not found: {MVN_HINT}")
    if problems:
        raise ToolMissingError("; ".join(problems))


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so parallel test sessions fetch the same jars once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def mvn_fetch(goal_args: list[str], output_dir: Path, *, pom: Path | None = None) -> None:
    """Run one dependency-plugin goal that writes into output_dir; raise with mvn's output."""
    cmd = ["mvn", "-B", "-q"]
    if pom is not None:
        cmd += ["-f", str(pom)]
    cmd += [*goal_args, f"-DoutputDirectory={output_dir}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=output_dir.parent)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise DevenvError(f"mvn failed (exit {done.returncode}): {' '.join(cmd)}\n{tail}")


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def ensure_jars() -> Path:
    """The broker's jar directory; fetched with mvn on first use only (a stamp records the pom)."""
    target = jars_dir()
    stamp = target.parent / STAMP_NAME
    digest = _pom_digest()
    if stamp.is_file() and stamp.read_text().strip() == digest and target.is_dir():
        return target
    check_tools()
    with file_lock(target.parent / ".lock"):
        if stamp.is_file() and stamp.read_text().strip() == digest and target.is_dir():
            return target
        staging = Path(tempfile.mkdtemp(prefix="jars-", dir=target.parent))
        try:
            mvn_fetch(["dependency:copy-dependencies", "-DincludeScope=runtime"], staging, pom=POM)
            if not any(staging.glob("kafka_2.13-*.jar")):
                raise DevenvError(f"mvn copied no kafka_2.13 jar into {staging}")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        stamp.write_text(digest + "\n")
    return target


# ----------------------------------------------------------------------------------- ports


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (bind to 0, read, close): never hand port 0 to Kafka."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _can_connect(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def parse_bootstrap(value: str) -> tuple[str, int]:
    """host:port of the first server of a bootstrap list."""
    first = value.split(",")[0].strip()
    host, sep, port = first.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise DevenvError(f"{BOOTSTRAP_ENV} must be host:port, got {value!r}")
    return host, int(port)


# ----------------------------------------------------------------------------------- broker


def new_cluster_id() -> str:
    """What `kafka-storage random-uuid` prints (16 random bytes, base64url), without a JVM."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def broker_properties(
    run_dir: Path,
    host: str,
    broker_port: int,
    controller_port: int,
    overrides: Mapping[str, str],
    secure: SecureListeners | None = None,
) -> dict[str, str]:
    props = dict(BASE_PROPERTIES)
    listeners = [f"PLAINTEXT://{host}:{broker_port}", f"CONTROLLER://{host}:{controller_port}"]
    if secure is not None:
        listeners += secure.listeners(host)
        props["listener.security.protocol.map"] += ",SASL_SSL:SASL_SSL,SSL:SSL"
        props.update(secure.properties())
    props.update(
        {
            "controller.quorum.bootstrap.servers": f"{host}:{controller_port}",
            "listeners": ",".join(listeners),
            "advertised.listeners": ",".join(listeners),
            "log.dirs": str(run_dir / "data"),
        }
    )
    props.update(overrides)
    return props


def _write_properties(path: Path, props: Mapping[str, str]) -> None:
    path.write_text("".join(f"{key}={value}\n" for key, value in props.items()))


def _java_command(
    jars: Path,
    run_dir: Path,
    heap: str,
    main: str,
    *args: str,
    jvm_options: Sequence[str] = (),
) -> list[str]:
    return [
        "java",
        f"-Xmx{heap}",
        "-Xms128m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        # zstd-jni and snappy unpack native libraries here; /tmp may be noexec
        f"-Djava.io.tmpdir={run_dir / 'tmp'}",
        f"-Dlog4j2.configurationFile={run_dir / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={run_dir / 'logs'}",
        *jvm_options,
        "-cp",
        f"{jars}/*",
        main,
        *args,
    ]


def format_storage(
    jars: Path,
    run_dir: Path,
    config: Path,
    cluster_id: str,
    secure: SecureListeners | None = None,
) -> None:
    cmd = _java_command(
        jars,
        run_dir,
        "256m",
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        "-t",
        cluster_id,
        "-c",
        str(config),
        *(secure.scram_arguments() if secure is not None else ()),
    )
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-3000:]
        raise BrokerStartError(
            f"formatting {run_dir / 'data'} failed (exit {done.returncode}):\n"
            + (secure.scrub(output) if secure is not None else output)
        )


def die_with_parent() -> None:
    # Linux: the broker gets SIGTERM when the process that started it dies (e.g. a killed pytest).
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def tail_file(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


def _terminate(pid: int, is_done: Callable[[], bool], timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_done():
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass
class Broker:
    """A running broker process; `bootstrap` is what clients take."""

    process: subprocess.Popen[bytes]
    run_dir: Path
    host: str
    port: int
    controller_port: int
    log_path: Path
    started_in_s: float = 0.0
    secure: SecureListeners | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def sasl_ssl_bootstrap(self) -> str:
        if self.secure is None:
            raise DevenvError("this broker has no SASL_SSL listener")
        return f"{self.host}:{self.secure.sasl_ssl_port}"

    @property
    def mtls_bootstrap(self) -> str:
        if self.secure is None or self.secure.mtls_port is None:
            raise DevenvError("this broker has no mTLS listener")
        return f"{self.host}:{self.secure.mtls_port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return tail_file(self.log_path, lines)

    def stop(self, timeout: float = 15.0, *, graceful: bool = True) -> None:
        """SIGTERM (controlled shutdown), SIGKILL after timeout; SIGKILL at once if not graceful."""
        if self.process.poll() is None:
            if graceful:
                _terminate(self.pid, lambda: self.process.poll() is not None, timeout)
            else:
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


def wait_until_ready(
    host: str,
    port: int,
    *,
    timeout: float,
    alive: Callable[[], bool],
    describe: Callable[[], str],
) -> None:
    """TCP connect (a fixed-port listener opens at the end of startup), then a metadata call."""
    from confluent_kafka.admin import AdminClient  # lazy: `fetch`/`down` need no client library

    deadline = time.monotonic() + timeout
    while not _can_connect(host, port):
        if not alive():
            raise BrokerStartError(f"the Kafka broker exited during startup\n{describe()}")
        if time.monotonic() > deadline:
            raise BrokerStartError(
                f"the Kafka broker did not open {host}:{port} within {timeout:.0f} s\n{describe()}"
            )
        time.sleep(0.1)
    admin = AdminClient({"bootstrap.servers": f"{host}:{port}", "socket.timeout.ms": 5000})
    while True:
        remaining = deadline - time.monotonic()
        try:
            metadata = admin.list_topics(timeout=max(1.0, min(5.0, remaining)))
            if metadata.brokers:
                return
        except Exception as exc:  # KafkaException: retry until the deadline
            last = repr(exc)
        else:
            last = "metadata listed no broker"
        if not alive():
            raise BrokerStartError(f"the Kafka broker exited during startup\n{describe()}")
        if time.monotonic() > deadline:
            raise BrokerStartError(
                f"the Kafka broker on {host}:{port} answered no metadata call within "
                f"{timeout:.0f} s ({last})\n{describe()}"
            )
        time.sleep(0.2)


def _secure_ports(secure: SecureListeners) -> list[int]:
    ports = [secure.sasl_ssl_port]
    if secure.mtls_port is not None:
        ports.append(secure.mtls_port)
    return ports


def _wait_for_port(host: str, port: int, timeout: float, broker: Broker) -> None:
    # the listeners open together once the broker is up: this is a short wait, if any
    deadline = time.monotonic() + timeout
    while not _can_connect(host, port):
        if broker.process.poll() is not None or time.monotonic() > deadline:
            raise BrokerStartError(
                f"the Kafka broker did not open {host}:{port}\n"
                f"--- last lines of {broker.log_path} ---\n{broker.log_tail()}"
            )
        time.sleep(0.1)


def start_broker(
    run_dir: Path,
    broker_port: int,
    controller_port: int,
    overrides: Mapping[str, str] | None = None,
    *,
    host: str = "127.0.0.1",
    heap: str = "512m",
    timeout: float = READY_TIMEOUT_S,
    detach: bool = False,
    reuse_data: bool = False,
    jvm_options: Sequence[str] = (),
    secure: SecureListeners | None = None,
) -> Broker:
    """Write the config, format storage (unless reusing formatted data), start, wait until ready.

    detach=True starts the broker in its own session so it outlives this process (`up`);
    otherwise it is tied to this process and gets SIGTERM when this process dies.
    `secure` adds the SASL_SSL (and mTLS) listeners; their SCRAM users are created at format time.
    """
    jars = ensure_jars()
    run_dir = run_dir.resolve()
    for sub in ("tmp", "logs"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    (run_dir / "log4j2.properties").write_text(LOG4J2_PROPERTIES)
    config = run_dir / "server.properties"
    props = broker_properties(run_dir, host, broker_port, controller_port, overrides or {}, secure)
    _write_properties(config, props)
    if not (reuse_data and (run_dir / "data" / "meta.properties").is_file()):
        shutil.rmtree(run_dir / "data", ignore_errors=True)
        format_storage(jars, run_dir, config, new_cluster_id(), secure)

    log_path = run_dir / "broker.log"
    log = log_path.open("ab")
    started = time.monotonic()
    process = subprocess.Popen(
        _java_command(jars, run_dir, heap, "kafka.Kafka", str(config), jvm_options=jvm_options),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=run_dir,
        start_new_session=detach,
        preexec_fn=None if detach else die_with_parent,
    )
    broker = Broker(
        process, run_dir, host, broker_port, controller_port, log_path, secure=secure, _log=log
    )
    try:
        wait_until_ready(
            host,
            broker_port,
            timeout=timeout,
            alive=lambda: process.poll() is None,
            describe=lambda: f"--- last lines of {log_path} ---\n{broker.log_tail()}",
        )
        if secure is not None:
            for port in _secure_ports(secure):
                _wait_for_port(host, port, timeout, broker)
    except BaseException:
        broker.stop(graceful=False)
        raise
    broker.started_in_s = time.monotonic() - started
    return broker


# ----------------------------------------------------------------------------------- topics


def create_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    config: Mapping[str, str] | None = None,
    *,
    timeout: float = 30.0,
    exist_ok: bool = False,
) -> None:
    """Create topics {name: partitions} (replication 1) and wait until every partition has a
    leader in the metadata, so producers and consumers can use them at once."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = [
        NewTopic(name, num_partitions=count, replication_factor=1, config=dict(config or {}))
        for name, count in topics.items()
    ]
    futures = admin.create_topics(new, operation_timeout=timeout, request_timeout=timeout)
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            exists = (
                isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS
            )
            if exist_ok and exists:
                continue
            raise DevenvError(f"creating topic {name} failed: {exc}") from exc

    deadline = time.monotonic() + timeout
    while True:
        metadata = admin.list_topics(timeout=max(1.0, deadline - time.monotonic()))
        pending = [name for name, count in topics.items() if not _usable(metadata, name, count)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise DevenvError(f"topics not usable within {timeout:.0f} s: {', '.join(pending)}")
        time.sleep(0.1)


def _usable(metadata: Any, name: str, partitions: int) -> bool:
    topic = metadata.topics.get(name)
    if topic is None or topic.error is not None:
        return False
    leaders = [p.leader for p in topic.partitions.values() if p.error is None]
    return len(leaders) >= partitions and all(leader >= 0 for leader in leaders)


# ----------------------------------------------------------------------------------- CLI


def _state_path(up_dir: Path) -> Path:
    return up_dir / "broker.json"


def _pid_path(up_dir: Path) -> Path:
    return up_dir / "broker.pid"


def _read_state(up_dir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads(_state_path(up_dir).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def up_dir() -> Path:
    configured = os.environ.get(UP_DIR_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else DEFAULT_UP_DIR


def running_broker_pid(up_dir: Path) -> int | None:
    """The pid of the broker `up` started from up_dir, if that process still runs."""
    try:
        pid = int(_pid_path(up_dir).read_text().strip())
    except (OSError, ValueError):
        return None
    if not _pid_alive(pid):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    # a reused pid is not ours: the command line names kafka.Kafka and our config
    ours = b"kafka.Kafka" in cmdline and str(up_dir.resolve()).encode() in cmdline
    return pid if ours else None


def cmd_fetch() -> int:
    started = time.monotonic()
    jars = ensure_jars()
    print(f"Kafka {kafka_version()} jars ready in {jars} ({time.monotonic() - started:.1f} s)")
    return 0


SCRAM_USER_UP = "profile-sync"


def _up_listeners(up_dir: Path, host: str, taken: set[int]) -> SecureListeners:
    """`up --secure`: a fresh throwaway CA and broker certificate on every start, the SCRAM
    password kept (0600) as long as the formatted data that holds its user."""
    import secrets

    from devenv.tls import Authority  # lazy: `fetch`/`down` need no cryptography

    tls_dir = up_dir / "tls"
    authority = Authority(tls_dir)
    server = authority.issue("broker", hosts=sorted({host, "127.0.0.1", "localhost"}))
    authority.issue("client", client=True)
    password_file = tls_dir / "scram-password"
    if not password_file.is_file():
        password_file.touch(mode=0o600)
        password_file.write_text(secrets.token_urlsafe(24) + "\n")
    ports: list[int] = []
    while len(ports) < 2:
        candidate = free_port(host)
        if candidate not in taken and candidate not in ports:
            ports.append(candidate)
    return SecureListeners(
        sasl_ssl_port=ports[0],
        keystore=server.keystore,
        ca=authority.cert_path,
        users={SCRAM_USER_UP: password_file.read_text().strip()},
        mtls_port=ports[1],
    )


def _client_settings(broker: Broker, up_dir: Path) -> str:
    """The service's settings for the secure listeners, ready to paste into a shell."""
    tls_dir = up_dir / "tls"
    sasl = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": SCRAM_MECHANISM,
        "sasl.username": SCRAM_USER_UP,
        "ssl.ca.location": str(tls_dir / "ca.pem"),
    }
    mtls = {
        "security.protocol": "SSL",
        "ssl.ca.location": str(tls_dir / "ca.pem"),
        "ssl.certificate.location": str(tls_dir / "client.pem"),
        "ssl.key.location": str(tls_dir / "client.key"),
    }
    return "\n".join(
        [
            f"SCRAM-SHA-512 over TLS on {broker.sasl_ssl_bootstrap}:",
            f"  export {BOOTSTRAP_ENV}={broker.sasl_ssl_bootstrap}",
            f"  export PROFILE_SYNC_KAFKA_CONFIG='{json.dumps(sasl)}'",
            f"  export PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE={tls_dir / 'scram-password'}",
            f"mutual TLS on {broker.mtls_bootstrap}:",
            f"  export {BOOTSTRAP_ENV}={broker.mtls_bootstrap}",
            f"  export PROFILE_SYNC_KAFKA_CONFIG='{json.dumps(mtls)}'",
        ]
    )


def cmd_up(up_dir: Path, *, secure: bool = False) -> int:
    host, port = parse_bootstrap(os.environ.get(BOOTSTRAP_ENV) or DEFAULT_BOOTSTRAP)
    pid = running_broker_pid(up_dir)
    state = _read_state(up_dir) or {}
    if pid is not None:
        if (state.get("host"), state.get("port")) == (host, port):
            print(f"Kafka broker already running on {host}:{port} (pid {pid})")
            return 0
        print(
            f"our Kafka broker already runs on {state.get('host')}:{state.get('port')} "
            f"(pid {pid}), not on {host}:{port}: run `python devenv/kafka_local.py down` first",
            file=sys.stderr,
        )
        return 1
    if not port_is_free(host, port):
        print(
            f"port {port} on {host} is already in use by another process: stop it, or set "
            f"{BOOTSTRAP_ENV} to another host:port",
            file=sys.stderr,
        )
        return 1
    check_tools(need_mvn=False)
    # the controller port is baked into formatted data (--standalone): keep it while it is free
    controller_port = state.get("controller_port")
    password_file = up_dir / "tls" / "scram-password"
    reuse = (
        isinstance(controller_port, int)
        and state.get("host") == host
        # SCRAM users live in the formatted data: a change of mode formats afresh
        and bool(state.get("secure", False)) == secure
        and (not secure or password_file.is_file())
        and controller_port != port
        and port_is_free(host, controller_port)
    )
    if not reuse:
        controller_port = port + 1 if port < 65535 and port_is_free(host, port + 1) else 0
        controller_port = controller_port or free_port(host)
    assert isinstance(controller_port, int)
    up_dir.mkdir(parents=True, exist_ok=True)
    listeners = _up_listeners(up_dir, host, {port, controller_port}) if secure else None
    broker = start_broker(
        up_dir,
        port,
        controller_port,
        {"auto.create.topics.enable": "false"},
        host=host,
        detach=True,
        reuse_data=reuse,
        secure=listeners,
    )
    _pid_path(up_dir).write_text(f"{broker.pid}\n")
    _state_path(up_dir).write_text(
        json.dumps(
            {"host": host, "port": port, "controller_port": controller_port, "secure": secure}
        )
        + "\n"
    )
    if broker._log is not None:  # the child keeps its own descriptor
        broker._log.close()
    print(
        f"Kafka broker ready on {broker.bootstrap} (pid {broker.pid}, data {up_dir}, "
        f"started in {broker.started_in_s:.1f} s)"
    )
    if listeners is not None:
        print(_client_settings(broker, up_dir))
    return 0


def cmd_down(up_dir: Path, timeout: float = 20.0) -> int:
    pid = running_broker_pid(up_dir)
    if pid is None:
        print("no local Kafka broker running")
        _pid_path(up_dir).unlink(missing_ok=True)
        return 0
    _terminate(pid, lambda: not _pid_alive(pid), timeout)
    _pid_path(up_dir).unlink(missing_ok=True)
    print(f"Kafka broker stopped (pid {pid})")
    return 0


def cmd_status(up_dir: Path) -> int:
    pid = running_broker_pid(up_dir)
    if pid is None:
        print("no local Kafka broker running")
        return 1
    state = _read_state(up_dir) or {}
    print(f"Kafka broker running on {state.get('host')}:{state.get('port')} (pid {pid})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The local Kafka broker of commerce-profile-sync")
    parser.add_argument("command", choices=["fetch", "up", "down", "status"])
    parser.add_argument(
        "--secure",
        action="store_true",
        help="up: add SASL_SSL (SCRAM-SHA-512) and mTLS listeners; prints the client settings",
    )
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[], int]] = {
        "fetch": cmd_fetch,
        "up": lambda: cmd_up(up_dir(), secure=args.secure),
        "down": lambda: cmd_down(up_dir()),
        "status": lambda: cmd_status(up_dir()),
    }
    try:
        return commands[args.command]()
    except DevenvError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
