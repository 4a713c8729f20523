"""Lambda execution environments as processes: none outlives kagami (graceful stop or
kill -9), idle ones are reaped, and in durable mode functions and their code survive a
crash and still run. Each test runs its own server."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from lambda_helpers import ROLE, create_python, package, runtime_processes

pytestmark = pytest.mark.slow

# A handler that starts a grandchild process carrying a marker, then returns.
SPAWNER = """
    import subprocess, sys
    children = []
    def handler(event, context):
        children.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", event["marker"]]))
        return "started"
"""


def wait_gone(marker: str, seconds: float = 5) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = runtime_processes(marker)
        if not left:
            return []
        time.sleep(0.1)
    return runtime_processes(marker)


def wait_present(marker: str, seconds: float = 5) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not runtime_processes(marker):
        time.sleep(0.05)
    return runtime_processes(marker)


def start_runtime(server, name: str) -> str:
    """Creates and invokes a function whose runtime leaves a marked grandchild; the marker."""
    lam = server.client("lambda")
    create_python(lam, name, SPAWNER)
    marker = f"kagami-test-marker-{uuid.uuid4().hex}"
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"marker": marker}))
    assert json.loads(r["Payload"].read()) == "started"
    assert wait_present(marker), "the handler's child should be running"
    assert runtime_processes(f"kagami-lambda-{server.pid}/python.py"), "the runtime should be running"
    return marker


def test_stopping_kagami_stops_every_function_process(kagami_process):
    server = kagami_process()
    marker = start_runtime(server, "spawner")
    pid = server.pid
    server.stop()
    assert wait_gone(marker) == [], "the handler's child process outlived kagami"
    assert wait_gone(f"kagami-lambda-{pid}/python.py") == [], "the runtime outlived kagami"


def test_killed_kagami_leaves_no_runtime_behind(kagami_process):
    server = kagami_process()
    start_runtime(server, "spawner")
    pid = server.pid
    server.kill9()
    # The runtime itself dies with its parent (PR_SET_PDEATHSIG).
    assert wait_gone(f"kagami-lambda-{pid}/python.py") == []


def test_timeout_kills_the_whole_process_group(kagami_process):
    server = kagami_process()
    lam = server.client("lambda")
    create_python(lam, "sleeper", """
        import subprocess, sys, time
        def handler(event, context):
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", event["marker"]])
            time.sleep(10)
    """, Timeout=1)
    marker = f"kagami-test-marker-{uuid.uuid4().hex}"
    r = lam.invoke(FunctionName="sleeper", Payload=json.dumps({"marker": marker}))
    assert "Task timed out after 1.00 seconds" in json.loads(r["Payload"].read())["errorMessage"]
    assert wait_gone(marker) == []


def test_idle_environments_are_reaped(kagami_process):
    server = kagami_process(env={"KAGAMI_LAMBDA_IDLE_SECONDS": "1"})
    lam = server.client("lambda")
    create_python(lam, "idle", "def handler(e, c):\n    return 1\n")
    lam.invoke(FunctionName="idle")
    runtime = f"kagami-lambda-{server.pid}/python.py"
    assert runtime_processes(runtime)
    assert wait_gone(runtime, seconds=12) == []
    # A later invoke starts a new environment.
    assert json.loads(lam.invoke(FunctionName="idle")["Payload"].read()) == 1


def test_functions_survive_kill9_and_still_invoke(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    lam = server.client("lambda")
    zip_bytes = package({"app.py": "def handler(event, context):\n    return {'hello': event['who']}\n"})
    created = lam.create_function(
        FunctionName="durable", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": zip_bytes}, Timeout=9, Environment={"Variables": {"K": "V"}},
    )
    lam.update_function_configuration(FunctionName="durable", Description="after update")
    create_python(lam, "deleted", "def handler(e, c):\n    return 1\n")
    lam.delete_function(FunctionName="deleted")
    server.kill9()
    server.restart()
    lam = server.client("lambda")
    config = lam.get_function_configuration(FunctionName="durable")
    assert config["CodeSha256"] == created["CodeSha256"]
    assert (config["Timeout"], config["Description"]) == (9, "after update")
    assert config["Environment"]["Variables"] == {"K": "V"}
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["durable"]
    r = lam.invoke(FunctionName="durable", Payload=json.dumps({"who": "restart"}))
    assert json.loads(r["Payload"].read()) == {"hello": "restart"}


def test_interpreter_is_configurable_and_a_missing_one_is_reported(kagami_process):
    server = kagami_process(env={"KAGAMI_LAMBDA_PYTHON": "/nonexistent/python9"})
    described = requests.get(server.url("/_kagami/lambda/runtimes"), timeout=5).json()
    assert described["runtimes"]["python3.12"]["command"] == "/nonexistent/python9"
    lam = server.client("lambda")
    create_python(lam, "nointerp", "def handler(e, c):\n    return 1\n")
    r = lam.invoke(FunctionName="nointerp")
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(r["Payload"].read())
    assert doc["errorType"] == "Runtime.InvalidEntrypoint"
    assert "/nonexistent/python9" in doc["errorMessage"]
    # The failed start is in the function's log, as Lambda logs a failed init.
    logs = server.client("logs")
    deadline = time.time() + 20
    messages = []
    while time.time() < deadline and not any(m.startswith("REPORT ") for m in messages):
        try:
            messages = [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/nointerp")["events"]]
        except logs.exceptions.ResourceNotFoundException:
            pass
        time.sleep(0.2)
    assert any(m.startswith("INIT_REPORT ") and "Error Type: Runtime.InvalidEntrypoint" in m for m in messages), messages
    assert doc["errorMessage"] + "\n" in messages


def test_reset_stops_environments_and_forgets_functions(kagami_process):
    server = kagami_process()
    lam = server.client("lambda")
    create_python(lam, "to-reset", "def handler(e, c):\n    return 1\n")
    lam.invoke(FunctionName="to-reset")
    runtime = f"kagami-lambda-{server.pid}/python.py"
    assert runtime_processes(runtime)
    assert server.reset("lambda").status_code == 200
    assert wait_gone(runtime) == []
    assert lam.list_functions()["Functions"] == []
