"""Configuration as a user gives it: flags, kagami's environment variables and
LocalStack's names, and clear refusals of bad values."""

from __future__ import annotations

import re
import socket
import time

import pytest
import requests
from botocore.exceptions import ClientError

FLAGS = ["--listen", "--data-dir", "--default-account", "--verify-sigv4", "--services", "--log-level"]
ENVIRONMENT = ["KAGAMI_LISTEN", "KAGAMI_DATA_DIR", "KAGAMI_VERIFY_SIGV4"]

LISTENING = re.compile(r"kagami listening on http://127\.0\.0\.1:(\d+)")


# ----------------------------------------------------------------- help and version


def test_help_documents_every_flag_and_its_environment_variable(run_kagami):
    result = run_kagami("--help")
    assert result.returncode == 0, result.stderr
    for flag in FLAGS:
        assert flag in result.stdout, f"--help does not mention {flag}"
    for name in ENVIRONMENT:
        assert name in result.stdout, f"--help does not mention {name}"


def test_version_prints_the_crate_version(run_kagami):
    result = run_kagami("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"kagami \d+\.\d+\.\d+\S*\n?", result.stdout), result.stdout


# ----------------------------------------------------------------- bad configuration


@pytest.mark.parametrize("account", ["12345", "abcdefghijkl", "0000000000000", ""])
def test_bad_default_account_is_refused_at_startup(run_kagami, account):
    result = run_kagami("--listen", "127.0.0.1:0", "--default-account", account)
    assert result.returncode == 2
    assert "default-account" in result.stderr
    assert "12" in result.stderr, result.stderr
    assert "kagami listening" not in result.stdout


@pytest.mark.parametrize("listen", ["not-an-address", "127.0.0.1:70000", "127.0.0.1:-1", "300.1.1.1:4566"])
def test_bad_listen_address_is_refused_at_startup(run_kagami, listen):
    result = run_kagami("--listen", listen)
    assert result.returncode == 2
    assert "listen" in result.stderr.lower(), result.stderr
    assert "kagami listening" not in result.stdout


def test_port_in_use_is_a_clear_error(run_kagami):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_kagami("--listen", f"127.0.0.1:{port}")
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr
    assert "in use" in result.stderr.lower(), result.stderr


@pytest.mark.parametrize("name, value, expected", [
    ("KAGAMI_DEFAULT_ACCOUNT", "1234", "KAGAMI_DEFAULT_ACCOUNT"),
    ("KAGAMI_VERIFY_SIGV4", "perhaps", "KAGAMI_VERIFY_SIGV4"),
    ("PERSISTENCE", "maybe", "PERSISTENCE"),
    ("SERVICES", "sqs,nosuchservice", "nosuchservice"),
    ("GATEWAY_LISTEN", "http://localhost:4566", "GATEWAY_LISTEN"),
    ("LOCALSTACK_HOST", "http://example.com", "LOCALSTACK_HOST"),
])
def test_bad_environment_value_is_refused_naming_the_variable(run_kagami, name, value, expected):
    # A --listen flag would hide the listen variables, so those run without one.
    args = () if name.endswith("LISTEN") else ("--listen", "127.0.0.1:0")
    result = run_kagami(*args, env={name: value})
    assert result.returncode == 2
    assert expected in result.stderr, result.stderr
    assert "kagami listening" not in result.stdout


def test_unknown_flag_is_refused(run_kagami):
    result = run_kagami("--no-such-flag")
    assert result.returncode != 0
    assert "--no-such-flag" in result.stderr


def test_bad_log_level_is_refused(run_kagami):
    result = run_kagami("--listen", "127.0.0.1:0", "--log-level", "loud")
    assert result.returncode != 0
    assert "loud" in result.stderr


def test_data_dir_that_is_a_file_is_refused(run_kagami, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = run_kagami("--listen", "127.0.0.1:0", "--data-dir", str(not_a_dir))
    assert result.returncode != 0
    assert str(not_a_dir) in result.stderr


# ----------------------------------------------------------------- listen address


def _wait_listening(proc, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        match = LISTENING.search(line)
        if match:
            return int(match.group(1))
        if proc.poll() is not None:
            break
    raise AssertionError(f"no listening line; last output {line!r}")


def test_listen_flag_sets_the_address(kagami_popen, free_port):
    port = free_port()
    proc = kagami_popen("--listen", f"127.0.0.1:{port}")
    assert _wait_listening(proc) == port
    assert requests.get(f"http://127.0.0.1:{port}/_kagami/health", timeout=5).status_code == 200


def test_kagami_listen_environment_sets_the_address(kagami_popen, free_port):
    port = free_port()
    proc = kagami_popen(env={"KAGAMI_LISTEN": f"127.0.0.1:{port}"})
    assert _wait_listening(proc) == port


def test_localstack_gateway_listen_sets_the_address(kagami_popen, free_port):
    port = free_port()
    proc = kagami_popen(env={"GATEWAY_LISTEN": f"127.0.0.1:{port}"})
    assert _wait_listening(proc) == port


def test_port_flag_replaces_only_the_port(kagami_popen, free_port):
    port = free_port()
    proc = kagami_popen("--listen", "127.0.0.1:4566", "--port", str(port))
    assert _wait_listening(proc) == port


def test_flag_wins_over_the_environment(kagami_popen, free_port):
    port, other = free_port(), free_port()
    proc = kagami_popen("--listen", f"127.0.0.1:{port}", env={"KAGAMI_LISTEN": f"127.0.0.1:{other}"})
    assert _wait_listening(proc) == port


# ----------------------------------------------------------------- accounts, services, hosts


def test_default_account_applies_to_keys_that_are_not_account_ids(kagami_process):
    server = kagami_process(extra_args=["--default-account", "123456789012"])
    assert server.client("sts").get_caller_identity()["Account"] == "123456789012"
    # A 12-digit key still names its own account.
    assert server.client("sts", account="111111111111").get_caller_identity()["Account"] == "111111111111"
    url = server.client("sqs").create_queue(QueueName="in-default-account")["QueueUrl"]
    assert url.endswith("/123456789012/in-default-account")


def test_default_account_from_the_environment(kagami_process):
    server = kagami_process(env={"KAGAMI_DEFAULT_ACCOUNT": "210987654321"})
    assert server.client("sts").get_caller_identity()["Account"] == "210987654321"


@pytest.mark.parametrize("how", ["flag", "SERVICES"])
def test_services_restricts_which_services_answer(kagami_process, how):
    if how == "flag":
        server = kagami_process(extra_args=["--services", "sqs"])
    else:
        server = kagami_process(env={"SERVICES": "sqs"})
    assert server.client("sqs").list_queues().get("QueueUrls", []) == []
    with pytest.raises(ClientError) as caught:
        server.client("sts").get_caller_identity()
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error["Error"]["Code"] == "NotImplemented"
    assert "sts" in error["Error"]["Message"]


@pytest.mark.parametrize("variable", ["LOCALSTACK_HOST", "KAGAMI_HOST"])
def test_external_host_is_used_in_queue_urls(kagami_process, variable):
    server = kagami_process(env={variable: "localhost.localstack.cloud:4566"})
    url = server.client("sqs").create_queue(QueueName="hosted")["QueueUrl"]
    assert url == "http://localhost.localstack.cloud:4566/000000000000/hosted"


def test_external_host_without_port_gets_the_listening_port(kagami_process):
    server = kagami_process(env={"LOCALSTACK_HOST": "kagami.internal"})
    url = server.client("sqs").create_queue(QueueName="ported")["QueueUrl"]
    assert url == f"http://kagami.internal:{server.port}/000000000000/ported"


def test_without_external_host_queue_urls_use_the_host_called(kagami_process):
    server = kagami_process()
    url = server.client("sqs").create_queue(QueueName="called")["QueueUrl"]
    assert url == f"http://127.0.0.1:{server.port}/000000000000/called"


# ----------------------------------------------------------------- persistence


def test_state_is_in_memory_by_default(kagami_process):
    server = kagami_process()
    server.client("sqs").create_queue(QueueName="ephemeral")
    server.kill9()
    server.restart()
    assert server.client("sqs").list_queues().get("QueueUrls", []) == []


def test_data_dir_keeps_state_across_kill_9_and_is_created_if_missing(kagami_process, tmp_path):
    data_dir = tmp_path / "does" / "not" / "exist"
    server = kagami_process(data_dir=data_dir)
    url = server.client("sqs").create_queue(QueueName="durable")["QueueUrl"]
    assert data_dir.is_dir()
    server.kill9()
    server.restart()
    assert server.client("sqs").list_queues()["QueueUrls"] == [url]


def test_localstack_persistence_and_data_dir_keep_state(kagami_process, tmp_path):
    data_dir = tmp_path / "localstack-data"
    server = kagami_process(env={"PERSISTENCE": "1", "DATA_DIR": str(data_dir)})
    url = server.client("sqs").create_queue(QueueName="persisted")["QueueUrl"]
    server.kill9()
    server.restart()
    assert server.client("sqs").list_queues()["QueueUrls"] == [url]


def test_kagami_data_dir_environment_keeps_state(kagami_process, tmp_path):
    server = kagami_process(env={"KAGAMI_DATA_DIR": str(tmp_path / "kd")})
    url = server.client("sqs").create_queue(QueueName="kept")["QueueUrl"]
    server.kill9()
    server.restart()
    assert server.client("sqs").list_queues()["QueueUrls"] == [url]


# ----------------------------------------------------------------- logging


@pytest.mark.parametrize("how", ["flag", "DEBUG"])
def test_debug_logging_writes_an_access_log_line_per_request(kagami_process, how):
    if how == "flag":
        server = kagami_process(extra_args=["--log-level", "debug"])
    else:
        server = kagami_process(env={"DEBUG": "1"})
    server.client("sqs").list_queues()
    # A stopped server has written all it will write: no polling for the line.
    server.stop()
    lines = [line for line in server.log().splitlines() if "ListQueues" in line]
    assert len(lines) == 1, server.log()
    assert "POST" in lines[0] and "200" in lines[0]


def test_info_logging_has_no_access_log(kagami_process):
    server = kagami_process()
    assert server.client("sqs").list_queues().get("QueueUrls") is None
    # Stopped, so an access log line written late cannot slip past the check.
    server.stop()
    log = server.log()
    assert "kagami listening on" in log
    assert "ListQueues" not in log
