"""Helpers for the Lambda tests: deployment packages built in memory, functions created
from them, AWS errors as the tests compare them, and queues for destinations."""

from __future__ import annotations

import io
import random
import shutil
import textwrap
import zipfile

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
HAVE_NODE = shutil.which("node") is not None
# A handler that answers with the event it was given.
SOURCE = "def handler(event, context):\n    return event\n"


def error_of(excinfo) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def new_account() -> str:
    """A random 12-digit account id (the access key id names the account)."""
    return str(random.randint(100000000000, 999999999999))


def function_arn(name: str, account: str = "000000000000", region: str = "us-east-1") -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def make_queue(sqs, name: str, **attributes) -> tuple[str, str]:
    """A new SQS queue: (url, arn)."""
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def package(files: dict[str, str], modes: dict[str, int] | None = None) -> bytes:
    """A zip of `files` (name -> source, dedented); `modes` sets Unix permission bits."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, source in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            z.writestr(info, textwrap.dedent(source))
    return buf.getvalue()


def create_python(lam, name: str, source: str, handler: str = "app.handler", **kwargs) -> dict:
    """A python3.12 function whose `app.py` is `source`."""
    return lam.create_function(
        FunctionName=name,
        Runtime=kwargs.pop("Runtime", "python3.12"),
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": package({"app.py": source})},
        **kwargs,
    )


def create_node(lam, name: str, source: str, **kwargs) -> dict:
    """A nodejs20.x function whose `index.js` is `source`."""
    return lam.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": package({"index.js": source})},
        **kwargs,
    )


def runtime_processes(marker: str) -> list[int]:
    """Pids of processes whose command line contains `marker`."""
    import os

    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry))
    return found
