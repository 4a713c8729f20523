"""Lambda layers (PublishLayerVersion, GetLayerVersion[ByArn], ListLayers,
ListLayerVersions, DeleteLayerVersion, layer version permissions), functions that use
them at run time (/opt search paths), and code read from S3."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
import requests
from botocore.exceptions import ClientError

from lambda_helpers import HAVE_NODE, ROLE, SOURCE, error_of, new_account, package

@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


def publish(lam, name: str, files: dict[str, str] | None = None, modes=None, **kwargs) -> dict:
    return lam.publish_layer_version(
        LayerName=name, Content={"ZipFile": package(files or {"python/mod.py": "X = 1\n"}, modes)}, **kwargs
    )


def create_fn(lam, name: str, source: str, layers: list[str], runtime="python3.12", handler="app.handler", filename="app.py", **kw):
    return lam.create_function(
        FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
        Code={"ZipFile": package({filename: source})}, Layers=layers, **kw,
    )


def invoke_json(lam, name: str, payload=None):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}))
    body = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, body
    return body


# ---------------------------------------------------------------- layer versions


def test_publish_numbers_versions_from_one_and_reports_them(lam, unique_name):
    name = unique_name("layer")
    zip_bytes = package({"python/mod.py": "X = 1\n"})
    first = lam.publish_layer_version(
        LayerName=name, Content={"ZipFile": zip_bytes}, Description="first",
        CompatibleRuntimes=["python3.12", "python3.13"], CompatibleArchitectures=["x86_64"], LicenseInfo="MIT",
    )
    assert first["Version"] == 1
    assert first["LayerArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{name}"
    assert first["LayerVersionArn"] == f"{first['LayerArn']}:1"
    assert first["Description"] == "first" and first["LicenseInfo"] == "MIT"
    assert first["CompatibleRuntimes"] == ["python3.12", "python3.13"]
    assert first["CompatibleArchitectures"] == ["x86_64"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", first["CreatedDate"])
    assert first["Content"]["CodeSize"] == len(zip_bytes)
    assert first["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
    assert requests.get(first["Content"]["Location"], timeout=10).content == zip_bytes
    second = publish(lam, name)
    assert second["Version"] == 2 and second["LayerVersionArn"].endswith(f":layer:{name}:2")

    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["LayerVersionArn"] == first["LayerVersionArn"] and got["Description"] == "first"
    by_arn = lam.get_layer_version_by_arn(Arn=second["LayerVersionArn"])
    assert by_arn["Version"] == 2 and by_arn["Description"] == ""
    by_layer_arn = lam.get_layer_version(LayerName=first["LayerArn"], VersionNumber=1)
    assert by_layer_arn["Content"]["CodeSha256"] == first["Content"]["CodeSha256"]


def test_get_missing_layer_version_is_not_found(lam, unique_name):
    name = unique_name("layer")
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert error_of(e) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    publish(lam, name)
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_by_arn(Arn=f"arn:aws:lambda:us-east-1:000000000000:layer:{name}:7")
    assert error_of(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_by_arn(Arn=f"arn:aws:lambda:us-east-1:000000000000:layer:{name}")
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=name, VersionNumber=0)
    assert error_of(e) == ("InvalidParameterValueException", "Layer Version Cannot be less than 1", 400)


def test_publish_refuses_bad_input(lam, unique_name):
    with pytest.raises(ClientError) as e:
        lam.publish_layer_version(LayerName="bad name!", Content={"ZipFile": package({"a": "b"})})
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        lam.publish_layer_version(LayerName=unique_name("layer"), Content={"ZipFile": b"not a zip"})
    assert error_of(e)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        publish(lam, unique_name("layer"), CompatibleArchitectures=["sparc"])
    assert error_of(e)[0] == "ValidationException"


def test_list_layers_shows_latest_matching_version_and_pages(aws_client):
    account = new_account()
    lam = aws_client("lambda", account=account)
    publish(lam, "alpha", CompatibleRuntimes=["python3.12"])
    publish(lam, "alpha", CompatibleRuntimes=["nodejs20.x"])
    publish(lam, "beta", CompatibleRuntimes=["python3.12"])
    publish(lam, "gamma")

    every = lam.list_layers()["Layers"]
    assert [l["LayerName"] for l in every] == ["alpha", "beta", "gamma"]
    assert every[0]["LatestMatchingVersion"]["Version"] == 2
    assert every[0]["LayerArn"] == f"arn:aws:lambda:us-east-1:{account}:layer:alpha"

    python = lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
    assert [(l["LayerName"], l["LatestMatchingVersion"]["Version"]) for l in python] == [("alpha", 1), ("beta", 1)]
    assert python[0]["LatestMatchingVersion"]["LayerVersionArn"].endswith(":layer:alpha:1")

    first = lam.list_layers(MaxItems=2)
    assert [l["LayerName"] for l in first["Layers"]] == ["alpha", "beta"]
    rest = lam.list_layers(MaxItems=2, Marker=first["NextMarker"])
    assert [l["LayerName"] for l in rest["Layers"]] == ["gamma"] and "NextMarker" not in rest
    names = [l["LayerName"] for page in lam.get_paginator("list_layers").paginate(PaginationConfig={"PageSize": 1}) for l in page["Layers"]]
    assert names == ["alpha", "beta", "gamma"]


def test_list_layer_versions_newest_first_with_pages_and_filters(lam, unique_name):
    name = unique_name("layer")
    for runtime in ["python3.12", "nodejs20.x", "python3.12", "python3.13"]:
        publish(lam, name, CompatibleRuntimes=[runtime])
    versions = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [4, 3, 2, 1]
    page = lam.list_layer_versions(LayerName=name, MaxItems=3)
    assert [v["Version"] for v in page["LayerVersions"]] == [4, 3, 2]
    rest = lam.list_layer_versions(LayerName=name, MaxItems=3, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1] and "NextMarker" not in rest
    python312 = lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]
    assert [v["Version"] for v in python312] == [3, 1]
    assert lam.list_layer_versions(LayerName=unique_name("none"))["LayerVersions"] == []


def test_delete_layer_version_keeps_numbers_and_functions_running(lam, unique_name):
    name = unique_name("layer")
    v1 = publish(lam, name, {"python/greeting.py": "TEXT = 'from layer'\n"})
    fn = unique_name("fn")
    create_fn(lam, fn, "import greeting\ndef handler(e, c):\n    return greeting.TEXT\n", [v1["LayerVersionArn"]])

    lam.delete_layer_version(LayerName=name, VersionNumber=1)
    lam.delete_layer_version(LayerName=name, VersionNumber=1)  # again: still fine
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert error_of(e)[0] == "ResourceNotFoundException"
    assert lam.list_layer_versions(LayerName=name)["LayerVersions"] == []
    # Numbers are never reused.
    assert publish(lam, name)["Version"] == 2

    # The function still has the deleted version's content.
    assert invoke_json(lam, fn) == "from layer"
    assert lam.get_function_configuration(FunctionName=fn)["Layers"][0]["Arn"] == v1["LayerVersionArn"]
    with pytest.raises(ClientError) as e:
        create_fn(lam, unique_name("fn"), SOURCE, [v1["LayerVersionArn"]])
    assert error_of(e) == ("InvalidParameterValueException", f"Layer version {v1['LayerVersionArn']} does not exist.", 400)


# ---------------------------------------------------------------- functions with layers


def test_python_layer_module_is_importable_and_later_layers_win(lam, unique_name):
    base = publish(lam, unique_name("layer"), {
        "python/shared.py": "WHO = 'base'\n",
        "python/only_base.py": "VALUE = 42\n",
        "python/lib/python3.12/site-packages/sitepkg.py": "NAME = 'site-packages'\n",
    })
    top = publish(lam, unique_name("layer"), {"python/shared.py": "WHO = 'top'\n"})
    fn = unique_name("fn")
    out = create_fn(lam, fn, """
import os, sys
import shared, only_base, sitepkg
def handler(event, context):
    return {"who": shared.WHO, "value": only_base.VALUE, "site": sitepkg.NAME,
            "pythonpath": os.environ["PYTHONPATH"], "path": os.environ["PATH"],
            "ld": os.environ["LD_LIBRARY_PATH"], "task": os.environ["LAMBDA_TASK_ROOT"]}
""", [base["LayerVersionArn"], top["LayerVersionArn"]])
    assert out["Layers"] == [
        {"Arn": base["LayerVersionArn"], "CodeSize": base["Content"]["CodeSize"]},
        {"Arn": top["LayerVersionArn"], "CodeSize": top["Content"]["CodeSize"]},
    ]
    got = invoke_json(lam, fn)
    assert (got["who"], got["value"], got["site"]) == ("top", 42, "site-packages")
    site, python = got["pythonpath"].split(":")
    assert site.endswith("/python/lib/python3.12/site-packages") and python.endswith("/python")
    opt = python[: -len("/python")]
    assert got["path"].endswith(f":{opt}/bin")
    assert got["ld"].endswith(f"{got['task']}:{got['task']}/lib:{opt}/lib")


@pytest.mark.skipif(not HAVE_NODE, reason="node is not installed")
def test_node_layer_module_is_found_through_node_path(lam, unique_name):
    layer = publish(lam, unique_name("layer"), {
        "nodejs/node_modules/greeter/index.js": "exports.greet = (n) => `hello ${n}`;\n",
        "nodejs/node20/node_modules/versioned/index.js": "exports.v = 'node20';\n",
    })
    fn = unique_name("fn")
    create_fn(lam, fn, """
const { greet } = require("greeter");
const { v } = require("versioned");
exports.handler = async (event) => ({ text: greet(event.name), v, nodePath: process.env.NODE_PATH });
""", [layer["LayerVersionArn"]], runtime="nodejs20.x", handler="index.handler", filename="index.js")
    got = invoke_json(lam, fn, {"name": "layers"})
    assert got["text"] == "hello layers" and got["v"] == "node20"
    parts = got["nodePath"].split(":")
    assert parts[0].endswith("/nodejs/node20/node_modules") and parts[1].endswith("/nodejs/node_modules")


def test_layer_bin_is_on_path_and_a_layer_can_bring_a_bootstrap(lam, unique_name):
    tools = publish(lam, unique_name("layer"), {"bin/layer-tool": "#!/bin/sh\necho tool says $1\n"}, {"bin/layer-tool": 0o755})
    fn = unique_name("fn")
    create_fn(lam, fn, """
import subprocess
def handler(event, context):
    return subprocess.run(["layer-tool", "hi"], capture_output=True, text=True, check=True).stdout.strip()
""", [tools["LayerVersionArn"]])
    assert invoke_json(lam, fn) == "tool says hi"

    # A custom runtime whose bootstrap comes from a layer (/opt/bootstrap) and runs a layer tool.
    bootstrap = """#!/bin/sh
set -e
while true; do
  HEADERS=$(mktemp)
  curl -sS -D "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next" -o /dev/null
  ID=$(grep -i Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  OUT=$(layer-tool custom)
  curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response" -d "\\"$OUT\\""
done
"""
    runtime = publish(lam, unique_name("layer"), {"bootstrap": bootstrap}, {"bootstrap": 0o755})
    custom = unique_name("fn")
    lam.create_function(
        FunctionName=custom, Runtime="provided.al2023", Role=ROLE, Handler="unused",
        Code={"ZipFile": package({"README": "code lives in layers\n"})},
        Layers=[runtime["LayerVersionArn"], tools["LayerVersionArn"]],
    )
    assert invoke_json(lam, custom) == "tool says custom"


def test_update_function_configuration_sets_and_clears_layers(lam, unique_name):
    layer = publish(lam, unique_name("layer"), {"python/extra.py": "N = 7\n"})
    fn = unique_name("fn")
    create_fn(lam, fn, "def handler(e, c):\n    import extra\n    return extra.N\n", [])
    assert "Layers" not in lam.get_function_configuration(FunctionName=fn)
    assert lam.invoke(FunctionName=fn)["FunctionError"] == "Unhandled"
    out = lam.update_function_configuration(FunctionName=fn, Layers=[layer["LayerVersionArn"]])
    assert out["Layers"] == [{"Arn": layer["LayerVersionArn"], "CodeSize": layer["Content"]["CodeSize"]}]
    assert invoke_json(lam, fn) == 7
    assert lam.get_function(FunctionName=fn)["Configuration"]["Layers"][0]["Arn"] == layer["LayerVersionArn"]
    out = lam.update_function_configuration(FunctionName=fn, Layers=[])
    assert "Layers" not in out
    assert lam.invoke(FunctionName=fn)["FunctionError"] == "Unhandled"


def test_function_layer_errors(lam, unique_name):
    name = unique_name("layer")
    v1 = publish(lam, name)
    v2 = publish(lam, name)
    others = [publish(lam, unique_name("layer"))["LayerVersionArn"] for _ in range(5)]
    with pytest.raises(ClientError) as e:
        create_fn(lam, unique_name("fn"), SOURCE, others + [v1["LayerVersionArn"]])
    assert error_of(e) == ("InvalidParameterValueException", "Cannot reference more than 5 layers.", 400)
    with pytest.raises(ClientError) as e:
        create_fn(lam, unique_name("fn"), SOURCE, [v1["LayerVersionArn"], v2["LayerVersionArn"]])
    assert error_of(e) == (
        "InvalidParameterValueException",
        f"Two different versions of the same layer are not allowed to be referenced in the same function. "
        f"{v1['LayerVersionArn']} and {v2['LayerVersionArn']} are versions of the same layer.",
        400,
    )
    missing = f"arn:aws:lambda:us-east-1:000000000000:layer:{name}:9"
    with pytest.raises(ClientError) as e:
        create_fn(lam, unique_name("fn"), SOURCE, [missing])
    assert error_of(e) == ("InvalidParameterValueException", f"Layer version {missing} does not exist.", 400)
    with pytest.raises(ClientError) as e:
        create_fn(lam, unique_name("fn"), SOURCE, [v1["LayerArn"]])
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        create_fn(lam, unique_name("fn"), SOURCE, [v1["LayerVersionArn"].replace("us-east-1", "eu-west-1")])
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.",
        400,
    )
    fn = unique_name("fn")
    create_fn(lam, fn, SOURCE, [v1["LayerVersionArn"]])
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=fn, Layers=others + [v2["LayerVersionArn"]])
    assert error_of(e)[0] == "InvalidParameterValueException"
    assert lam.get_function_configuration(FunctionName=fn)["Layers"][0]["Arn"] == v1["LayerVersionArn"]


def claiming(unzipped: int) -> bytes:
    """A small archive whose directory claims one entry of `unzipped` bytes: checks of
    the unpacked size read the directory, so no test has to move 250 MB."""
    data = bytearray(package({"python/big.bin": "x"}))
    at = data.index(b"PK\x01\x02")
    data[at + 24 : at + 28] = unzipped.to_bytes(4, "little")
    return bytes(data)


def test_function_code_and_layers_unpack_to_at_most_250_mb(lam, unique_name):
    big = [
        lam.publish_layer_version(LayerName=unique_name("layer"), Content={"ZipFile": claiming(140_000_000)})
        for _ in range(2)
    ]
    code = package({"app.py": SOURCE})
    total = 2 * 140_000_000 + len(SOURCE)
    expected = (
        "InvalidParameterValueException",
        f"Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is {total} bytes.",
        400,
    )
    with pytest.raises(ClientError) as e:
        create_fn(lam, unique_name("fn"), SOURCE, [l["LayerVersionArn"] for l in big])
    assert error_of(e) == expected
    fn = unique_name("fn")
    create_fn(lam, fn, SOURCE, [big[0]["LayerVersionArn"]])
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=fn, Layers=[l["LayerVersionArn"] for l in big])
    assert error_of(e) == expected
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=fn, ZipFile=claiming(130_000_000))
    assert error_of(e)[0] == "InvalidParameterValueException"
    assert lam.get_function_configuration(FunctionName=fn)["CodeSize"] == len(code)


def test_direct_upload_is_limited_to_50_mb(lam, unique_name):
    import io
    import os
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("python/blob.bin", os.urandom(52_500_000))
    with pytest.raises(ClientError) as e:
        lam.publish_layer_version(LayerName=unique_name("layer"), Content={"ZipFile": buf.getvalue()})
    assert error_of(e) == (
        "RequestEntityTooLargeException",
        "Request must be smaller than 69905067 bytes for the PublishLayerVersion operation",
        413,
    )


# ---------------------------------------------------------------- permissions


def test_layer_version_permissions_share_a_layer_with_another_account(aws_client, unique_name):
    owner_account, user_account = new_account(), new_account()
    owner = aws_client("lambda", account=owner_account)
    user = aws_client("lambda", account=user_account)
    name = unique_name("layer")
    v = publish(owner, name, {"python/shared_lib.py": "ANSWER = 'shared'\n"})
    arn = v["LayerVersionArn"]

    with pytest.raises(ClientError) as e:
        owner.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert error_of(e) == ("ResourceNotFoundException", "No policy is associated with the given resource.", 404)
    with pytest.raises(ClientError) as e:
        user.get_layer_version_by_arn(Arn=arn)
    assert error_of(e)[0] == "AccessDeniedException" and error_of(e)[2] == 403
    with pytest.raises(ClientError) as e:
        create_fn(user, unique_name("fn"), SOURCE, [arn])
    assert error_of(e)[0] == "AccessDeniedException"

    added = owner.add_layer_version_permission(
        LayerName=name, VersionNumber=1, StatementId="share", Action="lambda:GetLayerVersion", Principal=user_account
    )
    statement = json.loads(added["Statement"])
    assert statement == {
        "Sid": "share", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{user_account}:root"},
        "Action": "lambda:GetLayerVersion", "Resource": arn,
    }
    policy = owner.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert policy["RevisionId"] == added["RevisionId"]
    assert json.loads(policy["Policy"])["Statement"] == [statement]

    assert user.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"] == arn
    fn = unique_name("fn")
    create_fn(user, fn, "import shared_lib\ndef handler(e, c):\n    return shared_lib.ANSWER\n", [arn])
    assert invoke_json(user, fn) == "shared"

    with pytest.raises(ClientError) as e:
        owner.add_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="share", Action="lambda:GetLayerVersion", Principal="*"
        )
    assert error_of(e) == (
        "ResourceConflictException",
        "The statement id (share) provided already exists. Please provide a new statement id, or remove the existing statement.",
        409,
    )
    with pytest.raises(ClientError) as e:
        owner.add_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="x", Action="lambda:InvokeFunction", Principal="*"
        )
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        owner.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="share", RevisionId="stale")
    assert error_of(e)[0] == "PreconditionFailedException"
    with pytest.raises(ClientError) as e:
        owner.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="nope")
    assert error_of(e) == ("ResourceNotFoundException", "Statement nope is not found in resource policy.", 404)
    with pytest.raises(ClientError) as e:
        owner.add_layer_version_permission(
            LayerName=name, VersionNumber=5, StatementId="x", Action="lambda:GetLayerVersion", Principal="*"
        )
    assert error_of(e) == (
        "ResourceNotFoundException",
        f"Layer version arn:aws:lambda:us-east-1:{owner_account}:layer:{name}:5 does not exist.",
        404,
    )

    owner.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="share", RevisionId=added["RevisionId"])
    with pytest.raises(ClientError) as e:
        user.get_layer_version_by_arn(Arn=arn)
    assert error_of(e)[0] == "AccessDeniedException"
    # The function keeps the layer it was created with.
    assert invoke_json(user, fn) == "shared"

    public = owner.add_layer_version_permission(
        LayerName=name, VersionNumber=1, StatementId="all", Action="lambda:GetLayerVersion", Principal="*"
    )
    assert json.loads(public["Statement"])["Principal"] == "*"
    assert aws_client("lambda", account=new_account()).get_layer_version_by_arn(Arn=arn)["Version"] == 1


def test_layers_are_isolated_by_account_and_region(aws_client, unique_name):
    account = new_account()
    home = aws_client("lambda", account=account)
    name = unique_name("layer")
    publish(home, name)
    assert [l["LayerName"] for l in home.list_layers()["Layers"]] == [name]
    assert aws_client("lambda", account=new_account()).list_layers()["Layers"] == []
    west = aws_client("lambda", region="eu-west-1", account=account)
    assert west.list_layers()["Layers"] == []
    with pytest.raises(ClientError) as e:
        west.get_layer_version(LayerName=name, VersionNumber=1)
    assert error_of(e)[0] == "ResourceNotFoundException"
    # Each (account, region) numbers its own versions.
    assert publish(west, name)["Version"] == 1
    assert publish(home, name)["Version"] == 2


# ---------------------------------------------------------------- code from S3


@pytest.fixture
def bucket(aws_client, unique_name):
    s3 = aws_client("s3")
    name = unique_name("code")
    s3.create_bucket(Bucket=name)
    return s3, name


def test_function_code_from_s3_create_and_update(lam, bucket, unique_name):
    s3, name = bucket
    v1 = package({"app.py": "def handler(e, c):\n    return 'v1'\n"})
    v2 = package({"app.py": "def handler(e, c):\n    return 'v2'\n"})
    s3.put_object(Bucket=name, Key="fn/v1.zip", Body=v1)
    s3.put_object(Bucket=name, Key="fn/v2.zip", Body=v2)
    fn = unique_name("fn")
    out = lam.create_function(
        FunctionName=fn, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"S3Bucket": name, "S3Key": "fn/v1.zip"},
    )
    assert out["CodeSize"] == len(v1)
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(v1).digest()).decode()
    assert invoke_json(lam, fn) == "v1"
    out = lam.update_function_code(FunctionName=fn, S3Bucket=name, S3Key="fn/v2.zip")
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(v2).digest()).decode()
    assert invoke_json(lam, fn) == "v2"


def test_code_from_a_chosen_s3_object_version(lam, bucket, unique_name):
    s3, name = bucket
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=name, Key="code.zip", Body=package({"app.py": "def handler(e, c):\n    return 'old'\n"}))
    s3.put_object(Bucket=name, Key="code.zip", Body=package({"app.py": "def handler(e, c):\n    return 'new'\n"}))
    fn = unique_name("fn")
    lam.create_function(
        FunctionName=fn, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"S3Bucket": name, "S3Key": "code.zip", "S3ObjectVersion": old["VersionId"]},
    )
    assert invoke_json(lam, fn) == "old"


def test_layer_content_from_s3(lam, bucket, unique_name):
    s3, name = bucket
    zip_bytes = package({"python/from_s3.py": "WHERE = 's3'\n"})
    s3.put_object(Bucket=name, Key="layer.zip", Body=zip_bytes)
    layer = lam.publish_layer_version(LayerName=unique_name("layer"), Content={"S3Bucket": name, "S3Key": "layer.zip"})
    assert layer["Content"]["CodeSize"] == len(zip_bytes)
    fn = unique_name("fn")
    create_fn(lam, fn, "import from_s3\ndef handler(e, c):\n    return from_s3.WHERE\n", [layer["LayerVersionArn"]])
    assert invoke_json(lam, fn) == "s3"


def test_missing_s3_code_answers_lambdas_error(lam, bucket, unique_name):
    _, name = bucket
    with pytest.raises(ClientError) as e:
        lam.create_function(
            FunctionName=unique_name("fn"), Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"S3Bucket": name, "S3Key": "missing.zip"},
        )
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
        400,
    )
    with pytest.raises(ClientError) as e:
        lam.publish_layer_version(LayerName=unique_name("layer"), Content={"S3Bucket": unique_name("nobucket"), "S3Key": "k"})
    code, message, status = error_of(e)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: ")
    fn = unique_name("fn")
    create_fn(lam, fn, SOURCE, [])
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=fn, S3Bucket=name, S3Key="missing.zip")
    assert error_of(e)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.create_function(
            FunctionName=unique_name("fn"), Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"S3Bucket": name, "S3Key": "x.zip", "ZipFile": package({"app.py": SOURCE})},
        )
    assert error_of(e)[0] == "InvalidParameterValueException"


# ---------------------------------------------------------------- CLI and durability


def test_cli_publishes_and_lists_layer_versions(aws_cli, tmp_path, unique_name):
    name = unique_name("layer")
    archive = tmp_path / "layer.zip"
    archive.write_bytes(package({"python/cli_mod.py": "A = 1\n"}))
    out = aws_cli(
        "lambda", "publish-layer-version", "--layer-name", name, "--zip-file", f"fileb://{archive}",
        "--compatible-runtimes", "python3.12",
    )
    assert out["Version"] == 1 and out["CompatibleRuntimes"] == ["python3.12"]
    listed = aws_cli("lambda", "list-layer-versions", "--layer-name", name)
    assert [v["LayerVersionArn"] for v in listed["LayerVersions"]] == [out["LayerVersionArn"]]


def test_layers_survive_restart(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    lam = server.client("lambda")
    v1 = publish(lam, "durable", {"python/durable_mod.py": "V = 'kept'\n"})
    v2 = publish(lam, "durable", {"python/durable_mod.py": "V = 'second'\n"})
    lam.add_layer_version_permission(
        LayerName="durable", VersionNumber=2, StatementId="all", Action="lambda:GetLayerVersion", Principal="*"
    )
    create_fn(lam, "uses-layer", "import durable_mod\ndef handler(e, c):\n    return durable_mod.V\n", [v1["LayerVersionArn"]])
    lam.delete_layer_version(LayerName="durable", VersionNumber=1)
    server.kill9()
    server.restart()

    lam = server.client("lambda")
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="durable")["LayerVersions"]] == [2]
    assert lam.get_layer_version(LayerName="durable", VersionNumber=2)["Content"]["CodeSha256"] == v2["Content"]["CodeSha256"]
    assert json.loads(lam.get_layer_version_policy(LayerName="durable", VersionNumber=2)["Policy"])["Statement"][0]["Sid"] == "all"
    assert publish(lam, "durable")["Version"] == 3
    # The deleted version's content is still there for the function that uses it.
    assert invoke_json(lam, "uses-layer") == "kept"
