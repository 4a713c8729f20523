"""Name resolution for S3's virtual-hosted and website host names in tests.

`*.localhost.localstack.cloud` resolves to 127.0.0.1 through public DNS, which a test
machine may not reach, and `*.localhost` resolves only where the system resolver says
so. Tests resolve both to 127.0.0.1 themselves: in-process (boto3, requests) by
patching `socket.getaddrinfo`, and for the AWS CLI by starting it through a small
wrapper that does the same.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

_real_getaddrinfo = socket.getaddrinfo

LOCAL_DOMAINS = ("localhost.localstack.cloud", "localhost")


def is_local_name(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    host = host.rstrip(".").lower()
    return any(host == d or host.endswith("." + d) for d in LOCAL_DOMAINS)


def local_getaddrinfo(host, *args, **kwargs):
    if is_local_name(host):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


def patch_resolver(monkeypatch) -> None:
    """Resolves every *.localhost.localstack.cloud and *.localhost name to 127.0.0.1."""
    monkeypatch.setattr(socket, "getaddrinfo", local_getaddrinfo)


_CLI_WRAPPER = """
import socket, sys
_real = socket.getaddrinfo
def _local(host, *a, **k):
    h = host.decode() if isinstance(host, bytes) else host
    if isinstance(h, str):
        h2 = h.rstrip('.').lower()
        if any(h2 == d or h2.endswith('.' + d) for d in ('localhost.localstack.cloud', 'localhost')):
            host = '127.0.0.1'
    return _real(host, *a, **k)
socket.getaddrinfo = _local
from awscli.clidriver import main
sys.exit(main())
"""


def aws_cli_local_dns(
    endpoint: str, *args: str, config_text: str | None = None, tmp_path=None, region: str = "us-east-1"
) -> subprocess.CompletedProcess:
    """Runs the AWS CLI with local name resolution (and an optional config file)."""
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
    if config_text is not None:
        path = tmp_path / "aws-config"
        path.write_text(config_text)
        env["AWS_CONFIG_FILE"] = str(path)
    cmd = [sys.executable, "-c", _CLI_WRAPPER, "--endpoint-url", endpoint, "--region", region, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
