"""A crash in the middle of a PUT leaves the old object or the new one, never a torn
one, and the half-received body is swept at the next start."""

import hashlib
import socket
import time

from conftest import sign_request

OLD_BODY = b"the acknowledged version\n" * 1000
NEW_SIZE = 16 * 1024 * 1024


def files_under(path):
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def test_kill_during_put_keeps_the_previous_object(kagami_process, tmp_path, unique_name):
    data_dir = tmp_path / "data"
    server = kagami_process(data_dir=data_dir)
    s3 = server.client("s3")
    bucket = unique_name("crash")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=OLD_BODY)

    url = server.url(f"/{bucket}/k")
    headers = sign_request(
        "PUT",
        url,
        "s3",
        headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-Length": str(NEW_SIZE)},
    )
    host = url.split("/")[2]
    request = f"PUT /{bucket}/k HTTP/1.1\r\nHost: {host}\r\n"
    request += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
    request += "\r\n"
    tmp_dir = data_dir / "s3" / "tmp"
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(request.encode())
        conn.sendall(b"n" * (NEW_SIZE // 2))
        # The server is mid-write once half the body sits in a temporary file.
        deadline = time.monotonic() + 10
        while not any(f.stat().st_size > 0 for f in files_under(tmp_dir)):
            assert time.monotonic() < deadline, "the body never reached a temporary file"
            time.sleep(0.02)
        server.kill9()

    server.restart()
    s3 = server.client("s3")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(OLD_BODY).digest()
    assert got["ContentLength"] == len(OLD_BODY)
    assert files_under(tmp_dir) == [], "the torn body was not swept at startup"
    # Exactly one body file is left: the acknowledged object's.
    assert len(files_under(data_dir / "s3" / "objects")) == 1

    # The key is writable again, and the new version replaces the old one whole.
    s3.put_object(Bucket=bucket, Key="k", Body=b"after the crash")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"after the crash"
    assert len(files_under(data_dir / "s3" / "objects")) == 1
