"""Lambda concurrency and function settings: reserved concurrency (enforced on invoke),
GetAccountSettings, provisioned concurrency configurations, code signing configurations,
runtime management and recursion settings; durable and per (account, region)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import client_config
from lambda_helpers import SOURCE, create_python, error_of, new_account

SLEEPER = """
    import time

    def handler(event, context):
        if event.get("started"):
            open(event["started"], "w").close()
        time.sleep(event.get("sleep", 0))
        return {"slept": event.get("sleep", 0)}
"""
SIGNING_PROFILE = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/MyProfile/abcdef1234"


@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


def invoke(lam, name, event=None):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}))
    return r, json.loads(r["Payload"].read())


# ----------------------------------------------------------------------- reserved concurrency


def test_put_get_delete_function_concurrency(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    r = lam.delete_function_concurrency(FunctionName=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)


def test_concurrency_of_a_missing_function_is_not_found(lam, unique_name):
    name = unique_name("missing")
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_reservations_keep_100_unreserved_and_account_settings_report_them(aws_client, unique_name):
    lam = aws_client("lambda", account=new_account())
    a, b = unique_name("a"), unique_name("b")
    size_a = create_python(lam, a, SOURCE)["CodeSize"]
    size_b = create_python(lam, b, SOURCE, Description="second")["CodeSize"]
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["CodeSizeZipped"] == 52428800
    assert settings["AccountLimit"]["CodeSizeUnzipped"] == 262144000
    assert settings["AccountLimit"]["TotalCodeSize"] == 80530636800
    assert settings["AccountUsage"] == {"FunctionCount": 2, "TotalCodeSize": size_a + size_b}
    # A published version keeps its own copy of the package.
    lam.publish_version(FunctionName=a)
    assert lam.get_account_settings()["AccountUsage"] == {"FunctionCount": 2, "TotalCodeSize": 2 * size_a + size_b}

    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=900)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=1)
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
        400,
    )
    # A function's own reservation does not count against its new value.
    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=899)
    lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=1)
    lam.delete_function(FunctionName=a)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 999


def test_negative_reserved_concurrency_is_a_validation_error(aws_client, unique_name):
    lam = aws_client("lambda", config=client_config(parameter_validation=False))
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=-1)
    assert error_of(e)[0] == "ValidationException"


def test_reserved_concurrency_one_throttles_the_second_concurrent_invoke(lam, unique_name, tmp_path):
    name = unique_name("sleeper")
    create_python(lam, name, SLEEPER, Timeout=30)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    started = tmp_path / "started"
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(invoke, lam, name, {"sleep": 3, "started": str(started)})
        # The second invoke must arrive while the first one runs (the function runs locally).
        deadline = time.monotonic() + 20
        while not started.exists():
            assert time.monotonic() < deadline and not first.done(), "the first invocation never started"
            time.sleep(0.05)
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName=name, Payload=b"{}")
        r, body = first.result(timeout=30)
    assert error_of(e) == ("TooManyRequestsException", "Rate Exceeded.", 429)
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert r["StatusCode"] == 200 and body == {"slept": 3}
    # The slot is free again once the first invocation answered.
    assert invoke(lam, name, {"sleep": 0})[1] == {"slept": 0}


def test_two_simultaneous_invokes_with_reservation_one_answer_once_each_way(lam, unique_name):
    name = unique_name("sleeper")
    create_python(lam, name, SLEEPER, Timeout=30)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)

    def attempt():
        try:
            return invoke(lam, name, {"sleep": 2})[1]
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: attempt(), range(2)))
    assert sorted(map(str, results)) == sorted(map(str, [{"slept": 2}, ("TooManyRequestsException", 429)]))


def test_reserved_concurrency_zero_throttles_every_invoke(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName=name, Payload=b"{}")
        assert error_of(e)[0] == "TooManyRequestsException"
        assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName=name)
    assert invoke(lam, name, {"ok": 1})[1] == {"ok": 1}


def test_reserved_concurrency_is_per_account(aws_client, unique_name):
    name = unique_name("fn")
    mine = aws_client("lambda", account=new_account())
    other = aws_client("lambda", account=new_account())
    create_python(mine, name, SOURCE)
    create_python(other, name, SOURCE)
    mine.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    assert invoke(other, name, {"x": 1})[1] == {"x": 1}
    assert "ReservedConcurrentExecutions" not in other.get_function_concurrency(FunctionName=name)
    assert other.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000


def test_aws_cli_put_function_concurrency(aws_cli, lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    out = aws_cli("lambda", "put-function-concurrency", "--function-name", name, "--reserved-concurrent-executions", "7")
    assert out == {"ReservedConcurrentExecutions": 7}
    assert aws_cli("lambda", "get-function-concurrency", "--function-name", name) == {"ReservedConcurrentExecutions": 7}


# ----------------------------------------------------------------------- provisioned concurrency


def test_provisioned_concurrency_on_a_version(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    version = lam.publish_version(FunctionName=name)["Version"]
    out = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert out["RequestedProvisionedConcurrentExecutions"] == 2 and out["Status"] == "READY"
    got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert (got["RequestedProvisionedConcurrentExecutions"], got["AllocatedProvisionedConcurrentExecutions"]) == (2, 2)
    assert got["Status"] == "READY"
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"arn:aws:lambda:us-east-1:000000000000:function:{name}:{version}"]
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    with pytest.raises(ClientError) as e:
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert error_of(e) == (
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
        404,
    )
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_provisioned_concurrency_refuses_latest(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
        400,
    )
    with pytest.raises(ClientError) as e:
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="42", ProvisionedConcurrentExecutions=1)
    assert error_of(e)[0] == "ResourceNotFoundException"


# ----------------------------------------------------------------------- code signing


def test_code_signing_config_lifecycle(lam, unique_name):
    created = lam.create_code_signing_config(
        Description="team signing", AllowedPublishers={"SigningProfileVersionArns": [SIGNING_PROFILE]},
    )["CodeSigningConfig"]
    arn = created["CodeSigningConfigArn"]
    assert created["CodeSigningConfigId"].startswith("csc-") and len(created["CodeSigningConfigId"]) == 21
    assert arn == f"arn:aws:lambda:us-east-1:000000000000:code-signing-config:{created['CodeSigningConfigId']}"
    assert created["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"] == created
    updated = lam.update_code_signing_config(
        CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"},
    )["CodeSigningConfig"]
    assert updated["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"}
    assert updated["Description"] == "team signing"
    listed = [c["CodeSigningConfigArn"] for c in lam.list_code_signing_configs(MaxItems=50)["CodeSigningConfigs"]]
    assert arn in listed

    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    put = lam.put_function_code_signing_config(FunctionName=name, CodeSigningConfigArn=arn)
    assert (put["CodeSigningConfigArn"], put["FunctionName"]) == (arn, name)
    got = lam.get_function_code_signing_config(FunctionName=name)
    assert (got["CodeSigningConfigArn"], got["FunctionName"]) == (arn, name)
    by_config = lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"]
    assert by_config == [f"arn:aws:lambda:us-east-1:000000000000:function:{name}"]
    with pytest.raises(ClientError) as e:
        lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert error_of(e)[0] == "ResourceConflictException"
    lam.delete_function_code_signing_config(FunctionName=name)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []
    lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    with pytest.raises(ClientError) as e:
        lam.get_code_signing_config(CodeSigningConfigArn=arn)
    assert error_of(e) == ("ResourceNotFoundException", f"The Lambda code signing configuration {arn} can not be found.", 404)


def test_code_signing_errors(lam, unique_name):
    missing = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0"
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.put_function_code_signing_config(FunctionName=name, CodeSigningConfigArn=missing)
    assert error_of(e) == (
        "CodeSigningConfigNotFoundException",
        f"The code signing configuration cannot be found. Check that the provided configuration is not deleted: {missing}.",
        404,
    )
    with pytest.raises(ClientError) as e:
        lam.create_code_signing_config(
            AllowedPublishers={"SigningProfileVersionArns": [SIGNING_PROFILE]},
            CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Sometimes"},
        )
    assert error_of(e)[0] == "ValidationException"


def test_code_signing_configs_are_per_account(aws_client):
    mine = aws_client("lambda", account=new_account())
    other = aws_client("lambda", account=new_account())
    arn = mine.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [SIGNING_PROFILE]})[
        "CodeSigningConfig"
    ]["CodeSigningConfigArn"]
    assert [c["CodeSigningConfigArn"] for c in mine.list_code_signing_configs()["CodeSigningConfigs"]] == [arn]
    assert other.list_code_signing_configs()["CodeSigningConfigs"] == []
    with pytest.raises(ClientError) as e:
        other.get_code_signing_config(CodeSigningConfigArn=arn)
    assert error_of(e)[0] == "ResourceNotFoundException"


# ----------------------------------------------------------------------- function settings


def test_runtime_management_and_recursion_defaults_and_updates(lam, unique_name):
    name = unique_name("fn")
    arn = create_python(lam, name, SOURCE)["FunctionArn"]
    got = lam.get_runtime_management_config(FunctionName=name)
    assert (got["UpdateRuntimeOn"], got["FunctionArn"]) == ("Auto", arn)
    runtime = "arn:aws:lambda:us-east-1::runtime:0123456789abcdef"
    put = lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=runtime)
    assert (put["UpdateRuntimeOn"], put["RuntimeVersionArn"]) == ("Manual", runtime)
    assert lam.get_runtime_management_config(FunctionName=name)["RuntimeVersionArn"] == runtime
    with pytest.raises(ClientError) as e:
        lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual")
    assert error_of(e)[0] == "InvalidParameterValueException"

    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    assert lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    with pytest.raises(ClientError) as e:
        lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Sometimes")
    assert error_of(e)[0] == "ValidationException"


# ----------------------------------------------------------------------- durability


@pytest.mark.slow
def test_concurrency_and_settings_survive_kill9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    lam = server.client("lambda")
    create_python(lam, "durable", SOURCE)
    version = lam.publish_version(FunctionName="durable")["Version"]
    lam.put_provisioned_concurrency_config(FunctionName="durable", Qualifier=version, ProvisionedConcurrentExecutions=3)
    lam.put_function_concurrency(FunctionName="durable", ReservedConcurrentExecutions=0)
    lam.put_function_recursion_config(FunctionName="durable", RecursiveLoop="Allow")
    csc = lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [SIGNING_PROFILE]})[
        "CodeSigningConfig"
    ]["CodeSigningConfigArn"]
    lam.put_function_code_signing_config(FunctionName="durable", CodeSigningConfigArn=csc)
    server.kill9()
    server.restart()
    lam = server.client("lambda")
    assert lam.get_function_concurrency(FunctionName="durable")["ReservedConcurrentExecutions"] == 0
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="durable", Payload=b"{}")
    assert error_of(e)[0] == "TooManyRequestsException"
    got = lam.get_provisioned_concurrency_config(FunctionName="durable", Qualifier=version)
    assert got["RequestedProvisionedConcurrentExecutions"] == 3
    assert lam.get_function_recursion_config(FunctionName="durable")["RecursiveLoop"] == "Allow"
    assert lam.get_function_code_signing_config(FunctionName="durable")["CodeSigningConfigArn"] == csc
    assert lam.get_code_signing_config(CodeSigningConfigArn=csc)["CodeSigningConfig"]["CodeSigningConfigArn"] == csc
