"""Helpers shared by the S3 tests."""

from __future__ import annotations

import os
import subprocess
import sys

from botocore.exceptions import ClientError


def error_of(call, *args, **kwargs) -> dict:
    """The botocore error response of a call that must fail."""
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response
    raise AssertionError(f"{call.__name__} did not fail")


def aws_s3(endpoint: str, *args: str, region: str = "us-east-1") -> subprocess.CompletedProcess:
    """Runs an AWS CLI command with text output (`aws s3 cp ...`) and requires success."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_CONFIG_FILE=os.environ["AWS_CONFIG_FILE"],
        AWS_SHARED_CREDENTIALS_FILE=os.environ["AWS_SHARED_CREDENTIALS_FILE"],
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
        AWS_PAGER="",
    )
    cmd = [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--region", region, *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"`aws {' '.join(args)}` exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}"
    return proc
