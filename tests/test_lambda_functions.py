"""Lambda control plane: CreateFunction, GetFunction, GetFunctionConfiguration,
ListFunctions, UpdateFunctionCode, UpdateFunctionConfiguration and DeleteFunction, with
Lambda's defaults, identifiers and errors."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import client_config
from lambda_helpers import ROLE, SOURCE, create_python, error_of, package



@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


def test_create_function_reports_configuration_with_defaults(lam, unique_name):
    name = unique_name("fn")
    zip_bytes = package({"app.py": SOURCE})
    out = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": zip_bytes}
    )
    assert out["FunctionName"] == name
    assert out["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert out["Runtime"] == "python3.12" and out["Handler"] == "app.handler" and out["Role"] == ROLE
    assert out["Timeout"] == 3 and out["MemorySize"] == 128
    assert out["Version"] == "$LATEST"
    assert out["State"] == "Active" and out["LastUpdateStatus"] == "Successful"
    assert out["CodeSize"] == len(zip_bytes)
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", out["LastModified"])
    assert out["RevisionId"]
    assert out["PackageType"] == "Zip"


def test_create_function_keeps_settings_and_tags(lam, unique_name):
    name = unique_name("fn")
    create_python(
        lam, name, SOURCE, Timeout=30, MemorySize=512, Description="my function",
        Environment={"Variables": {"A": "1"}}, Tags={"team": "blue"},
    )
    got = lam.get_function(FunctionName=name)
    c = got["Configuration"]
    assert (c["Timeout"], c["MemorySize"], c["Description"]) == (30, 512, "my function")
    assert c["Environment"]["Variables"] == {"A": "1"}
    assert got["Tags"] == {"team": "blue"}


def test_function_active_waiter_succeeds_at_once(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")


def test_get_function_code_location_serves_the_package(lam, unique_name):
    name = unique_name("fn")
    zip_bytes = package({"app.py": SOURCE})
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": zip_bytes})
    code = lam.get_function(FunctionName=name)["Code"]
    assert code["RepositoryType"] == "S3"
    r = requests.get(code["Location"], timeout=10)
    assert r.status_code == 200 and r.content == zip_bytes


def test_functions_are_found_by_name_and_arn(lam, unique_name):
    name = unique_name("fn")
    arn = create_python(lam, name, SOURCE)["FunctionArn"]
    assert lam.get_function_configuration(FunctionName=arn)["FunctionName"] == name
    # A named qualifier, $LATEST included, qualifies the ARN reported back, as in Lambda.
    assert lam.get_function(FunctionName=f"{name}:$LATEST")["Configuration"]["FunctionArn"] == f"{arn}:$LATEST"


def test_create_existing_function_is_a_conflict(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        create_python(lam, name, SOURCE)
    assert error_of(e) == ("ResourceConflictException", f"Function already exist: {name}", 409)


def test_missing_function_is_not_found(lam, unique_name):
    name = unique_name("missing")
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    for call in (lam.get_function, lam.get_function_configuration, lam.delete_function):
        with pytest.raises(ClientError) as e:
            call(FunctionName=name)
        assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {arn}", 404)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name)
    assert error_of(e)[0] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "override, code, fragment",
    [
        ({"Runtime": "python2.7"}, "InvalidParameterValueException", "Value python2.7 at 'runtime' failed to satisfy constraint"),
        ({"Timeout": 901}, "ValidationException", "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"),
        ({"Timeout": 0}, "ValidationException", "Member must have value greater than or equal to 1"),
        ({"MemorySize": 64}, "ValidationException", "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"),
        ({"MemorySize": 10241}, "ValidationException", "Member must have value less than or equal to 10240"),
        ({"Role": "not-a-role"}, "ValidationException", "Value 'not-a-role' at 'role' failed to satisfy constraint"),
    ],
)
def test_create_function_rejects_bad_parameters(aws_client, unique_name, override, code, fragment):
    # botocore would refuse the out-of-range values itself.
    lam = aws_client("lambda", config=client_config(parameter_validation=False))
    params = dict(FunctionName=unique_name("fn"), Runtime="python3.12", Role=ROLE, Handler="app.handler",
                  Code={"ZipFile": package({"app.py": SOURCE})})
    params.update(override)
    with pytest.raises(ClientError) as e:
        lam.create_function(**params)
    got_code, message, status = error_of(e)
    assert (got_code, status) == (code, 400)
    assert fragment in message


def test_reserved_environment_variables_are_rejected(lam, unique_name):
    name = unique_name("fn")
    with pytest.raises(ClientError) as e:
        create_python(lam, name, SOURCE, Environment={"Variables": {"AWS_REGION": "eu-west-1", "MINE": "1"}})
    code, message, status = error_of(e)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.endswith("Reserved keys used in this request: AWS_REGION")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"_HANDLER": "x"}})
    assert error_of(e)[0] == "InvalidParameterValueException"


def test_create_function_without_handler_is_rejected(lam, unique_name):
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique_name("fn"), Runtime="python3.12", Role=ROLE,
                            Code={"ZipFile": package({"app.py": SOURCE})})
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        400,
    )


def test_create_function_rejects_a_package_that_is_not_a_zip(lam, unique_name):
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique_name("fn"), Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": b"this is not a zip"})
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
        400,
    )


def test_create_function_rejects_path_traversal_in_the_package(lam, unique_name):
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique_name("fn"), Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": package({"../../evil.py": SOURCE})})
    assert error_of(e)[0] == "InvalidParameterValueException"


def test_list_functions_pages_with_marker(aws_client):
    # A region of its own, so other tests' functions do not interfere.
    lam = aws_client("lambda", region="eu-north-1")
    names = sorted(f"page-{i}" for i in range(5))
    for name in names:
        existing = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        if name not in existing:
            create_python(lam, name, SOURCE)
    first = lam.list_functions(MaxItems=2)
    assert [f["FunctionName"] for f in first["Functions"]] == names[:2]
    second = lam.list_functions(MaxItems=2, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in second["Functions"]] == names[2:4]
    third = lam.list_functions(MaxItems=2, Marker=second["NextMarker"])
    assert [f["FunctionName"] for f in third["Functions"]] == names[4:]
    assert "NextMarker" not in third
    everything = [f["FunctionName"] for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]]
    assert everything == names


def test_update_function_code_changes_sha_and_revision(lam, unique_name):
    name = unique_name("fn")
    before = create_python(lam, name, SOURCE)
    new_zip = package({"app.py": "def handler(e, c):\n    return 2\n"})
    after = lam.update_function_code(FunctionName=name, ZipFile=new_zip)
    assert after["CodeSha256"] == base64.b64encode(hashlib.sha256(new_zip).digest()).decode()
    assert after["CodeSize"] == len(new_zip)
    assert after["RevisionId"] != before["RevisionId"]
    assert lam.invoke(FunctionName=name)["Payload"].read() == b"2"


def test_update_function_configuration_applies_changes(lam, unique_name):
    name = unique_name("fn")
    before = create_python(lam, name, SOURCE)
    after = lam.update_function_configuration(
        FunctionName=name, Timeout=10, MemorySize=256, Description="d", Environment={"Variables": {"K": "V"}}
    )
    assert (after["Timeout"], after["MemorySize"], after["Description"]) == (10, 256, "d")
    assert after["Environment"]["Variables"] == {"K": "V"}
    assert after["RevisionId"] != before["RevisionId"]
    assert lam.get_function_configuration(FunctionName=name)["Timeout"] == 10


def test_update_with_stale_revision_id_fails(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Timeout=5, RevisionId="stale")
    assert error_of(e)[0] == "PreconditionFailedException"


def test_delete_function_removes_it(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    assert lam.delete_function(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name)
    assert error_of(e)[0] == "ResourceNotFoundException"
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]


def test_unimplemented_operation_answers_not_implemented(lam):
    with pytest.raises(ClientError) as e:
        lam.list_capacity_providers()
    assert error_of(e)[2] == 501


def test_runtimes_endpoint_names_the_interpreters(http):
    r = http.get("/_kagami/lambda/runtimes")
    assert r.status_code == 200
    runtimes = r.json()["runtimes"]
    assert runtimes["python3.12"]["command"] and runtimes["python3.12"]["override"] == "KAGAMI_LAMBDA_PYTHON"
    assert runtimes["nodejs20.x"]["override"] == "KAGAMI_LAMBDA_NODE"
    assert runtimes["provided.al2023"]["command"] == "<package>/bootstrap"
