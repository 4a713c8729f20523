"""Lambda versions and aliases: PublishVersion, ListVersionsByFunction, Create/Get/Update/
Delete/ListAliases, qualifier resolution (version, alias, qualified ARNs), invoking a
version or a weighted alias, deleting versions, and durability of all of it."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import client_config
from lambda_helpers import ROLE, create_python, error_of, package

ACCOUNT = "000000000000"
REGION = "us-east-1"


def source(marker: str) -> str:
    return (
        "import os\n"
        "def handler(event, context):\n"
        f"    return {{'code': '{marker}', 'env_version': os.environ['AWS_LAMBDA_FUNCTION_VERSION'],\n"
        "            'ctx_version': context.function_version, 'arn': context.invoked_function_arn,\n"
        "            'var': os.environ.get('VAR')}\n"
    )


def zip_of(marker: str) -> bytes:
    return package({"app.py": source(marker)})


def sha_of(zip_bytes: bytes) -> str:
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def arn_of(name: str, qualifier: str | None = None, account: str = ACCOUNT, region: str = REGION) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def invoke(lam, name: str, **kwargs) -> tuple[dict, str]:
    r = lam.invoke(FunctionName=name, **kwargs)
    assert "FunctionError" not in r, r["Payload"].read()
    return json.loads(r["Payload"].read()), r["ExecutedVersion"]


@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


@pytest.fixture
def fn(lam, unique_name):
    """A function whose code answers 'v1'."""
    name = unique_name("ver")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_of("v1")}, Description="first")
    return name


def two_versions(lam, name: str) -> None:
    """Version 1 runs 'v1', version 2 runs 'v2'."""
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=zip_of("v2"))
    lam.publish_version(FunctionName=name)


# --------------------------------------------------------------------------- publish


def test_publish_version_snapshots_latest(lam, fn):
    latest = lam.get_function_configuration(FunctionName=fn)
    v1 = lam.publish_version(FunctionName=fn)
    assert v1["Version"] == "1"
    assert v1["FunctionArn"] == arn_of(fn, "1")
    assert v1["Description"] == "first"
    assert v1["CodeSha256"] == latest["CodeSha256"]
    assert v1["State"] == "Active"
    # Publishing changes $LATEST's revision.
    assert lam.get_function_configuration(FunctionName=fn)["RevisionId"] != latest["RevisionId"]


def test_publish_without_changes_returns_the_last_version(lam, fn):
    v1 = lam.publish_version(FunctionName=fn)
    again = lam.publish_version(FunctionName=fn, Description="ignored")
    assert (again["Version"], again["RevisionId"], again["Description"]) == ("1", v1["RevisionId"], "first")
    lam.update_function_configuration(FunctionName=fn, Timeout=7)
    v2 = lam.publish_version(FunctionName=fn, Description="second")
    assert (v2["Version"], v2["Timeout"], v2["Description"]) == ("2", 7, "second")
    # $LATEST keeps its own description.
    assert lam.get_function_configuration(FunctionName=fn)["Description"] == "first"


def test_publish_preconditions(lam, fn):
    latest = lam.get_function_configuration(FunctionName=fn)
    wrong_sha = sha_of(b"other")
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=fn, CodeSha256=wrong_sha)
    assert error_of(e) == (
        "InvalidParameterValueException",
        f"CodeSHA256 ({wrong_sha}) is different from current CodeSHA256 in $LATEST ({latest['CodeSha256']}). "
        "Please try again with the CodeSHA256 in $LATEST.",
        400,
    )
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=fn, RevisionId="00000000-0000-0000-0000-000000000000")
    assert error_of(e)[0::2] == ("PreconditionFailedException", 412)
    assert "does not match the latest Revision Id" in error_of(e)[1]
    v = lam.publish_version(FunctionName=fn, CodeSha256=latest["CodeSha256"], RevisionId=latest["RevisionId"])
    assert v["Version"] == "1"


def test_create_and_update_code_with_publish(lam, unique_name):
    name = unique_name("pub")
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                  Code={"ZipFile": zip_of("v1")}, Publish=True)
    assert (created["Version"], created["FunctionArn"]) == ("1", arn_of(name, "1"))
    updated = lam.update_function_code(FunctionName=name, ZipFile=zip_of("v2"), Publish=True)
    assert (updated["Version"], updated["FunctionArn"]) == ("2", arn_of(name, "2"))
    assert updated["CodeSha256"] == sha_of(zip_of("v2"))
    assert invoke(lam, name, Qualifier="1")[0]["code"] == "v1"


def test_publish_unknown_function_is_not_found(lam, unique_name):
    name = unique_name("missing")
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name)
    assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {arn_of(name)}", 404)


# --------------------------------------------------------------------------- immutability and invoke


def test_a_version_keeps_its_code_and_configuration(lam, fn):
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"VAR": "one"}})
    lam.publish_version(FunctionName=fn)
    lam.update_function_code(FunctionName=fn, ZipFile=zip_of("v2"))
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"VAR": "two"}})

    out, executed = invoke(lam, fn, Qualifier="1")
    assert executed == "1"
    assert out == {"code": "v1", "env_version": "1", "ctx_version": "1", "arn": arn_of(fn, "1"), "var": "one"}
    out, executed = invoke(lam, f"{fn}:1")
    assert (out["code"], executed, out["arn"]) == ("v1", "1", arn_of(fn, "1"))
    out, executed = invoke(lam, fn)
    assert (out["code"], out["env_version"], out["var"], executed) == ("v2", "$LATEST", "two", "$LATEST")
    assert out["arn"] == arn_of(fn)

    assert lam.get_function_configuration(FunctionName=fn, Qualifier="1")["Environment"]["Variables"] == {"VAR": "one"}


def test_get_function_of_a_version_and_an_alias(lam, fn):
    two_versions(lam, fn)
    c = lam.get_function_configuration(FunctionName=fn, Qualifier="1")
    assert (c["Version"], c["FunctionArn"], c["CodeSha256"]) == ("1", arn_of(fn, "1"), sha_of(zip_of("v1")))
    got = lam.get_function(FunctionName=arn_of(fn, "1"))
    assert got["Configuration"]["Version"] == "1"
    assert requests.get(got["Code"]["Location"], timeout=10).content == zip_of("v1")
    assert requests.get(lam.get_function(FunctionName=fn)["Code"]["Location"], timeout=10).content == zip_of("v2")

    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="2")
    c = lam.get_function_configuration(FunctionName=fn, Qualifier="live")
    assert (c["Version"], c["FunctionArn"]) == ("2", arn_of(fn, "live"))
    c = lam.get_function_configuration(FunctionName=f"{ACCOUNT}:function:{fn}:live")
    assert c["Version"] == "2"


def test_unknown_qualifiers_and_disagreeing_qualifiers(lam, fn):
    lam.publish_version(FunctionName=fn)
    for q in ("9", "nosuchalias"):
        with pytest.raises(ClientError) as e:
            lam.get_function_configuration(FunctionName=fn, Qualifier=q)
        assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {arn_of(fn, q)}", 404)
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName=f"{fn}:{q}")
        assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {arn_of(fn, q)}", 404)
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=f"{fn}:1", Qualifier="2")
    assert error_of(e) == (
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
        400,
    )
    assert lam.get_function(FunctionName=arn_of(fn, "1"), Qualifier="1")["Configuration"]["Version"] == "1"


def test_waiters_work_for_versions(lam, fn):
    v = lam.publish_version(FunctionName=fn)
    fast = {"Delay": 1, "MaxAttempts": 2}
    lam.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig=fast)
    lam.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig=fast)
    lam.get_waiter("published_version_active").wait(FunctionName=fn, Qualifier=v["Version"], WaiterConfig=fast)
    published = lam.get_function_configuration(FunctionName=fn, Qualifier=v["Version"])
    assert (published["Version"], published["State"]) == (v["Version"], "Active")


# --------------------------------------------------------------------------- list and delete


def test_list_versions_pages_with_latest_first(lam, fn):
    for marker in ("v2", "v3"):
        lam.publish_version(FunctionName=fn)
        lam.update_function_code(FunctionName=fn, ZipFile=zip_of(marker))
    lam.publish_version(FunctionName=fn)
    listed = lam.list_versions_by_function(FunctionName=fn)
    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1", "2", "3"]
    assert listed["Versions"][0]["FunctionArn"] == arn_of(fn, "$LATEST")
    assert listed["Versions"][3]["FunctionArn"] == arn_of(fn, "3")
    assert "NextMarker" not in listed
    first = lam.list_versions_by_function(FunctionName=fn, MaxItems=3)
    assert [v["Version"] for v in first["Versions"]] == ["$LATEST", "1", "2"]
    rest = lam.list_versions_by_function(FunctionName=fn, MaxItems=3, Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["3"] and "NextMarker" not in rest
    paged = [v["Version"] for p in lam.get_paginator("list_versions_by_function").paginate(
        FunctionName=fn, PaginationConfig={"PageSize": 1}) for v in p["Versions"]]
    assert paged == ["$LATEST", "1", "2", "3"]


def test_delete_one_version(lam, fn):
    two_versions(lam, fn)
    lam.delete_function(FunctionName=fn, Qualifier="1")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]] == ["$LATEST", "2"]
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=fn, Qualifier="1")
    assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {arn_of(fn, '1')}", 404)
    # Deleting a version that does not exist is no error; $LATEST cannot go alone.
    lam.delete_function(FunctionName=fn, Qualifier="1")
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=fn, Qualifier="$LATEST")
    assert error_of(e) == ("InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.", 400)
    # Numbers are never reused.
    lam.update_function_code(FunctionName=fn, ZipFile=zip_of("v3"))
    assert lam.publish_version(FunctionName=fn)["Version"] == "3"
    assert invoke(lam, fn, Qualifier="2")[0]["code"] == "v2"


def test_a_version_an_alias_uses_cannot_be_deleted(lam, fn):
    two_versions(lam, fn)
    lam.create_alias(FunctionName=fn, Name="prod", FunctionVersion="1")
    lam.create_alias(FunctionName=fn, Name="canary", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=fn, Qualifier="1")
    assert error_of(e) == (
        "ResourceConflictException",
        "Unable to delete version because the following aliases reference it: [canary, prod]",
        409,
    )
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=fn, Qualifier="2")
    assert error_of(e)[0] == "ResourceConflictException"


def test_deleting_the_function_removes_versions_and_aliases(lam, fn):
    two_versions(lam, fn)
    lam.create_alias(FunctionName=fn, Name="prod", FunctionVersion="1")
    lam.delete_function(FunctionName=fn)
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=fn, Qualifier="1")
    assert error_of(e)[0] == "ResourceNotFoundException"
    create_python(lam, fn, "def handler(e, c):\n    return 'new'\n")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]] == ["$LATEST"]
    assert lam.list_aliases(FunctionName=fn)["Aliases"] == []
    assert lam.publish_version(FunctionName=fn)["Version"] == "1"
    assert lam.invoke(FunctionName=fn, Qualifier="1")["Payload"].read() == b'"new"'


# --------------------------------------------------------------------------- aliases


def test_alias_lifecycle(lam, fn):
    two_versions(lam, fn)
    created = lam.create_alias(FunctionName=fn, Name="prod", FunctionVersion="1", Description="production")
    assert created["AliasArn"] == arn_of(fn, "prod")
    assert (created["Name"], created["FunctionVersion"], created["Description"]) == ("prod", "1", "production")
    assert created["RevisionId"]
    assert "RoutingConfig" not in created
    got = lam.get_alias(FunctionName=fn, Name="prod")
    assert got == {k: v for k, v in created.items()} | {"ResponseMetadata": got["ResponseMetadata"]}

    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=fn, Name="prod", FunctionVersion="2")
    assert error_of(e) == ("ResourceConflictException", f"Alias already exists: {arn_of(fn, 'prod')}", 409)

    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=fn, Name="prod", FunctionVersion="2", RevisionId="stale")
    assert error_of(e)[0::2] == ("PreconditionFailedException", 412)
    updated = lam.update_alias(FunctionName=fn, Name="prod", FunctionVersion="2", RevisionId=created["RevisionId"])
    assert (updated["FunctionVersion"], updated["Description"]) == ("2", "production")
    assert updated["RevisionId"] != created["RevisionId"]
    assert invoke(lam, fn, Qualifier="prod")[0]["code"] == "v2"
    out, executed = invoke(lam, f"{fn}:prod")
    assert (executed, out["arn"], out["env_version"]) == ("2", arn_of(fn, "prod"), "2")

    lam.delete_alias(FunctionName=fn, Name="prod")
    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=fn, Name="prod")
    assert error_of(e) == ("ResourceNotFoundException", f"Cannot find alias arn: {arn_of(fn, 'prod')}", 404)
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=fn, Name="prod", Description="x")
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_alias_to_latest_follows_updates(lam, fn):
    lam.create_alias(FunctionName=fn, Name="head", FunctionVersion="$LATEST")
    out, executed = invoke(lam, fn, Qualifier="head")
    assert (out["code"], executed, out["arn"]) == ("v1", "$LATEST", arn_of(fn, "head"))
    lam.update_function_code(FunctionName=fn, ZipFile=zip_of("v2"))
    assert invoke(lam, fn, Qualifier="head")[0]["code"] == "v2"


def test_alias_errors(aws_client, fn):
    lam = aws_client("lambda", config=client_config(parameter_validation=False))
    two_versions(lam, fn)
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=fn, Name="a", FunctionVersion="7")
    assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {arn_of(fn, '7')}", 404)
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=fn, Name="123", FunctionVersion="1")
    assert error_of(e)[0::2] == ("ValidationException", 400)
    assert "Value '123' at 'name' failed to satisfy constraint" in error_of(e)[1]
    missing = f"{fn}-missing"
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=missing, Name="a", FunctionVersion="1")
    assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {arn_of(missing)}", 404)

    cases = [
        ("1", {"2": 0.1, "3": 0.1}, "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1"),
        ("1", {"2": 1.5}, "ValidationException", "1 validation error detected: Value '{2=1.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint"),
        ("1", {"1": 0.5}, "InvalidParameterValueException", "Invalid function version 1. Function version 1 is already included in routing configuration."),
        ("$LATEST", {"2": 0.5}, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version"),
        ("1", {"9": 0.5}, "ResourceNotFoundException", f"Function not found: {arn_of(fn, '9')}"),
    ]
    for version, weights, code, message in cases:
        with pytest.raises(ClientError) as e:
            lam.create_alias(FunctionName=fn, Name="weighted", FunctionVersion=version,
                             RoutingConfig={"AdditionalVersionWeights": weights})
        assert error_of(e)[0] == code, (weights, error_of(e))
        assert error_of(e)[1].startswith(message), error_of(e)
    assert lam.list_aliases(FunctionName=fn)["Aliases"] == []


def test_list_aliases_filters_and_pages(lam, fn):
    two_versions(lam, fn)
    for name, version in (("a1", "1"), ("b2", "2"), ("c1", "1"), ("d2", "2")):
        lam.create_alias(FunctionName=fn, Name=name, FunctionVersion=version)
    assert [a["Name"] for a in lam.list_aliases(FunctionName=fn)["Aliases"]] == ["a1", "b2", "c1", "d2"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=fn, FunctionVersion="2")["Aliases"]] == ["b2", "d2"]
    first = lam.list_aliases(FunctionName=fn, MaxItems=3)
    assert [a["Name"] for a in first["Aliases"]] == ["a1", "b2", "c1"]
    rest = lam.list_aliases(FunctionName=fn, MaxItems=3, Marker=first["NextMarker"])
    assert [a["Name"] for a in rest["Aliases"]] == ["d2"] and "NextMarker" not in rest
    paged = [a["Name"] for p in lam.get_paginator("list_aliases").paginate(
        FunctionName=fn, PaginationConfig={"PageSize": 2}) for a in p["Aliases"]]
    assert paged == ["a1", "b2", "c1", "d2"]


def test_weighted_alias_splits_invocations(lam, fn):
    two_versions(lam, fn)
    alias = lam.create_alias(FunctionName=fn, Name="canary", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    seen = {}
    for _ in range(40):
        out, executed = invoke(lam, fn, Qualifier="canary")
        assert out["code"] == f"v{executed}" and out["env_version"] == executed
        seen[executed] = seen.get(executed, 0) + 1
    assert set(seen) == {"1", "2"}, seen
    # Reads follow the primary version.
    assert lam.get_function_configuration(FunctionName=fn, Qualifier="canary")["Version"] == "1"
    # Removing the routing sends everything to the primary version again.
    lam.update_alias(FunctionName=fn, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in lam.get_alias(FunctionName=fn, Name="canary")
    assert {invoke(lam, fn, Qualifier="canary")[1] for _ in range(5)} == {"1"}


def test_aliases_and_versions_with_the_cli(aws_cli, lam, fn):
    out = aws_cli("lambda", "publish-version", "--function-name", fn, "--description", "from cli")
    assert (out["Version"], out["Description"]) == ("1", "from cli")
    aws_cli("lambda", "create-alias", "--function-name", fn, "--name", "cli", "--function-version", "1")
    listed = aws_cli("lambda", "list-aliases", "--function-name", fn)
    assert [(a["Name"], a["FunctionVersion"]) for a in listed["Aliases"]] == [("cli", "1")]
    versions = aws_cli("lambda", "list-versions-by-function", "--function-name", fn)
    assert [v["Version"] for v in versions["Versions"]] == ["$LATEST", "1"]
    code, err = aws_cli("lambda", "get-alias", "--function-name", fn, "--name", "nope", expect_error=True)
    assert code != 0 and "ResourceNotFoundException" in err


# --------------------------------------------------------------------------- isolation and durability


def test_versions_and_aliases_are_per_account_and_region(aws_client, lam, fn):
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="prod", FunctionVersion="1")
    for other in (aws_client("lambda", account="111111111111"), aws_client("lambda", region="eu-west-1")):
        with pytest.raises(ClientError) as e:
            other.get_function(FunctionName=fn, Qualifier="1")
        assert error_of(e)[0] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as e:
            other.get_alias(FunctionName=fn, Name="prod")
        assert error_of(e)[0] == "ResourceNotFoundException"
    other = aws_client("lambda", account="111111111111")
    create_python(other, fn, "def handler(e, c):\n    return 'other'\n")
    assert other.publish_version(FunctionName=fn)["FunctionArn"] == arn_of(fn, "1", account="111111111111")
    assert other.list_aliases(FunctionName=fn)["Aliases"] == []
    assert invoke(lam, fn, Qualifier="prod")[0]["code"] == "v1"


def test_versions_and_aliases_survive_restart(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    lam = server.client("lambda")
    lam.create_function(FunctionName="kept", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_of("v1")})
    two_versions(lam, "kept")
    lam.update_function_code(FunctionName="kept", ZipFile=zip_of("v3"))
    alias = lam.create_alias(FunctionName="kept", Name="canary", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    server.kill9()
    server.restart()
    lam = server.client("lambda")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="kept")["Versions"]] == ["$LATEST", "1", "2"]
    assert lam.get_alias(FunctionName="kept", Name="canary") | {"ResponseMetadata": None} == alias | {"ResponseMetadata": None}
    assert invoke(lam, "kept", Qualifier="1")[0]["code"] == "v1"
    assert invoke(lam, "kept", Qualifier="2")[0]["code"] == "v2"
    assert invoke(lam, "kept")[0]["code"] == "v3"
    # The counter survives too: the next version is 3.
    assert lam.publish_version(FunctionName="kept")["Version"] == "3"
    lam.delete_alias(FunctionName="kept", Name="canary")
    lam.delete_function(FunctionName="kept", Qualifier="1")
    server.kill9()
    server.restart()
    lam = server.client("lambda")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="kept")["Versions"]] == ["$LATEST", "2", "3"]
    assert lam.list_aliases(FunctionName="kept")["Aliases"] == []


# --------------------------------------------------------------------------- ListFunctions ALL


def fresh_account(unique_name) -> str:
    """A 12-digit account nothing else in the session uses."""
    return str(int(hashlib.sha256(unique_name("acct").encode()).hexdigest(), 16))[:12].rjust(12, "1")


def listed(page: dict) -> list[tuple[str, str]]:
    return [(f["FunctionName"], f["Version"]) for f in page["Functions"]]


@pytest.fixture
def versioned_account(aws_client, unique_name):
    """An account with `alpha` (versions 1 and 2) and `beta` (version 1)."""
    lam = aws_client("lambda", account=fresh_account(unique_name))
    for name in ("beta", "alpha"):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": zip_of(name)})
    two_versions(lam, "alpha")
    lam.publish_version(FunctionName="beta")
    return lam


def test_list_functions_all_adds_every_published_version(versioned_account):
    lam = versioned_account
    assert listed(lam.list_functions()) == [("alpha", "$LATEST"), ("beta", "$LATEST")]
    everything = lam.list_functions(FunctionVersion="ALL")
    assert listed(everything) == [("alpha", "$LATEST"), ("alpha", "1"), ("alpha", "2"), ("beta", "$LATEST"), ("beta", "1")]
    assert "NextMarker" not in everything
    by_version = {(f["FunctionName"], f["Version"]): f for f in everything["Functions"]}
    assert by_version[("alpha", "1")]["FunctionArn"].endswith(":function:alpha:1")
    # Each version keeps its own snapshot: version 1 runs the first code, 2 the second.
    assert by_version[("alpha", "1")]["CodeSha256"] != by_version[("alpha", "2")]["CodeSha256"]
    assert by_version[("alpha", "2")]["CodeSha256"] == by_version[("alpha", "$LATEST")]["CodeSha256"]


def test_list_functions_all_pages_without_gaps_or_repeats(versioned_account):
    lam = versioned_account
    pages, marker = [], None
    while True:
        page = lam.list_functions(FunctionVersion="ALL", MaxItems=2, **({"Marker": marker} if marker else {}))
        pages.append(listed(page))
        marker = page.get("NextMarker")
        if not marker:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sum(pages, []) == [("alpha", "$LATEST"), ("alpha", "1"), ("alpha", "2"), ("beta", "$LATEST"), ("beta", "1")]
    through_paginator = [
        (f["FunctionName"], f["Version"])
        for p in lam.get_paginator("list_functions").paginate(FunctionVersion="ALL", PaginationConfig={"PageSize": 3})
        for f in p["Functions"]
    ]
    assert through_paginator == sum(pages, [])


def test_list_functions_all_forgets_a_deleted_version(versioned_account):
    lam = versioned_account
    lam.delete_function(FunctionName="alpha", Qualifier="1")
    assert listed(lam.list_functions(FunctionVersion="ALL")) == [("alpha", "$LATEST"), ("alpha", "2"), ("beta", "$LATEST"), ("beta", "1")]
    lam.delete_function(FunctionName="beta")
    assert listed(lam.list_functions(FunctionVersion="ALL")) == [("alpha", "$LATEST"), ("alpha", "2")]


def test_list_functions_master_region_needs_function_version_all(versioned_account):
    lam = versioned_account
    with pytest.raises(ClientError) as e:
        lam.list_functions(MasterRegion="us-east-1")
    code, message, status = error_of(e)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "MasterArn=us-east-1 and FunctionVersion=NULL is not supported" in message
    # Only Lambda@Edge replicas from that region are listed: none here.
    assert lam.list_functions(MasterRegion="us-east-1", FunctionVersion="ALL")["Functions"] == []
    assert lam.list_functions(MasterRegion="ALL", FunctionVersion="ALL")["Functions"] == []


@pytest.mark.parametrize("params,field", [
    ({"MasterRegion": "mars-1", "FunctionVersion": "ALL"}, "masterRegion"),
    ({"FunctionVersion": "LATEST"}, "functionVersion"),
])
def test_list_functions_rejects_values_outside_the_model(versioned_account, params, field):
    with pytest.raises(ClientError) as e:
        versioned_account.list_functions(**params)
    code, message, status = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert f"at '{field}' failed to satisfy constraint" in message
