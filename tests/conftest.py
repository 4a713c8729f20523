"""Fixtures for kagami's black-box tests.

Every test talks to a real kagami release binary over HTTP, with the same clients
users have: boto3, the AWS CLI and raw HTTP.

Fixtures
--------
kagami          (session) the shared server: `.endpoint`, `.port`, `.pid`, `.client()`,
                `.cli()`, `.log()`. Never reset between tests: use `unique_name` for every
                resource. A test that changes global state (the clock, a reset, a crash)
                starts its own server with `kagami_process` instead.
aws_client      factory: aws_client("sqs", region="us-east-1", account=None,
                credentials=None, config=None) -> boto3 client at the shared server.
aws_cli         aws_cli("sqs", "create-queue", "--queue-name", "q") -> parsed JSON
                ({} for empty output); expect_error=True -> (returncode, stderr).
http            raw requests against the shared server: http.get("/_kagami/health"),
                http.post(...), http.request(...), http.signed(...) (SigV4-signed).
kagami_process  factory: kagami_process(data_dir=None, extra_args=(), env=None) -> a
                private server with `.kill9()`, `.restart()`, `.stop()`, `.client()`.
kagami_factory  (session) the same factory for module-scoped fixtures: servers live until
                the session ends unless the fixture stops them.
run_kagami      run_kagami("--help", env={...}) -> CompletedProcess, for runs that exit
                by themselves (bad configuration); fails the test if kagami keeps running.
kagami_popen    kagami_popen(*args, env=None) -> Popen with exactly these arguments.
free_port       free_port() -> a port nothing listens on right now.
sigv4_headers   sigv4_headers("POST", url, "sts", body=...) -> headers signed by botocore.
kagami_binary   path of the binary (KAGAMI_BINARY overrides target/release/kagami).
unique_name     unique_name("q") -> "q-3f9c0d2a71b4", unique per call.

With pytest-xdist every worker has its own shared server, so tests stay isolated.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Mapping

import boto3
import botocore.config
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = REPO_ROOT / "target" / "release" / "kagami"

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
TEST_ACCESS_KEY = "test"
TEST_SECRET_KEY = "test"

# Long polling may hold a request for 20 s; the read timeout leaves slack for a slow CI.
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 40
STARTUP_TIMEOUT_S = 20
STOP_TIMEOUT_S = 10

LISTENING_LINE = re.compile(r"kagami listening on (http://([^\s:/]+):(\d+))")

# Configuration a developer's shell may carry that would change the server under test.
_SERVER_ENV_TO_CLEAR = (
    "SERVICES",
    "PERSISTENCE",
    "DATA_DIR",
    "GATEWAY_LISTEN",
    "LOCALSTACK_HOST",
    "DEBUG",
    "RUST_LOG",
)

# Keep the developer's own AWS configuration (profiles, endpoints, regions) away from
# the clients under test: everything they need is passed explicitly.
_ISOLATION_DIR = Path(tempfile.mkdtemp(prefix="kagami-tests-awsconfig-"))
for _name in list(os.environ):
    if _name.startswith("AWS_"):
        del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = str(_ISOLATION_DIR / "config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(_ISOLATION_DIR / "credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes several seconds (long polling, restarts)")


# --------------------------------------------------------------------------- helpers


def make_unique_name(prefix: str = "kagami") -> str:
    """A name no other test uses; short enough for every AWS name limit we test."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a kagami process: ours without kagami's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGAMI_")}
    for name in _SERVER_ENV_TO_CLEAR:
        env.pop(name, None)
    env.update(overrides or {})
    return env


def client_config(**overrides: Any) -> botocore.config.Config:
    """botocore settings for tests: no retries, so an error surfaces at once."""
    settings: dict[str, Any] = dict(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        # Host prefixes ("data-", "{AccountId}.") cannot resolve against 127.0.0.1.
        inject_host_prefix=False,
        s3={"addressing_style": "path"},
    )
    settings.update(overrides)
    return botocore.config.Config(**settings)


def credentials_for(
    account: str | None = None, credentials: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """Access key, secret and token: issued credentials, a 12-digit key, or test/test."""
    if credentials is not None:
        return {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials.get("SessionToken"),
        }
    if account is not None:
        return {
            "aws_access_key_id": account,
            "aws_secret_access_key": TEST_SECRET_KEY,
            "aws_session_token": None,
        }
    return {
        "aws_access_key_id": TEST_ACCESS_KEY,
        "aws_secret_access_key": TEST_SECRET_KEY,
        "aws_session_token": None,
    }


def make_client(
    endpoint: str,
    service: str,
    region: str = DEFAULT_REGION,
    account: str | None = None,
    credentials: Mapping[str, str] | None = None,
    config: botocore.config.Config | None = None,
):
    session = boto3.session.Session()
    cfg = client_config()
    if config is not None:
        cfg = cfg.merge(config)
    return session.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        config=cfg,
        **credentials_for(account, credentials),
    )


class CliError(AssertionError):
    pass


def run_cli(
    endpoint: str,
    *args: str,
    region: str = DEFAULT_REGION,
    account: str | None = None,
    credentials: Mapping[str, str] | None = None,
    expect_error: bool = False,
    timeout: float = 60,
):
    """Runs the pinned AWS CLI (v1, from this interpreter) against `endpoint`."""
    creds = credentials_for(account, credentials)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=creds["aws_access_key_id"] or "",
        AWS_SECRET_ACCESS_KEY=creds["aws_secret_access_key"] or "",
        AWS_CONFIG_FILE=str(_ISOLATION_DIR / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(_ISOLATION_DIR / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
        AWS_PAGER="",
    )
    if creds["aws_session_token"]:
        env["AWS_SESSION_TOKEN"] = creds["aws_session_token"]
    cmd = [
        sys.executable,
        "-m",
        "awscli",
        "--endpoint-url",
        endpoint,
        "--region",
        region,
        "--output",
        "json",
        *args,
    ]
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if expect_error:
        if proc.returncode == 0:
            raise CliError(f"expected `aws {' '.join(args)}` to fail, it printed:\n{proc.stdout}")
        return proc.returncode, proc.stderr
    if proc.returncode != 0:
        raise CliError(
            f"`aws {' '.join(args)}` exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}"
        )
    out = proc.stdout.strip()
    return json.loads(out) if out else {}


def sign_request(
    method: str,
    url: str,
    service: str,
    region: str = DEFAULT_REGION,
    body: bytes | str = b"",
    headers: Mapping[str, str] | None = None,
    access_key: str = TEST_ACCESS_KEY,
    secret_key: str = TEST_SECRET_KEY,
    session_token: str | None = None,
) -> dict[str, str]:
    """SigV4 headers for a raw request, signed by botocore as an SDK would."""
    if isinstance(body, str):
        body = body.encode()
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(access_key, secret_key, session_token), service, region).add_auth(
        request
    )
    return dict(request.headers.items())


# --------------------------------------------------------------------------- servers


class KagamiServer:
    """One kagami process on a free 127.0.0.1 port, owned by the test that started it."""

    def __init__(
        self,
        binary: Path,
        workdir: Path,
        data_dir: str | os.PathLike | None = None,
        extra_args: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
    ):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.extra_args = list(extra_args)
        self.env_overrides = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.endpoint: str | None = None
        self._starts = 0

    # -- lifecycle

    def start(self, port: int = 0) -> "KagamiServer":
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("kagami is already running")
        self._starts += 1
        stdout_path = self.workdir / f"stdout.{self._starts}.log"
        stderr_path = self.workdir / f"stderr.{self._starts}.log"
        args = [str(self.binary), "--listen", f"127.0.0.1:{port}"]
        if self.data_dir is not None:
            args += ["--data-dir", str(self.data_dir)]
        args += self.extra_args
        env = server_environment(self.env_overrides)
        # Files, not pipes: a chatty server can never block on a full pipe.
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=self.workdir
            )
        self._stdout_path, self._stderr_path = stdout_path, stderr_path
        _LIVE_SERVERS.add(self)
        try:
            self._wait_listening()
            self._wait_healthy()
        except Exception:
            self._terminate(signal.SIGKILL)
            raise
        return self

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            match = LISTENING_LINE.search(self._stdout_path.read_text(errors="replace"))
            if match:
                self.endpoint = match.group(1)
                self.port = int(match.group(3))
                return
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"kagami exited with {self.proc.returncode} before listening:\n{self.log()}"
                )
            time.sleep(0.005)
        raise RuntimeError(f"kagami did not print its listening line in time:\n{self.log()}")

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                response = requests.get(f"{self.endpoint}/_kagami/health", timeout=2)
                if response.status_code == 200:
                    return
                last_error = RuntimeError(f"health answered {response.status_code}")
            except requests.RequestException as e:
                last_error = e
            if self.proc.poll() is not None:
                raise RuntimeError(f"kagami exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.01)
        raise RuntimeError(f"kagami never became healthy ({last_error}):\n{self.log()}")

    def kill9(self) -> None:
        """Crash: SIGKILL, no chance to flush anything not yet durable."""
        self._terminate(signal.SIGKILL)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Graceful stop (SIGTERM), SIGKILL if it does not exit in time; the exit code."""
        return self._terminate(signal.SIGTERM, timeout)

    def restart(self, same_port: bool = True) -> "KagamiServer":
        """Stops (if running) and starts again with the same data dir and arguments.

        The same port by default, so queue URLs handed out before stay valid.
        """
        port = self.port if same_port and self.port else 0
        if self.running:
            self.stop()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                return self.start(port=port)
            except RuntimeError as e:
                # The old socket may linger for a moment after a crash.
                if port and "in use" in str(e).lower() and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise

    def _terminate(self, sig: int, timeout: float = STOP_TIMEOUT_S) -> int | None:
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        _LIVE_SERVERS.discard(self)
        return proc.returncode

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def log(self) -> str:
        """Everything the server printed in its latest run (stdout, then stderr)."""
        parts = []
        for path in (getattr(self, "_stdout_path", None), getattr(self, "_stderr_path", None)):
            if path is not None and path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    # -- clients

    def client(self, service: str, region: str = DEFAULT_REGION, account=None, credentials=None, config=None):
        return make_client(self.endpoint, service, region, account, credentials, config)

    def cli(self, *args: str, **kwargs):
        return run_cli(self.endpoint, *args, **kwargs)

    def url(self, path: str) -> str:
        return f"{self.endpoint}{path}"

    def reset(self, service: str | None = None) -> requests.Response:
        params = {"service": service} if service else None
        return requests.post(self.url("/_kagami/reset"), params=params, timeout=10)

    def advance_clock(self, seconds: float) -> requests.Response:
        return requests.post(
            self.url("/_kagami/clock"), json={"advance_seconds": seconds}, timeout=10
        )

    def __repr__(self) -> str:
        return f"<kagami pid={self.pid} endpoint={self.endpoint}>"


_LIVE_SERVERS: set[KagamiServer] = set()


def pytest_unconfigure(config: pytest.Config) -> None:
    # Last line of defence: no server outlives the test run, even after an internal error.
    for server in list(_LIVE_SERVERS):
        server.kill9()
    shutil.rmtree(_ISOLATION_DIR, ignore_errors=True)


class HttpHelper:
    """Raw HTTP against one server, for internal endpoints and hand-made requests."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.endpoint}{path}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", READ_TIMEOUT_S)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def options(self, path: str, **kwargs) -> requests.Response:
        return self.request("OPTIONS", path, **kwargs)

    def signed(
        self,
        method: str,
        path: str,
        service: str,
        region: str = DEFAULT_REGION,
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
        access_key: str = TEST_ACCESS_KEY,
        secret_key: str = TEST_SECRET_KEY,
        session_token: str | None = None,
        **kwargs,
    ) -> requests.Response:
        """A SigV4-signed raw request, e.g. a query-protocol form post."""
        url = self.url(path)
        signed_headers = sign_request(
            method, url, service, region, body, headers, access_key, secret_key, session_token
        )
        return self.request(method, url, data=body, headers=signed_headers, **kwargs)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def kagami_binary() -> Path:
    binary = Path(os.environ.get("KAGAMI_BINARY", DEFAULT_BINARY))
    if not binary.is_file():
        pytest.fail(
            f"kagami binary not found at {binary}: run `cargo build --release -p kagami` "
            "or set KAGAMI_BINARY",
            pytrace=False,
        )
    return binary


@pytest.fixture(scope="session")
def kagami(kagami_binary: Path, tmp_path_factory: pytest.TempPathFactory):
    server = KagamiServer(kagami_binary, tmp_path_factory.mktemp("kagami-shared"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws_client(kagami: KagamiServer):
    def factory(
        service: str,
        region: str = DEFAULT_REGION,
        account: str | None = None,
        credentials: Mapping[str, str] | None = None,
        config: botocore.config.Config | None = None,
    ):
        return make_client(kagami.endpoint, service, region, account, credentials, config)

    return factory


@pytest.fixture
def aws_cli(kagami: KagamiServer):
    def run(
        *args: str,
        region: str = DEFAULT_REGION,
        account: str | None = None,
        credentials: Mapping[str, str] | None = None,
        expect_error: bool = False,
    ):
        return run_cli(
            kagami.endpoint,
            *args,
            region=region,
            account=account,
            credentials=credentials,
            expect_error=expect_error,
        )

    return run


@pytest.fixture
def http(kagami: KagamiServer):
    helper = HttpHelper(kagami.endpoint)
    yield helper
    helper.session.close()


def _server_factory(binary: Path, tmp_path_factory: pytest.TempPathFactory, started: list):
    def factory(
        data_dir: str | os.PathLike | None = None,
        extra_args: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> KagamiServer:
        server = KagamiServer(
            binary,
            tmp_path_factory.mktemp("kagami-private"),
            data_dir=data_dir,
            extra_args=extra_args,
            env=env,
        )
        started.append(server)
        return server.start()

    return factory


@pytest.fixture
def kagami_process(kagami_binary: Path, tmp_path_factory: pytest.TempPathFactory):
    started: list[KagamiServer] = []
    yield _server_factory(kagami_binary, tmp_path_factory, started)
    for server in started:
        server.kill9()


@pytest.fixture(scope="session")
def kagami_factory(kagami_binary: Path, tmp_path_factory: pytest.TempPathFactory):
    started: list[KagamiServer] = []
    yield _server_factory(kagami_binary, tmp_path_factory, started)
    for server in started:
        server.kill9()


@pytest.fixture
def run_kagami(kagami_binary: Path, tmp_path: Path):
    def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = 10):
        try:
            return subprocess.run(
                [str(kagami_binary), *args],
                env=server_environment(env),
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as e:
            pytest.fail(
                f"`kagami {' '.join(args)}` was still running after {timeout} s instead of "
                f"exiting; it printed:\n{e.stdout}\n{e.stderr}"
            )

    return run


@pytest.fixture
def kagami_popen(kagami_binary: Path, tmp_path: Path):
    """kagami_popen(*args, env=None) -> Popen of kagami with exactly these arguments (no
    --listen added), stdout as text pipe; killed at test end."""
    procs: list[subprocess.Popen] = []

    def start(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            [str(kagami_binary), *args],
            env=server_environment(env),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.fixture
def free_port():
    return free_tcp_port


@pytest.fixture
def sigv4_headers():
    """sigv4_headers(method, url, service, body=..., headers=...) -> signed headers."""
    return sign_request


@pytest.fixture
def unique_name():
    return make_unique_name
