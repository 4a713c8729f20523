"""Every operation of every implemented service, called by boto3 with client-side
validation off and each input member in turn set to a hostile value (empty, very long,
path-like, NUL, non-ASCII, negative, huge, a wrong type): the answer is always one of
AWS's client errors (4xx with an error code), or `NotImplemented` (501) for an
operation docs/coverage.md lists as missing, never a 5xx, a dropped connection or a
hang. Unlike the per-service hostile tests this asserts no particular code: it guards
the promise that bad input gets an error, across the model."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.config
import botocore.exceptions
import pytest
from botocore import xform_name
from botocore.parsers import ResponseParserError

SERVICES = ["s3", "sqs", "sns", "sts", "dynamodb", "kinesis", "lambda", "logs", "events"]
HOSTILE = ["", "a" * 5000, "../../etc/passwd", "%00\u0000", "\u00e9\u4e2d\U0001f600", -1, 2**63, "*"]
# Operations whose endpoint carries a host prefix made from an input member: the client
# cannot reach a local endpoint for them, whatever the server does.
HOST_PREFIXED = {("s3", "WriteGetObjectResponse")}
PLACEHOLDERS = {
    "string": "placeholder1",
    "integer": 1,
    "long": 1,
    "boolean": True,
    "blob": b"x",
    "timestamp": 0,
    "list": [],
    "map": {},
    "structure": {},
}


def missing_operations() -> set[tuple[str, str]]:
    """(service, operation) pairs docs/coverage.md lists as answering NotImplemented."""
    coverage = Path(__file__).resolve().parent.parent / "docs" / "coverage.md"
    missing, service = set(), None
    for line in coverage.read_text().splitlines():
        if m := re.match(r"### (\S+)", line):
            service = m.group(1)
        elif service and (m := re.match(r"\| (\w+) \| \*\*missing\*\*", line)):
            missing.add((service, m.group(1)))
    return missing


@pytest.mark.parametrize("service", SERVICES)
def test_hostile_members_get_client_errors(kagami, service):
    from conftest import make_client

    client = make_client(kagami.endpoint, service, config=botocore.config.Config(
        parameter_validation=False, retries={"total_max_attempts": 1}, read_timeout=30))
    missing = missing_operations()
    model = client.meta.service_model
    failures = []
    calls = 0
    for operation in model.operation_names:
        if (service, operation) in HOST_PREFIXED:
            continue
        shape = model.operation_model(operation).input_shape
        members = shape.members if shape else {}
        base = {name: PLACEHOLDERS.get(members[name].type_name, "placeholder1")
                for name in (shape.required_members if shape else [])}
        method = getattr(client, xform_name(operation))
        for name in members:
            for value in HOSTILE:
                params = dict(base, **{name: value})
                try:
                    calls += 1
                    response = method(**params)
                    body = response.get("Body")
                    if hasattr(body, "read"):
                        body.read()
                except botocore.exceptions.ClientError as e:
                    status = e.response["ResponseMetadata"].get("HTTPStatusCode", 0)
                    code = e.response.get("Error", {}).get("Code")
                    not_implemented = status == 501 and (service, operation) in missing
                    if not (400 <= status < 500 or not_implemented) or not code:
                        failures.append((operation, name, repr(value)[:40], status, code))
                except (botocore.exceptions.ConnectionError, botocore.exceptions.ReadTimeoutError,
                        ResponseParserError) as e:
                    failures.append((operation, name, repr(value)[:40], "answer", type(e).__name__))
                except Exception:  # noqa: BLE001 - what is left is the client refusing the value
                    pass
    assert calls > 100
    assert failures == [], failures[:20]
    assert kagami.client("sts").get_caller_identity()["Account"]
