"""Lambda Invoke (RequestResponse, DryRun) of Python and Node.js handlers run as local
processes: results, handler errors, timeouts, the environment and context AWS provides,
warm reuse, LogType Tail, calls from inside the function back to kagami, and the AWS CLI."""

from __future__ import annotations

import base64
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import HAVE_NODE, ROLE, create_node, create_python, package

needs_node = pytest.mark.skipif(not HAVE_NODE, reason="node is not on PATH")


@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


def invoke(lam, name, event=None, **kwargs):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(event if event is not None else {}), **kwargs)
    return r, r["Payload"].read()


def test_python_handler_returns_json(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        def handler(event, context):
            return {"sum": event["a"] + event["b"], "items": [1, "two", None]}
    """)
    r, body = invoke(lam, name, {"a": 2, "b": 3})
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r
    assert r["ExecutedVersion"] == "$LATEST"
    assert json.loads(body) == {"sum": 5, "items": [1, "two", None]}


def test_python_exception_is_an_unhandled_function_error(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        class OrderError(Exception):
            pass

        def handler(event, context):
            raise OrderError("order 42 is missing")
    """)
    r, body = invoke(lam, name)
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(body)
    assert doc["errorType"] == "OrderError"
    assert doc["errorMessage"] == "order 42 is missing"
    assert isinstance(doc["stackTrace"], list) and any("app.py" in line for line in doc["stackTrace"])


def test_unserializable_result_is_a_marshal_error(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, "def handler(e, c):\n    return {1, 2}\n")
    r, body = invoke(lam, name)
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(body)
    assert doc["errorType"] == "Runtime.MarshalError"
    assert doc["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"


def test_handler_running_past_its_timeout_is_killed(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        import time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return "done"
    """, Timeout=1)
    started = time.monotonic()
    r, body = invoke(lam, name, {"sleep": 5})
    assert time.monotonic() - started < 4
    assert r["FunctionError"] == "Unhandled"
    message = json.loads(body)["errorMessage"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [0-9a-f-]{36} Task timed out after 1\.00 seconds", message)
    # The next invoke gets a fresh environment and works.
    r, body = invoke(lam, name, {"sleep": 0})
    assert "FunctionError" not in r and json.loads(body) == "done"


def test_handler_sees_lambda_environment_and_context(lam, unique_name):
    name = unique_name("py")
    arn = create_python(lam, name, """
        import os
        def handler(event, context):
            names = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                     "AWS_REGION", "AWS_DEFAULT_REGION", "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_LOG_GROUP_NAME",
                     "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                     "GREETING"]
            return {
                "env": {n: os.environ.get(n) for n in names},
                "cwd": os.getcwd(),
                "context": {
                    "function_name": context.function_name,
                    "function_version": context.function_version,
                    "invoked_function_arn": context.invoked_function_arn,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "aws_request_id": context.aws_request_id,
                    "log_group_name": context.log_group_name,
                    "log_stream_name": context.log_stream_name,
                    "remaining": context.get_remaining_time_in_millis(),
                },
            }
    """, MemorySize=256, Timeout=7, Environment={"Variables": {"GREETING": "hello"}})["FunctionArn"]
    r, body = invoke(lam, name)
    out = json.loads(body)
    env, ctx = out["env"], out["context"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == out["cwd"]
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] == "000000000000"
    assert env["GREETING"] == "hello"
    assert ctx["function_name"] == name and ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == arn
    assert str(ctx["memory_limit_in_mb"]) == "256"
    assert re.fullmatch(r"[0-9a-f-]{36}", ctx["aws_request_id"])
    assert ctx["log_group_name"] == f"/aws/lambda/{name}"
    assert ctx["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert 5000 < ctx["remaining"] <= 7000


def test_client_context_reaches_the_handler(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        def handler(event, context):
            cc = context.client_context
            return {"custom": cc.custom, "env": cc.env} if cc else None
    """)
    client_context = base64.b64encode(json.dumps({"custom": {"user": "u1"}, "env": {"platform": "test"}}).encode()).decode()
    r, body = invoke(lam, name, ClientContext=client_context)
    assert json.loads(body) == {"custom": {"user": "u1"}, "env": {"platform": "test"}}
    assert json.loads(invoke(lam, name)[1]) is None


def test_warm_environment_is_reused_between_invokes(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        import os
        count = 0
        def handler(event, context):
            global count
            count += 1
            return {"count": count, "pid": os.getpid()}
    """)
    results = [json.loads(invoke(lam, name)[1]) for _ in range(3)]
    assert [r["count"] for r in results] == [1, 2, 3]
    assert len({r["pid"] for r in results}) == 1


def test_concurrent_invokes_use_separate_environments(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        import os, time
        def handler(event, context):
            time.sleep(1)
            return os.getpid()
    """, Timeout=10)
    with ThreadPoolExecutor(2) as pool:
        pids = list(pool.map(lambda _: json.loads(invoke(lam, name)[1]), range(2)))
    assert len(set(pids)) == 2


def test_update_code_starts_new_environments(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, "def handler(e, c):\n    return 'v1'\n")
    assert json.loads(invoke(lam, name)[1]) == "v1"
    lam.update_function_code(FunctionName=name, ZipFile=package({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    assert json.loads(invoke(lam, name)[1]) == "v2"


def test_log_type_tail_returns_the_invocation_log(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        def handler(event, context):
            print("processing order", event["order"])
            return "ok"
    """)
    r, _ = invoke(lam, name, {"order": 7}, LogType="Tail")
    log = base64.b64decode(r["LogResult"]).decode()
    lines = log.splitlines()
    assert re.fullmatch(r"START RequestId: [0-9a-f-]{36} Version: \$LATEST", lines[0])
    request_id = lines[0].split()[2]
    assert "processing order 7" in lines
    assert f"END RequestId: {request_id}" in lines
    report = [l for l in lines if l.startswith("REPORT")]
    assert report and f"RequestId: {request_id}" in report[0]
    assert "Duration:" in report[0] and "Memory Size: 128 MB" in report[0]
    # Without LogType the log is not returned.
    assert "LogResult" not in invoke(lam, name, {"order": 8})[0]


def test_log_tail_is_the_last_4_kb(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        def handler(event, context):
            for i in range(500):
                print("line %04d of a long log" % i)
            return "ok"
    """)
    r, _ = invoke(lam, name, LogType="Tail")
    log = base64.b64decode(r["LogResult"])
    assert len(log) == 4096
    assert b"line 0499" in log and b"line 0000" not in log
    assert log.rstrip().splitlines()[-1].startswith(b"REPORT RequestId:")


def test_dry_run_checks_without_running(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, "def handler(e, c):\n    raise Exception('must not run')\n")
    r = lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert r["StatusCode"] == 204
    assert r["Payload"].read() == b""


def test_response_over_6_mb_is_an_error(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, "def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n", MemorySize=512)
    r, body = invoke(lam, name)
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(body)
    assert doc["errorType"] == "Function.ResponseSizeTooLarge"
    assert "exceeded maximum allowed payload size (6291556 bytes)" in doc["errorMessage"]


def test_request_over_6_mb_is_rejected(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, "def handler(e, c):\n    return 1\n")
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=json.dumps("x" * (6 * 1024 * 1024 + 10)))
    assert e.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_runtime_that_exits_mid_invoke_is_replaced(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, """
        import os
        def handler(event, context):
            if event.get("crash"):
                os._exit(3)
            return os.getpid()
    """)
    r, body = invoke(lam, name, {"crash": True})
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(body)
    assert doc["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status: 3" in doc["errorMessage"]
    r, body = invoke(lam, name)
    assert "FunctionError" not in r and isinstance(json.loads(body), int)


def test_missing_handler_module_is_an_import_error(lam, unique_name):
    name = unique_name("py")
    create_python(lam, name, "def handler(e, c):\n    return 1\n", handler="nothere.handler")
    r, body = invoke(lam, name)
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(body)
    assert doc["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'nothere'" in doc["errorMessage"]


def test_function_calls_kagami_sqs_with_boto3(lam, aws_client, unique_name):
    pytest.importorskip("boto3")
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName=unique_name("from-lambda"))["QueueUrl"]
    name = unique_name("py")
    create_python(lam, name, """
        import boto3
        def handler(event, context):
            sqs = boto3.client("sqs")
            r = sqs.send_message(QueueUrl=event["queue"], MessageBody="sent by " + context.function_name)
            return r["MessageId"]
    """, Timeout=30)
    r, body = invoke(lam, name, {"queue": queue_url})
    assert "FunctionError" not in r, body
    message_id = json.loads(body)
    got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert got[0]["MessageId"] == message_id and got[0]["Body"] == f"sent by {name}"


def test_provided_runtime_runs_the_package_bootstrap(lam, unique_name):
    name = unique_name("sh")
    bootstrap = """\
        #!/bin/sh
        # A custom runtime in shell: echo each event back, upper-cased.
        API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
        while true; do
          HEADERS=$(mktemp)
          EVENT=$(python3 -c "import sys,urllib.request as u; r=u.urlopen(sys.argv[1]); open(sys.argv[2],'w').write(r.headers['Lambda-Runtime-Aws-Request-Id']); print(r.read().decode())" "$API/invocation/next" "$HEADERS")
          ID=$(cat "$HEADERS")
          UPPER=$(printf '%s' "$EVENT" | tr a-z A-Z)
          python3 -c "import sys,urllib.request as u; u.urlopen(u.Request(sys.argv[1], data=sys.argv[2].encode(), method='POST'))" "$API/invocation/$ID/response" "$UPPER"
        done
    """
    lam.create_function(
        FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="unused",
        Code={"ZipFile": package({"bootstrap": bootstrap}, modes={"bootstrap": 0o755})},
    )
    r, body = invoke(lam, name, {"say": "hi"})
    assert "FunctionError" not in r, body
    assert json.loads(body) == {"SAY": "HI"}


@needs_node
def test_node_async_handler(lam, unique_name):
    name = unique_name("js")
    create_node(lam, name, """
        exports.handler = async (event, context) => {
          return { doubled: event.n * 2, name: context.functionName, remaining: context.getRemainingTimeInMillis() > 0 };
        };
    """)
    r, body = invoke(lam, name, {"n": 21})
    assert "FunctionError" not in r, body
    assert json.loads(body) == {"doubled": 42, "name": name, "remaining": True}


@needs_node
def test_node_callback_handler(lam, unique_name):
    name = unique_name("js")
    create_node(lam, name, """
        let count = 0;
        exports.handler = (event, context, callback) => {
          count += 1;
          setTimeout(() => callback(null, { count, id: context.awsRequestId }), 10);
        };
    """)
    first = json.loads(invoke(lam, name)[1])
    second = json.loads(invoke(lam, name)[1])
    assert (first["count"], second["count"]) == (1, 2)
    assert first["id"] != second["id"]


@needs_node
def test_node_es_module_handler(lam, unique_name):
    name = unique_name("js")
    lam.create_function(
        FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
        Code={"ZipFile": package({"index.mjs": "export const handler = async (event) => ({ esm: event.v });\n"})},
    )
    r, body = invoke(lam, name, {"v": 1})
    assert "FunctionError" not in r, body
    assert json.loads(body) == {"esm": 1}


@needs_node
def test_node_error_is_reported_in_lambda_format(lam, unique_name):
    name = unique_name("js")
    create_node(lam, name, """
        exports.handler = async () => { throw new TypeError("bad input"); };
    """)
    r, body = invoke(lam, name)
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(body)
    assert (doc["errorType"], doc["errorMessage"]) == ("TypeError", "bad input")


def test_aws_cli_invoke_writes_the_result(aws_cli, lam, unique_name, tmp_path):
    name = unique_name("py")
    create_python(lam, name, "def handler(e, c):\n    return {'echo': e}\n")
    out = tmp_path / "out.json"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"k": "v"}))
    meta = aws_cli("lambda", "invoke", "--function-name", name, "--payload", f"fileb://{event}", str(out))
    assert meta["StatusCode"] == 200 and meta["ExecutedVersion"] == "$LATEST"
    assert json.loads(out.read_text()) == {"echo": {"k": "v"}}
    listed = aws_cli("lambda", "get-function", "--function-name", name)
    assert listed["Configuration"]["FunctionName"] == name


def test_event_invocation_answers_202_and_runs_in_background(lam, aws_client, unique_name):
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName=unique_name("async"))["QueueUrl"]
    name = unique_name("py")
    create_python(lam, name, """
        import boto3
        def handler(event, context):
            boto3.client("sqs").send_message(QueueUrl=event["queue"], MessageBody="async " + event["n"])
    """, Timeout=30)
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"queue": queue_url, "n": "1"}))
    assert r["StatusCode"] == 202
    assert r["Payload"].read() == b""
    got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10)["Messages"]
    assert got[0]["Body"] == "async 1"


def test_python_runtime_looks_like_a_normal_interpreter(lam, unique_name):
    # kagami starts Python without site processing and adds the site directories
    # itself: the handler must still see the builtins site adds, an argv of the
    # bootstrap alone, the standard library before site-packages, and no user site.
    name = unique_name("py")
    create_python(lam, name, """
        import site, sys
        def handler(event, context):
            stdlib = min(i for i, p in enumerate(sys.path) if p.endswith(("lib/python%d.%d" % sys.version_info[:2])))
            sites = [i for i, p in enumerate(sys.path) if p.endswith(("site-packages", "dist-packages"))]
            return {
                "builtins": [callable(exit), callable(quit), callable(help)],
                "argv": len(sys.argv),
                "site_after_stdlib": bool(sites) and min(sites) > stdlib,
                "user_site": any(p.startswith(site.getuserbase()) for p in sys.path),
            }
    """)
    r, body = invoke(lam, name)
    assert "FunctionError" not in r, body
    assert json.loads(body) == {"builtins": [True, True, True], "argv": 1, "site_after_stdlib": True, "user_site": False}
