"""Lambda resource-based policies (AddPermission, RemovePermission, GetPolicy) and tags
(TagResource, UntagResource, ListTags): the policy document as AWS writes it, Lambda's
errors, durability and isolation between accounts and regions."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import SOURCE, create_python, error_of, function_arn, new_account



@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


# ----------------------------------------------------------------------- policies


def test_add_permission_returns_the_statement_and_get_policy_the_document(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    out = lam.add_permission(
        FunctionName=name, StatementId="s3-invoke", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::my-bucket", SourceAccount="123456789012",
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = json.loads(out["Statement"])
    assert statement == {
        "Sid": "s3-invoke",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": function_arn(name),
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "123456789012"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"},
        },
    }
    got = lam.get_policy(FunctionName=name)
    policy = json.loads(got["Policy"])
    assert policy == {"Version": "2012-10-17", "Id": "default", "Statement": [statement]}
    assert got["RevisionId"] == lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]


def test_principals_conditions_and_statement_order(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    lam.add_permission(FunctionName=name, StatementId="acct", Action="lambda:GetFunction", Principal="111122223333")
    lam.add_permission(
        FunctionName=name, StatementId="org", Action="lambda:InvokeFunction", Principal="*",
        PrincipalOrgID="o-abcdefghij",
    )
    lam.add_permission(
        FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName=name, StatementId="role", Action="lambda:*",
        Principal="arn:aws:iam::111122223333:role/caller",
    )
    statements = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["acct", "org", "url", "role"]
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert "Condition" not in statements[0]
    assert statements[1]["Principal"] == "*"
    assert statements[1]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    assert statements[2]["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert statements[3]["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/caller"}


def test_duplicate_statement_id_is_a_conflict(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    lam.add_permission(FunctionName=name, StatementId="dup", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="dup", Action="lambda:InvokeFunction", Principal="sqs.amazonaws.com")
    assert error_of(e) == (
        "ResourceConflictException",
        "The statement id (dup) provided already exists. Please provide a new statement id, or remove the existing statement.",
        409,
    )


def test_get_policy_without_statements_is_not_found(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error_of(e) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)


def test_remove_permission_drops_the_statement_and_the_empty_policy(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    for sid in ("a", "b"):
        lam.add_permission(FunctionName=name, StatementId=sid, Action="lambda:InvokeFunction", Principal="events.amazonaws.com")
    r = lam.remove_permission(FunctionName=name, StatementId="a")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]] == ["b"]
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="a")
    assert error_of(e) == ("ResourceNotFoundException", "Statement a is not found in resource policy.", 404)
    lam.remove_permission(FunctionName=name, StatementId="b")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_revision_id_precondition(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.add_permission(
            FunctionName=name, StatementId="x", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
            RevisionId="00000000-0000-0000-0000-000000000000",
        )
    code, message, status = error_of(e)
    assert (code, status) == ("PreconditionFailedException", 412)
    assert message.startswith("The Revision Id provided does not match the latest Revision Id.")
    revision = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    lam.add_permission(
        FunctionName=name, StatementId="x", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", RevisionId=revision,
    )
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="x", RevisionId="00000000-0000-0000-0000-000000000000")
    assert error_of(e)[0] == "PreconditionFailedException"


def test_invalid_principal_action_and_statement_id(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="p", Action="lambda:InvokeFunction", Principal="nobody")
    assert error_of(e) == (
        "InvalidParameterValueException",
        "The provided principal was invalid. Please check the principal and try again.",
        400,
    )
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="p", Action="s3:GetObject", Principal="*")
    assert error_of(e)[0] == "ValidationException" and "at 'action'" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="bad id", Action="lambda:InvokeFunction", Principal="*")
    assert error_of(e)[0] == "ValidationException" and "at 'statementId'" in error_of(e)[1]


def test_permission_on_a_missing_function_is_not_found(lam, unique_name):
    name = unique_name("missing")
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="x", Action="lambda:InvokeFunction", Principal="*")
    assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {function_arn(name)}", 404)


def test_qualified_policies_are_separate_and_name_their_version(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.add_permission(FunctionName=name, Qualifier=version, StatementId="v", Action="lambda:InvokeFunction", Principal="*")
    qualified = json.loads(lam.get_policy(FunctionName=name, Qualifier=version)["Policy"])
    assert qualified["Statement"][0]["Resource"] == f"{function_arn(name)}:{version}"
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, Qualifier="99", StatementId="v", Action="lambda:InvokeFunction", Principal="*")
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_alias_policy_uses_the_alias_revision_and_goes_with_the_alias(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    version = lam.publish_version(FunctionName=name)["Version"]
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.add_permission(
        FunctionName=f"{name}:live", StatementId="a", Action="lambda:InvokeFunction", Principal="*",
        RevisionId=alias["RevisionId"],
    )
    got = lam.get_policy(FunctionName=name, Qualifier="live")
    assert json.loads(got["Policy"])["Statement"][0]["Resource"] == f"{function_arn(name)}:live"
    assert got["RevisionId"] == alias["RevisionId"]
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, Qualifier="other", StatementId="b", Action="lambda:InvokeFunction", Principal="*")
    assert error_of(e)[0] == "ResourceNotFoundException"
    lam.delete_alias(FunctionName=name, Name="live")
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name, Qualifier="live")
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_policy_goes_with_the_function(lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    lam.add_permission(FunctionName=name, StatementId="old", Action="lambda:InvokeFunction", Principal="*")
    lam.delete_function(FunctionName=name)
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error_of(e)[0] == "ResourceNotFoundException"
    lam.add_permission(FunctionName=name, StatementId="old", Action="lambda:InvokeFunction", Principal="*")


def test_policies_are_isolated_by_account_and_region(aws_client, unique_name):
    name = unique_name("fn")
    account = new_account()
    mine = aws_client("lambda", account=account)
    other_account = aws_client("lambda", account=new_account())
    other_region = aws_client("lambda", region="eu-west-1", account=account)
    create_python(mine, name, SOURCE)
    create_python(other_region, name, SOURCE)
    mine.add_permission(FunctionName=name, StatementId="only-here", Action="lambda:InvokeFunction", Principal="*")
    assert json.loads(mine.get_policy(FunctionName=name)["Policy"])["Statement"][0]["Resource"] == function_arn(name, account)
    with pytest.raises(ClientError) as e:
        other_region.get_policy(FunctionName=name)
    assert error_of(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        other_account.get_policy(FunctionName=name)
    assert error_of(e)[1].startswith("Function not found")


def test_aws_cli_add_permission_and_get_policy(aws_cli, lam, unique_name):
    name = unique_name("fn")
    create_python(lam, name, SOURCE)
    out = aws_cli(
        "lambda", "add-permission", "--function-name", name, "--statement-id", "cli",
        "--action", "lambda:InvokeFunction", "--principal", "sns.amazonaws.com",
    )
    assert json.loads(out["Statement"])["Sid"] == "cli"
    policy = json.loads(aws_cli("lambda", "get-policy", "--function-name", name)["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}


# ----------------------------------------------------------------------- tags


def test_tag_untag_and_list_tags(lam, unique_name):
    name = unique_name("fn")
    arn = create_python(lam, name, SOURCE, Tags={"team": "blue"})["FunctionArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "blue"}
    r = lam.tag_resource(Resource=arn, Tags={"env": "dev", "team": "red"})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "red", "env": "dev"}
    assert lam.get_function(FunctionName=name)["Tags"] == {"team": "red", "env": "dev"}
    lam.untag_resource(Resource=arn, TagKeys=["team", "absent"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "dev"}


def test_tagging_keeps_the_revision(lam, unique_name):
    name = unique_name("fn")
    created = create_python(lam, name, SOURCE)
    lam.tag_resource(Resource=created["FunctionArn"], Tags={"a": "b"})
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == created["RevisionId"]


def test_tag_limits(lam, unique_name):
    name = unique_name("fn")
    arn = create_python(lam, name, SOURCE)["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(ClientError) as e:
        lam.tag_resource(Resource=arn, Tags={"one-more": "v"})
    assert error_of(e) == ("InvalidParameterValueException", "Number of tags exceeds resource tag limit.", 400)
    assert len(lam.list_tags(Resource=arn)["Tags"]) == 50
    for bad in ({"aws:reserved": "v"}, {"k" * 129: "v"}, {"k": "v" * 257}):
        with pytest.raises(ClientError) as e:
            lam.tag_resource(Resource=arn, Tags=bad)
        assert error_of(e)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        create_python(lam, unique_name("fn"), SOURCE, Tags={"aws:x": "y"})
    assert error_of(e)[0] == "InvalidParameterValueException"


def test_tags_on_missing_or_qualified_functions(lam, unique_name):
    name = unique_name("missing")
    with pytest.raises(ClientError) as e:
        lam.list_tags(Resource=function_arn(name))
    assert error_of(e) == ("ResourceNotFoundException", f"Function not found: {function_arn(name)}", 404)
    create_python(lam, name, SOURCE)
    with pytest.raises(ClientError) as e:
        lam.tag_resource(Resource=function_arn(name) + ":1", Tags={"a": "b"})
    assert error_of(e)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.list_tags(Resource="arn:aws:s3:::bucket")
    assert error_of(e)[0] == "ValidationException"


def test_tags_of_another_account_are_not_reachable(aws_client, unique_name):
    name = unique_name("fn")
    account = new_account()
    mine = aws_client("lambda", account=account)
    arn = create_python(mine, name, SOURCE, Tags={"a": "1"})["FunctionArn"]
    other = aws_client("lambda", account=new_account())
    with pytest.raises(ClientError) as e:
        other.tag_resource(Resource=arn, Tags={"b": "2"})
    assert error_of(e)[0] == "ResourceNotFoundException"
    assert mine.list_tags(Resource=arn)["Tags"] == {"a": "1"}


def test_aws_cli_tag_resource(aws_cli, lam, unique_name):
    name = unique_name("fn")
    arn = create_python(lam, name, SOURCE)["FunctionArn"]
    aws_cli("lambda", "tag-resource", "--resource", arn, "--tags", "cli=yes")
    assert aws_cli("lambda", "list-tags", "--resource", arn)["Tags"] == {"cli": "yes"}


# ----------------------------------------------------------------------- durability


@pytest.mark.slow
def test_policies_and_tags_survive_kill9(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    lam = server.client("lambda")
    arn = create_python(lam, "durable", SOURCE)["FunctionArn"]
    lam.add_permission(FunctionName="durable", StatementId="keep", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    lam.add_permission(FunctionName="durable", StatementId="gone", Action="lambda:InvokeFunction", Principal="*")
    lam.remove_permission(FunctionName="durable", StatementId="gone")
    lam.tag_resource(Resource=arn, Tags={"kept": "yes"})
    create_python(lam, "deleted", SOURCE)
    lam.add_permission(FunctionName="deleted", StatementId="x", Action="lambda:InvokeFunction", Principal="*")
    lam.delete_function(FunctionName="deleted")
    server.kill9()
    server.restart()
    lam = server.client("lambda")
    statements = json.loads(lam.get_policy(FunctionName="durable")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["keep"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"kept": "yes"}
    create_python(lam, "deleted", SOURCE)
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName="deleted")


# ----------------------------------------------------------------------- resource policy documents
# The installed boto3 predates PutResourcePolicy / GetResourcePolicy / DeleteResourcePolicy
# (REST paths under /2026-07-09/resource-policy/), so these tests sign the requests.


def resource_policy(http, method, arn, body=None, revision=None, account=None):
    """(status, JSON body or {}, error code or None) of one resource-policy call."""
    from urllib.parse import quote

    path = f"/2026-07-09/resource-policy/{quote(arn, safe='')}"
    if revision and method == "DELETE":
        path += f"?RevisionId={revision}"
    data = json.dumps(body) if body is not None else b""
    extra = {"access_key": account} if account else {}
    r = http.signed(method, path, "lambda", body=data, headers={"Content-Type": "application/json"}, **extra)
    doc = r.json() if r.content else {}
    code = (r.headers.get("x-amzn-ErrorType") or "").split(":")[0] or None
    return r.status_code, doc, code


def test_put_get_delete_resource_policy_replaces_the_function_policy(lam, http, unique_name):
    name = unique_name("rp")
    arn = create_python(lam, name, SOURCE)["FunctionArn"]
    lam.add_permission(FunctionName=name, StatementId="old", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "lambda:InvokeFunction", "Resource": arn}
        ],
    }
    status, put, _ = resource_policy(http, "PUT", arn, {"Policy": json.dumps(document)})
    assert status == 200
    assert len(put["RevisionId"]) == 36
    status, got, _ = resource_policy(http, "GET", arn)
    assert status == 200 and got["RevisionId"] == put["RevisionId"]
    assert [s["Sid"] for s in json.loads(got["Policy"])["Statement"]] == ["events"], "Put replaces AddPermission's statements"
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]] == ["events"]
    # AddPermission changes the policy, and so its revision.
    lam.add_permission(FunctionName=name, StatementId="more", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    _, after_add, _ = resource_policy(http, "GET", arn)
    assert after_add["RevisionId"] != put["RevisionId"]
    # A stale revision is refused, the current one accepted.
    stale = put["RevisionId"]
    status, _, code = resource_policy(http, "PUT", arn, {"Policy": json.dumps(document), "RevisionId": stale})
    assert (status, code) == (412, "PreconditionFailedException")
    status, _, code = resource_policy(http, "DELETE", arn, revision=stale)
    assert (status, code) == (412, "PreconditionFailedException")
    status, _, _ = resource_policy(http, "DELETE", arn, revision=after_add["RevisionId"])
    assert status == 204
    for method in ("GET", "DELETE"):
        status, doc, code = resource_policy(http, method, arn)
        assert (status, code) == (404, "ResourceNotFoundException")
        assert doc.get("message", doc.get("Message")) == "The resource you requested does not exist."
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_resource_policy_names_a_complete_arn_of_an_existing_function(lam, aws_client, http, unique_name):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "a", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"}]})
    status, _, code = resource_policy(http, "PUT", function_arn(unique_name("absent")), {"Policy": policy})
    assert (status, code) == (404, "ResourceNotFoundException")
    name = unique_name("rp2")
    create_python(lam, name, SOURCE)
    status, _, code = resource_policy(http, "GET", f"{function_arn(name)}:*")
    assert (status, code) == (400, "ValidationException")
    status, _, code = resource_policy(http, "PUT", function_arn(name), {"Policy": "not json"})
    assert (status, code) == (400, "InvalidParameterValueException")
    # Another account's function of the same name is another resource.
    account = new_account()
    other = aws_client("lambda", account=account)
    create_python(other, name, SOURCE)
    assert resource_policy(http, "PUT", function_arn(name), {"Policy": policy})[0] == 200
    status, _, code = resource_policy(http, "GET", function_arn(name, account=account), account=account)
    assert (status, code) == (404, "ResourceNotFoundException")
