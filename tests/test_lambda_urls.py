"""Lambda function URLs: the configuration operations (Create/Get/Update/Delete/List
FunctionUrlConfig[s]) and HTTP requests to `<url-id>.lambda-url.<region>...` hosts, which
run the function with a payload format 2.0 event and answer with its result as Lambda
interprets it (CORS, AWS_IAM auth, function errors)."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import sign_request
from lambda_helpers import create_python, error_code

ECHO = """
    import json
    def handler(event, context):
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
"""


@pytest.fixture
def lam(aws_client):
    return aws_client("lambda")


def call(kagami, function_url: str, path: str = "/", method: str = "GET", **kwargs) -> requests.Response:
    """Sends a request to a function URL through kagami's port, with the URL's Host."""
    host = urllib.parse.urlsplit(function_url).netloc
    headers = {"Host": host, **kwargs.pop("headers", {})}
    return requests.request(method, f"http://127.0.0.1:{kagami.port}{path}", headers=headers, timeout=30, **kwargs)


def url_function(lam, unique_name, source=ECHO, **url_kwargs):
    name = unique_name("url")
    create_python(lam, name, source)
    config = lam.create_function_url_config(FunctionName=name, AuthType=url_kwargs.pop("AuthType", "NONE"), **url_kwargs)
    return name, config


# ----------------------------------------------------------------------------- configuration


def test_create_function_url_config_answers_a_localstack_style_url(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name)
    assert re.fullmatch(
        rf"http://[a-z0-9]{{32}}\.lambda-url\.us-east-1\.localhost\.localstack\.cloud:{kagami.port}/", config["FunctionUrl"]
    ), config["FunctionUrl"]
    assert config["AuthType"] == "NONE"
    assert config["InvokeMode"] == "BUFFERED"
    assert config["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    got = lam.get_function_url_config(FunctionName=name)
    assert got["FunctionUrl"] == config["FunctionUrl"]
    assert got["CreationTime"] == config["CreationTime"]
    assert "LastModifiedTime" in got
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [config["FunctionUrl"]]


def test_a_second_url_for_the_same_function_is_a_conflict(lam, unique_name):
    name, config = url_function(lam, unique_name)
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert error_code(e) == "ResourceConflictException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "FunctionUrlConfig exists for this Lambda function" in str(e.value)
    assert config["FunctionArn"] in str(e.value)


def test_url_configs_of_missing_functions_and_urls_are_not_found(lam, unique_name):
    missing = unique_name("nofn")
    for call_ in (
        lambda: lam.create_function_url_config(FunctionName=missing, AuthType="NONE"),
        lambda: lam.get_function_url_config(FunctionName=missing),
        lambda: lam.update_function_url_config(FunctionName=missing, AuthType="NONE"),
        lambda: lam.delete_function_url_config(FunctionName=missing),
        lambda: lam.list_function_url_configs(FunctionName=missing),
    ):
        with pytest.raises(ClientError) as e:
            call_()
        assert error_code(e) == "ResourceNotFoundException"
    name = unique_name("nourl")
    create_python(lam, name, ECHO)
    with pytest.raises(ClientError) as e:
        lam.get_function_url_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    assert "The resource you requested does not exist." in str(e.value)
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_invalid_auth_type_invoke_mode_and_qualifiers_are_validation_errors(lam, unique_name):
    name = unique_name("val")
    create_python(lam, name, ECHO)
    cases = [
        dict(AuthType="OPEN"),
        dict(AuthType="NONE", InvokeMode="STREAMING"),
        dict(AuthType="NONE", Qualifier="$LATEST"),
        dict(AuthType="NONE", Qualifier="1"),
    ]
    for kwargs in cases:
        with pytest.raises(ClientError) as e:
            lam.create_function_url_config(FunctionName=name, **kwargs)
        assert error_code(e) == "ValidationException", kwargs
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE", Qualifier="no-such-alias")
    assert error_code(e) == "ResourceNotFoundException"


def test_update_changes_auth_and_cors_and_delete_removes_the_url(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name)
    updated = lam.update_function_url_config(
        FunctionName=name, AuthType="AWS_IAM", Cors={"AllowOrigins": ["https://app.example"], "MaxAge": 60}
    )
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["Cors"]["AllowOrigins"] == ["https://app.example"]
    assert updated["FunctionUrl"] == config["FunctionUrl"]
    got = lam.get_function_url_config(FunctionName=name)
    assert got["AuthType"] == "AWS_IAM" and got["Cors"]["MaxAge"] == 60
    lam.delete_function_url_config(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.get_function_url_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    assert call(kagami, config["FunctionUrl"]).status_code == 404


def test_deleting_the_function_deletes_its_url(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name)
    lam.delete_function(FunctionName=name)
    create_python(lam, name, ECHO)
    with pytest.raises(ClientError) as e:
        lam.get_function_url_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    assert call(kagami, config["FunctionUrl"]).status_code == 404


def test_url_configs_are_per_region(aws_client, unique_name):
    east, west = aws_client("lambda", region="us-east-1"), aws_client("lambda", region="eu-west-1")
    name = unique_name("reg")
    create_python(east, name, ECHO)
    create_python(west, name, ECHO)
    east.create_function_url_config(FunctionName=name, AuthType="NONE")
    with pytest.raises(ClientError):
        west.get_function_url_config(FunctionName=name)
    made = west.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert ".lambda-url.eu-west-1." in made["FunctionUrl"]


# ----------------------------------------------------------------------------- invocation


def test_request_reaches_the_function_as_a_version_2_event(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name)
    r = call(
        kagami,
        config["FunctionUrl"],
        "/orders/42?color=red&color=blue&q=a+b",
        method="POST",
        data='{"hello": "world"}',
        headers={"Content-Type": "application/json", "X-Custom": "One", "User-Agent": "kagami-test", "Cookie": "a=1; b=2"},
    )
    assert r.status_code == 200, r.text
    event = r.json()
    url_id = urllib.parse.urlsplit(config["FunctionUrl"]).hostname.split(".")[0]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/orders/42"
    assert event["rawQueryString"] == "color=red&color=blue&q=a+b"
    assert event["queryStringParameters"] == {"color": "red,blue", "q": "a b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-custom"] == "One"
    assert all(k == k.lower() for k in event["headers"])
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"hello": "world"}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["accountId"] == "anonymous"
    assert ctx["apiId"] == url_id and ctx["domainPrefix"] == url_id
    assert ctx["domainName"] == urllib.parse.urlsplit(config["FunctionUrl"]).hostname
    assert ctx["http"] == {
        "method": "POST",
        "path": "/orders/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "kagami-test",
    }
    assert ctx["routeKey"] == "$default" and ctx["stage"] == "$default"
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", ctx["time"])
    assert isinstance(ctx["timeEpoch"], int)
    assert ctx["requestId"] == r.headers["x-amzn-requestid"]


def test_binary_bodies_arrive_in_base64_and_empty_ones_not_at_all(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name)
    raw = bytes(range(256))
    event = call(kagami, config["FunctionUrl"], method="PUT", data=raw, headers={"Content-Type": "application/octet-stream"}).json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw
    event = call(kagami, config["FunctionUrl"]).json()
    assert "body" not in event and event["isBase64Encoded"] is False
    assert "queryStringParameters" not in event and event["rawQueryString"] == ""


def test_a_result_with_status_code_sets_status_headers_cookies_and_body(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name, """
        import base64
        def handler(event, context):
            if event["rawPath"] == "/binary":
                return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                        "body": base64.b64encode(b"\\x89PNG").decode(), "isBase64Encoded": True}
            return {"statusCode": 418, "headers": {"X-Teapot": "yes", "Content-Type": "text/plain"},
                    "cookies": ["session=abc; HttpOnly", "theme=dark"], "body": "short and stout"}
    """)
    r = call(kagami, config["FunctionUrl"], "/tea")
    assert r.status_code == 418
    assert r.text == "short and stout"
    assert r.headers["x-teapot"] == "yes"
    assert r.headers["content-type"] == "text/plain"
    assert r.raw.headers.getlist("set-cookie") == ["session=abc; HttpOnly", "theme=dark"]
    r = call(kagami, config["FunctionUrl"], "/binary")
    assert r.content == b"\x89PNG"
    assert r.headers["content-type"] == "image/png"


def test_other_results_are_a_200_json_body(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name, """
        def handler(event, context):
            if event["rawPath"] == "/text":
                return "Hello (world)"
            return {"message": "Hello (world)"}
    """)
    r = call(kagami, config["FunctionUrl"], "/obj")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"message": "Hello (world)"}
    r = call(kagami, config["FunctionUrl"], "/text")
    assert (r.status_code, r.text) == (200, "Hello (world)")


def test_a_function_error_is_a_502(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name, """
        def handler(event, context):
            raise RuntimeError("boom")
    """)
    r = call(kagami, config["FunctionUrl"])
    assert r.status_code == 502
    assert r.json() == {"Message": "Internal Server Error"}


def test_unknown_url_ids_are_not_found(kagami):
    host = f"{'z' * 32}.lambda-url.us-east-1.localhost.localstack.cloud:{kagami.port}"
    r = requests.get(f"http://127.0.0.1:{kagami.port}/", headers={"Host": host}, timeout=10)
    assert r.status_code == 404


def test_cors_configuration_answers_preflights_and_decorates_answers(lam, kagami, unique_name):
    name, config = url_function(
        lam,
        unique_name,
        Cors={
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["x-custom"],
            "ExposeHeaders": ["x-amzn-requestid"],
            "MaxAge": 300,
        },
    )
    pre = call(
        kagami,
        config["FunctionUrl"],
        method="OPTIONS",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert pre.headers["access-control-allow-headers"] == "x-custom"
    assert pre.headers["access-control-max-age"] == "300"
    refused = call(
        kagami,
        config["FunctionUrl"],
        method="OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in refused.headers
    r = call(kagami, config["FunctionUrl"], headers={"Origin": "https://app.example"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert r.headers["access-control-expose-headers"] == "x-amzn-requestid"
    other = call(kagami, config["FunctionUrl"], headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_aws_iam_urls_refuse_unsigned_requests_and_run_signed_ones(lam, kagami, unique_name):
    name, config = url_function(lam, unique_name, AuthType="AWS_IAM")
    r = call(kagami, config["FunctionUrl"], "/secure")
    assert r.status_code == 403
    assert r.json() == {"Message": "Forbidden"}
    url = config["FunctionUrl"].rstrip("/") + "/secure"
    host = urllib.parse.urlsplit(url).netloc
    headers = {"Host": host, **sign_request("GET", url, "lambda", "us-east-1")}
    r = requests.get(f"http://127.0.0.1:{kagami.port}/secure", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    ctx = r.json()["requestContext"]
    assert ctx["accountId"] == "000000000000"
    assert ctx["authorizer"]["iam"]["accountId"] == "000000000000"
    assert ctx["authorizer"]["iam"]["accessKey"] == "test"
    # Another account may not call it (no resource policy grants it).
    other = {"Host": host, **sign_request("GET", url, "lambda", "us-east-1", access_key="111122223333")}
    assert requests.get(f"http://127.0.0.1:{kagami.port}/secure", headers=other, timeout=30).status_code == 403


def test_function_urls_survive_a_restart(kagami_process, tmp_path, unique_name):
    server = kagami_process(data_dir=tmp_path)
    lam = server.client("lambda")
    name = unique_name("dur")
    create_python(lam, name, ECHO)
    config = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    server.restart()
    assert lam.get_function_url_config(FunctionName=name)["FunctionUrl"] == config["FunctionUrl"]
    r = call(server, config["FunctionUrl"], "/after")
    assert r.status_code == 200 and r.json()["rawPath"] == "/after"


def test_an_alias_has_its_own_url_which_goes_with_the_alias(lam, kagami, unique_name):
    name = unique_name("alias")
    create_python(lam, name, ECHO)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    latest = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    live = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert live["FunctionArn"].endswith(f"function:{name}:live")
    assert live["FunctionUrl"] != latest["FunctionUrl"]
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert sorted(c["FunctionArn"] for c in listed) == sorted([latest["FunctionArn"], live["FunctionArn"]])
    r = call(kagami, live["FunctionUrl"], "/via-alias")
    assert r.status_code == 200 and r.json()["rawPath"] == "/via-alias"
    lam.delete_alias(FunctionName=name, Name="live")
    assert call(kagami, live["FunctionUrl"]).status_code == 404
    assert call(kagami, latest["FunctionUrl"]).status_code == 200


def test_function_urls_use_the_external_host(kagami_process, unique_name):
    server = kagami_process(env={"LOCALSTACK_HOST": "kagami.internal:4566"})
    lam = server.client("lambda")
    name = unique_name("ext")
    create_python(lam, name, ECHO)
    config = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert re.fullmatch(r"http://[a-z0-9]{32}\.lambda-url\.us-east-1\.kagami\.internal:4566/", config["FunctionUrl"])
    r = call(server, config["FunctionUrl"], "/ext")
    assert r.status_code == 200 and r.json()["requestContext"]["domainName"].endswith(".kagami.internal")
