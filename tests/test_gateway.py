"""The gateway as a client sees it: every service recognised, errors in each service's
own protocol, internal endpoints, CORS, request ids, HTTP/1.1 and h2c, and SigV4
verification with AWS's error codes."""

from __future__ import annotations

import datetime
import http.client
import json
import shutil
import socket
import subprocess
import time
import urllib.parse

import botocore.auth
import botocore.config
import botocore.model
import pytest
import requests
from botocore.exceptions import ClientError

# ----------------------------------------------------------------- NotImplemented

# One operation per protocol that kagami does not implement. When a service gains a
# provider, move its case to an operation that is still missing, so every protocol's
# error serializer stays covered.
NOT_IMPLEMENTED = [
    pytest.param("lambda", "get_capacity_provider", {"CapacityProviderName": "p"},
                 "GetCapacityProvider", "json", id="lambda-rest-json"),
    # DynamoDB implements every operation boto3 knows; SWF speaks the same JSON 1.0.
    pytest.param("swf", "list_domains", {"registrationStatus": "REGISTERED"},
                 "ListDomains", "json", id="swf-json-1.0"),
    pytest.param("ecs", "list_clusters", {}, "ListClusters", "json", id="ecs-json-1.1"),
    pytest.param("ec2", "describe_capacity_reservation_fleets", {},
                 "DescribeCapacityReservationFleets", "xml", id="ec2-ec2"),
    pytest.param("cloudformation", "list_generated_templates", {},
                 "ListGeneratedTemplates", "xml", id="cloudformation-query"),
    pytest.param("sns", "get_sms_sandbox_account_status", {},
                 "GetSMSSandboxAccountStatus", "xml", id="sns-query"),
    pytest.param("iam", "list_service_specific_credentials", {},
                 "ListServiceSpecificCredentials", "xml", id="iam-query-global"),
    pytest.param("s3", "get_object_torrent", {"Bucket": "kagami-bucket", "Key": "k"},
                 "GetObjectTorrent", "xml", id="s3-rest-xml"),
    pytest.param("route53", "list_cidr_collections", {}, "ListCidrCollections", "xml",
                 id="route53-rest-xml-global"),
    pytest.param("cloudwatch", "list_managed_insight_rules",
                 {"ResourceARN": "arn:aws:ec2:us-east-1:000000000000:instance/i-0123456789abcdef0"},
                 "ListManagedInsightRules", "json", id="cloudwatch-json"),
    pytest.param("secretsmanager", "validate_resource_policy", {"ResourcePolicy": "{}"},
                 "ValidateResourcePolicy", "json", id="secretsmanager-json-1.1"),
]


def _capture_raw_response(client) -> dict:
    """Records the raw HTTP answer of the client's next call."""
    seen: dict = {}

    def hook(response_dict=None, **_):
        seen.update(response_dict or {})

    client.meta.events.register("before-parse", hook)
    return seen


@pytest.mark.parametrize("service, method, kwargs, operation, wire", NOT_IMPLEMENTED)
def test_unimplemented_operation_answers_not_implemented_in_the_services_protocol(
    aws_client, service, method, kwargs, operation, wire
):
    client = aws_client(service)
    raw = _capture_raw_response(client)
    with pytest.raises(ClientError) as caught:
        getattr(client, method)(**kwargs)
    response = caught.value.response
    assert response["Error"]["Code"] == "NotImplemented"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    message = response["Error"]["Message"]
    assert operation in message and service in message, message
    assert response["ResponseMetadata"].get("RequestId"), response["ResponseMetadata"]

    content_type = raw["headers"].get("Content-Type", raw["headers"].get("content-type", ""))
    assert wire in content_type, content_type
    if wire == "xml":
        assert b"<Code>NotImplemented</Code>" in raw["body"]
    elif wire == "json":
        body = json.loads(raw["body"])
        code = body.get("__type") or body.get("code") or raw["headers"].get("x-amzn-ErrorType", "")
        assert "NotImplemented" in code, body


@pytest.mark.parametrize("service, method, kwargs, operation", [
    ("cloudwatch", "list_managed_insight_rules",
     {"ResourceARN": "arn:aws:ec2:us-east-1:000000000000:instance/i-0123456789abcdef0"},
     "ListManagedInsightRules"),
    ("arc-region-switch", "list_plans", {}, "ListPlans"),
])
def test_unimplemented_operation_answers_not_implemented_in_rpc_v2_cbor(
    aws_client, monkeypatch, service, method, kwargs, operation
):
    # botocore prefers JSON where a service offers both; newer SDKs choose CBOR.
    monkeypatch.setattr(botocore.model, "PRIORITY_ORDERED_SUPPORTED_PROTOCOLS",
                        ("smithy-rpc-v2-cbor", "json", "query"))
    client = aws_client(service)
    assert client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    raw = _capture_raw_response(client)
    with pytest.raises(ClientError) as caught:
        getattr(client, method)(**kwargs)
    response = caught.value.response
    assert response["Error"]["Code"] == "NotImplemented"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert operation in response["Error"]["Message"]
    assert raw["headers"]["Content-Type"] == "application/cbor"
    assert raw["headers"]["smithy-protocol"] == "rpc-v2-cbor"


def test_unimplemented_operation_fails_in_the_aws_cli_with_its_code(aws_cli):
    returncode, stderr = aws_cli("lambda", "get-capacity-provider", "--capacity-provider-name", "p",
                                 expect_error=True)
    assert returncode != 0
    assert "NotImplemented" in stderr
    assert "GetCapacityProvider" in stderr


def test_unimplemented_global_service_answers_in_any_region(aws_client):
    with pytest.raises(ClientError) as caught:
        aws_client("iam", region="eu-west-1").list_service_specific_credentials()
    assert caught.value.response["Error"]["Code"] == "NotImplemented"


# ----------------------------------------------------------------- internal endpoints


def test_health_lists_every_service_with_its_implemented_operation_count(http):
    response = http.get("/_kagami/health")
    assert response.status_code == 200
    assert "json" in response.headers["Content-Type"]
    health = response.json()
    assert isinstance(health["version"], str) and health["version"]
    assert isinstance(health["uptime_seconds"], (int, float)) and health["uptime_seconds"] >= 0
    assert health["persistence"] is False
    services = health["services"]
    # botocore has about 440 services; every one is recognised.
    assert len(services) > 400
    for name, protocol in [("lambda", "rest-json"), ("dynamodb", "json"), ("ec2", "ec2"),
                           ("s3", "rest-xml"), ("cloudformation", "query"),
                           ("cloudwatch", "smithy-rpc-v2-cbor")]:
        assert services[name]["protocol"] == protocol
        assert services[name]["total_operations"] > 0
        assert 0 <= services[name]["implemented_operations"] <= services[name]["total_operations"]
    sqs = services["sqs"]
    assert sqs["implemented_operations"] == sqs["total_operations"] == 23
    assert sqs["status"] == "available"
    assert services["sts"]["implemented_operations"] >= 7
    assert services["route53"]["status"] == "not_implemented"
    assert 9 < services["s3"]["implemented_operations"] < services["s3"]["total_operations"]


def test_health_reports_persistence_of_a_durable_instance(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    assert requests.get(server.url("/_kagami/health"), timeout=10).json()["persistence"] is True


def test_localstack_health_has_localstacks_shape(http):
    response = http.get("/_localstack/health")
    assert response.status_code == 200
    health = response.json()
    assert health["services"]["sqs"] == "running"
    assert health["services"]["sts"] == "running"
    assert isinstance(health["version"], str)
    assert health["edition"] == "community"


def test_localstack_health_shows_services_left_out_by_services_as_disabled(kagami_process):
    server = kagami_process(env={"SERVICES": "sqs"})
    health = requests.get(server.url("/_localstack/health"), timeout=10).json()
    assert health["services"]["sqs"] == "running"
    assert health["services"]["sts"] == "disabled"


def test_reset_forgets_every_services_state(kagami_process):
    server = kagami_process()
    sqs = server.client("sqs")
    sqs.create_queue(QueueName="before-reset")
    response = server.reset()
    assert response.status_code == 200
    assert sqs.list_queues().get("QueueUrls", []) == []


def test_reset_of_one_service_keeps_the_others(kagami_process):
    server = kagami_process()
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    assert server.reset("sts").status_code == 200
    assert sqs.list_queues()["QueueUrls"] == [url]
    assert server.reset("sqs").status_code == 200
    assert sqs.list_queues().get("QueueUrls", []) == []


def test_reset_forgets_credentials_sts_issued(kagami_process):
    server = kagami_process(extra_args=["--verify-sigv4"])
    creds = server.client("sts").assume_role(
        RoleArn="arn:aws:iam::000000000000:role/reset-role", RoleSessionName="session"
    )["Credentials"]
    assert server.client("sts", credentials=creds).get_caller_identity()["Arn"].endswith(
        "assumed-role/reset-role/session"
    )
    server.reset()
    with pytest.raises(ClientError) as caught:
        server.client("sts", credentials=creds).get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_reset_of_an_unknown_service_is_refused(kagami_process):
    server = kagami_process()
    url = server.client("sqs").create_queue(QueueName="survives")["QueueUrl"]
    response = server.reset("no-such-service")
    assert response.status_code == 400
    assert server.client("sqs").list_queues()["QueueUrls"] == [url]


def test_moto_api_reset_forgets_state(kagami_process):
    server = kagami_process()
    sqs = server.client("sqs")
    sqs.create_queue(QueueName="before-moto-reset")
    response = requests.post(server.url("/moto-api/reset"), timeout=10)
    assert response.status_code == 200
    assert sqs.list_queues().get("QueueUrls", []) == []


def test_clock_advance_releases_delayed_messages(kagami_process):
    server = kagami_process()
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="delayed")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []

    response = server.advance_clock(901)
    assert response.status_code == 200

    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in messages] == ["later"]


def test_clock_reports_the_emulated_time_and_moves_only_forward(kagami_process):
    server = kagami_process()
    before = requests.get(server.url("/_kagami/clock"), timeout=10).json()["epoch_millis"]
    after = server.advance_clock(3600).json()["epoch_millis"]
    assert 3600_000 <= after - before < 3600_000 + 60_000
    assert requests.post(server.url("/_kagami/clock"), json={"advance_seconds": -5},
                         timeout=10).status_code == 400
    assert requests.post(server.url("/_kagami/clock"), json={"seconds": 5},
                         timeout=10).status_code == 400


def test_unknown_internal_endpoint_is_404(http):
    assert http.get("/_kagami/no-such-endpoint").status_code == 404


# ----------------------------------------------------------------- CORS, request ids


def test_cors_preflight_allows_the_origin_method_and_headers_asked_for(http):
    asked_headers = "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent"
    response = http.options(
        "/",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked_headers,
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "POST" in response.headers["Access-Control-Allow-Methods"].split(",")
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert allowed == "*" or all(h in allowed for h in asked_headers.split(","))


def test_aws_responses_carry_cors_headers_that_expose_the_request_id(http):
    response = http.signed(
        "POST", "/", "sts",
        body="Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://app.example"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://app.example"
    exposed = response.headers["Access-Control-Expose-Headers"].lower()
    assert "x-amzn-requestid" in exposed


def test_each_response_has_its_own_request_id_in_awss_header(aws_client, unique_name):
    sqs = aws_client("sqs")
    first = sqs.create_queue(QueueName=unique_name("reqid"))["ResponseMetadata"]
    second = sqs.list_queues()["ResponseMetadata"]
    assert first["RequestId"] and second["RequestId"]
    assert first["RequestId"] != second["RequestId"]
    assert first["HTTPHeaders"]["x-amzn-requestid"] == first["RequestId"]


def test_query_protocol_request_id_is_in_the_body_and_the_header(aws_client):
    metadata = aws_client("sts").get_caller_identity()["ResponseMetadata"]
    assert metadata["RequestId"]
    assert metadata["HTTPHeaders"]["x-amzn-requestid"] == metadata["RequestId"]


def test_s3_errors_carry_s3s_request_id_headers(aws_client, http):
    with pytest.raises(ClientError) as caught:
        aws_client("s3").get_bucket_analytics_configuration(Bucket="kagami-bucket", Id="a")
    metadata = caught.value.response["ResponseMetadata"]
    headers = metadata["HTTPHeaders"]
    assert headers["x-amz-request-id"]
    assert headers["x-amz-id-2"]
    # botocore reports the extended request id as HostId.
    assert metadata["HostId"] == headers["x-amz-id-2"]
    # S3's error body names the request with the same two ids.
    response = http.get("/kagami-bucket?analytics&id=a")
    assert f"<RequestId>{response.headers['x-amz-request-id']}</RequestId>" in response.text
    assert f"<HostId>{response.headers['x-amz-id-2']}</HostId>" in response.text


# ----------------------------------------------------------------- HTTP


def test_http11_connection_is_kept_alive_across_requests(kagami):
    conn = http.client.HTTPConnection("127.0.0.1", kagami.port, timeout=10)
    try:
        conn.request("GET", "/_kagami/health")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        assert first.status == 200
        assert first.getheader("Connection", "").lower() != "close"
        conn.request("GET", "/_localstack/health")
        second = conn.getresponse()
        second.read()
        assert second.status == 200
        assert conn.sock is sock, "the server closed the keep-alive connection"
    finally:
        conn.close()


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_expect_100_continue_is_answered_before_the_body_is_sent(kagami, sigv4_headers):
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    url = f"{kagami.endpoint}/"
    headers = sigv4_headers("POST", url, "sts", body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    lines = [f"POST / HTTP/1.1", f"Host: 127.0.0.1:{kagami.port}", "Expect: 100-continue",
             f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "host"]
    with socket.create_connection(("127.0.0.1", kagami.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        interim = _read_head(sock)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        final = interim.split(b"\r\n\r\n", 1)[1]
        deadline = time.monotonic() + 10
        while b"</GetCallerIdentityResponse>" not in final and time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            final += chunk
    assert final.startswith(b"HTTP/1.1 200"), final
    assert b"<Account>000000000000</Account>" in final


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@needs_curl
def test_h2c_prior_knowledge_is_served(kagami):
    result = subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null",
         "-w", "%{http_version} %{http_code}", f"{kagami.endpoint}/_kagami/health"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2 200"


@needs_curl
def test_signed_aws_call_over_h2c(kagami):
    result = subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "--aws-sigv4", "aws:amz:us-east-1:sts",
         "--user", "test:test", "-H", "Content-Type: application/x-www-form-urlencoded",
         "-d", "Action=GetCallerIdentity&Version=2011-06-15",
         "-w", "\n%{http_version} %{http_code}", f"{kagami.endpoint}/"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    assert status == "2 200", result.stdout
    assert "<Account>000000000000</Account>" in body


# ----------------------------------------------------------------- SigV4 verification

SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


@pytest.fixture(scope="module")
def verifying(kagami_factory):
    server = kagami_factory(extra_args=["--verify-sigv4"])
    yield server
    server.stop()


def _error(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


def test_verified_request_with_the_right_secret_succeeds(verifying):
    identity = verifying.client("sts").get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"


def test_twelve_digit_access_key_acts_in_that_account_when_verifying(verifying):
    identity = verifying.client("sts", account="111111111111").get_caller_identity()
    assert identity["Account"] == "111111111111"


def test_wrong_secret_is_signature_does_not_match(verifying):
    client = verifying.client(
        "sts", credentials={"AccessKeyId": "test", "SecretAccessKey": "not-the-secret"}
    )
    response = _error(client.get_caller_identity)
    assert response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert response["Error"]["Message"] == SIGNATURE_MISMATCH_MESSAGE
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_wrong_secret_on_a_query_compatible_json_service_keeps_the_classic_code(verifying):
    client = verifying.client(
        "sqs", credentials={"AccessKeyId": "test", "SecretAccessKey": "not-the-secret"}
    )
    response = _error(client.list_queues)
    assert response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_access_key_is_invalid_client_token_id(verifying):
    client = verifying.client(
        "sts", credentials={"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "x"}
    )
    response = _error(client.get_caller_identity)
    assert response["Error"]["Code"] == "InvalidClientTokenId"
    assert response["Error"]["Message"] == "The security token included in the request is invalid."
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_access_key_on_a_json_service_is_unrecognized_client(verifying):
    client = verifying.client(
        "dynamodb", credentials={"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "x"}
    )
    response = _error(client.list_tables)
    assert response["Error"]["Code"] == "UnrecognizedClientException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unsigned_request_is_missing_authentication_token(verifying):
    response = requests.post(
        verifying.url("/"),
        data="Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in response.text


def test_operations_the_model_serves_unsigned_need_no_signature(verifying):
    # botocore's model marks ListDevices `authtype: none` (the caller proves itself with a
    # user-pool access token), so botocore sends it unsigned, and AWS answers it.
    client = verifying.client("cognito-idp")
    response = _error(lambda: client.list_devices(AccessToken="token"))
    assert response["Error"]["Code"] == "NotImplemented"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    # An operation of the same service that the model does not mark needs a signature.
    response = requests.post(
        verifying.url("/"),
        data=json.dumps({"MaxResults": 1}),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools",
        },
        timeout=10,
    )
    assert response.status_code == 403
    assert response.json()["__type"].startswith("MissingAuthenticationToken")


def test_issued_credentials_verify_and_identify_the_assumed_role(verifying):
    creds = verifying.client("sts").assume_role(
        RoleArn="arn:aws:iam::000000000000:role/verified", RoleSessionName="session-1"
    )["Credentials"]
    identity = verifying.client("sts", credentials=creds).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::000000000000:assumed-role/verified/session-1"

    # Each forgery changes a character to one it cannot already be, so the test
    # never signs with the real credentials by chance.
    token = creds["SessionToken"]
    wrong_token = dict(creds, SessionToken=token[:-4] + ("BBBB" if token.endswith("AAAA") else "AAAA"))
    response = _error(verifying.client("sts", credentials=wrong_token).get_caller_identity)
    assert response["Error"]["Code"] == "InvalidClientTokenId"

    secret = creds["SecretAccessKey"]
    wrong_secret = dict(creds, SecretAccessKey=("y" if secret[0] == "x" else "x") + secret[1:])
    response = _error(verifying.client("sts", credentials=wrong_secret).get_caller_identity)
    assert response["Error"]["Code"] == "SignatureDoesNotMatch"


def _signing_clock(monkeypatch, offset: datetime.timedelta) -> None:
    real = botocore.auth.get_current_datetime
    def shifted(*args, **kwargs):
        return real(*args, **kwargs) + offset

    monkeypatch.setattr(botocore.auth, "get_current_datetime", shifted)
    # With awscrt installed botocore signs through its CRT signers, which read the
    # clock from their own module.
    try:
        import botocore.crt.auth as crt_auth
    except ImportError:  # awscrt is not installed
        return
    monkeypatch.setattr(crt_auth, "get_current_datetime", shifted, raising=False)


def test_request_signed_beyond_the_skew_limit_is_too_skewed(verifying, monkeypatch):
    _signing_clock(monkeypatch, datetime.timedelta(minutes=-20))
    response = _error(verifying.client("sts").get_caller_identity)
    assert response["Error"]["Code"] == "RequestTimeTooSkewed"
    assert response["Error"]["Message"].startswith("Signature expired:")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_request_signed_within_the_skew_limit_is_accepted(verifying, monkeypatch):
    _signing_clock(monkeypatch, datetime.timedelta(minutes=-10))
    assert verifying.client("sts").get_caller_identity()["Account"] == "000000000000"


def test_presigned_url_works_and_a_tampered_one_does_not(verifying):
    # GET, as EKS tokens and Vault's AWS auth use it (botocore presigns POST by default).
    url = verifying.client("sts").generate_presigned_url(
        "get_caller_identity", ExpiresIn=300, HttpMethod="GET"
    )
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert "<Account>000000000000</Account>" in response.text

    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    tampered = [(k, ("0" * len(v)) if k == "X-Amz-Signature" else v) for k, v in query]
    bad_url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(tampered)))
    response = requests.get(bad_url, timeout=10)
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


def test_presigned_get_caller_identity_as_botocore_presigns_it_by_default(verifying):
    # Without HttpMethod botocore presigns the operation's own method, POST, with every
    # parameter (and the session token) in the query string; the method is signed too.
    creds = verifying.client("sts").assume_role(
        RoleArn="arn:aws:iam::000000000000:role/presigner", RoleSessionName="presigned"
    )["Credentials"]
    url = verifying.client("sts", credentials=creds).generate_presigned_url(
        "get_caller_identity", ExpiresIn=300
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["Action"] == "GetCallerIdentity"
    assert query["X-Amz-Security-Token"] == creds["SessionToken"]
    response = requests.post(url, timeout=10)
    assert response.status_code == 200, response.text
    assert "<Arn>arn:aws:sts::000000000000:assumed-role/presigner/presigned</Arn>" in response.text
    response = requests.get(url, timeout=10)
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


def test_expired_presigned_url_is_access_denied(verifying, monkeypatch):
    # Signed two hours ago, valid for one: expired by an hour.
    _signing_clock(monkeypatch, datetime.timedelta(hours=-2))
    s3 = verifying.client("s3", config=botocore.config.Config(signature_version="s3v4"))
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "kagami-bucket", "Key": "k"}, ExpiresIn=3600
    )
    response = requests.get(url, timeout=10)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text
    assert "<Message>Request has expired</Message>" in response.text
    assert "<X-Amz-Expires>3600</X-Amz-Expires>" in response.text


def test_verification_can_be_enabled_from_the_environment(kagami_process):
    server = kagami_process(env={"KAGAMI_VERIFY_SIGV4": "1"})
    client = server.client("sts", credentials={"AccessKeyId": "test", "SecretAccessKey": "wrong"})
    assert _error(client.get_caller_identity)["Error"]["Code"] == "SignatureDoesNotMatch"
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"


def test_without_verification_any_secret_is_accepted(aws_client):
    client = aws_client("sts", credentials={"AccessKeyId": "test", "SecretAccessKey": "anything"})
    assert client.get_caller_identity()["Account"] == "000000000000"
