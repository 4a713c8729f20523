"""The AWS SDK for JavaScript v3 (@aws-sdk/client-s3) against kagami: upload, download
and presigned GET/PUT, as a browser or Node.js application would use them."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).parent / "js"


def node_ready() -> bool:
    return shutil.which("node") is not None and (JS_DIR / "node_modules" / "@aws-sdk" / "client-s3").is_dir()


@pytest.mark.skipif(
    not node_ready() and not os.environ.get("CI"),
    reason="node or tests/js/node_modules missing (scripts/test.sh runs npm ci)",
)
def test_js_sdk_uploads_downloads_and_presigns(kagami, unique_name):
    bucket = unique_name("js-sdk")
    run = subprocess.run(
        ["node", str(JS_DIR / "s3_roundtrip.mjs"), bucket],
        env={**os.environ, "KAGAMI_ENDPOINT": kagami.endpoint},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["getSha256"] == seen["bodySha256"]
    assert seen["putETag"] == seen["getETag"]
    assert seen["getContentType"] == "application/x-test"
    assert seen["getMetadata"] == {"origin": "js-sdk"}
    assert seen["presignedGetStatus"] == 200
    assert seen["presignedGetSha256"] == seen["bodySha256"]
    assert seen["presignedPutStatus"] == 200
    assert seen["presignedPutLength"] == len("sent through a presigned URL")
    assert seen["headAfterDelete"] == 404
    assert seen["missingKey"] == "NoSuchKey"
