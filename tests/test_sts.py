"""STS as AWS documents it: every operation kagami implements, through boto3 and the AWS
CLI, with AWS's validation errors, and temporary credentials that work for later calls:
they identify the assumed role (or federated user), act in the role's account, survive a
crash in durable mode and expire on the emulated clock."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import time
import urllib.parse
import uuid

import botocore.config
import pytest
import requests
from botocore.exceptions import ClientError

DEFAULT_ACCOUNT = "000000000000"
ACCESS_KEY_ID = re.compile(r"^ASIA[A-Z2-7]{16}$")
ROLE_ID = re.compile(r"^AROA[A-Z2-7]{17}$")
NO_CLIENT_VALIDATION = botocore.config.Config(parameter_validation=False)
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"


def error_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response


def assert_error(response: dict, code: str, message: str | None = None, status: int = 400) -> None:
    assert response["Error"]["Code"] == code, response["Error"]
    if message is not None:
        assert response["Error"]["Message"] == message
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status


def validation(*violations: str) -> str:
    n = len(violations)
    counted = "1 validation error detected" if n == 1 else f"{n} validation errors detected"
    return f"{counted}: " + "; ".join(violations)


def seconds_from_now(expiration: datetime.datetime) -> float:
    return expiration.timestamp() - time.time()


def role_arn(account: str = DEFAULT_ACCOUNT, name: str = "app") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


@pytest.fixture
def sts(aws_client):
    return aws_client("sts")


@pytest.fixture
def raw_sts(aws_client):
    """A client that sends what it is given, so the server's own validation answers."""
    return aws_client("sts", config=NO_CLIENT_VALIDATION)


# ------------------------------------------------------------------- GetCallerIdentity


def test_default_credentials_are_the_root_user_of_the_default_account(sts, aws_cli):
    identity = sts.get_caller_identity()
    assert identity["Account"] == DEFAULT_ACCOUNT
    assert identity["UserId"] == DEFAULT_ACCOUNT
    assert identity["Arn"] == f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"
    assert aws_cli("sts", "get-caller-identity") == {
        "UserId": DEFAULT_ACCOUNT,
        "Account": DEFAULT_ACCOUNT,
        "Arn": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root",
    }


def test_twelve_digit_access_key_is_the_root_user_of_that_account(aws_client, aws_cli):
    identity = aws_client("sts", account="123456789012").get_caller_identity()
    assert (identity["Account"], identity["UserId"]) == ("123456789012", "123456789012")
    assert identity["Arn"] == "arn:aws:iam::123456789012:root"
    assert aws_cli("sts", "get-caller-identity", account="210987654321")["Account"] == "210987654321"


def test_root_arn_uses_the_partition_of_the_region(aws_client):
    identity = aws_client("sts", region="cn-north-1").get_caller_identity()
    assert identity["Arn"] == f"arn:aws-cn:iam::{DEFAULT_ACCOUNT}:root"


# -------------------------------------------------------------------------- AssumeRole


def test_assume_role_returns_temporary_credentials_in_aws_formats(sts):
    response = sts.assume_role(RoleArn=role_arn(name="formats"), RoleSessionName="format-check")
    creds = response["Credentials"]
    assert ACCESS_KEY_ID.match(creds["AccessKeyId"]), creds["AccessKeyId"]
    assert len(creds["SecretAccessKey"]) == 40
    assert len(creds["SessionToken"]) >= 100
    # One hour by default.
    assert 3600 - 120 <= seconds_from_now(creds["Expiration"]) <= 3600 + 120
    user = response["AssumedRoleUser"]
    assert user["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/formats/format-check"
    role_id, session = user["AssumedRoleId"].split(":")
    assert ROLE_ID.match(role_id) and session == "format-check"
    assert "PackedPolicySize" not in response


def test_assumed_role_arn_drops_the_role_path(sts):
    response = sts.assume_role(
        RoleArn="arn:aws:iam::111122223333:role/service-role/team/Deployer", RoleSessionName="deploy"
    )
    assert response["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111122223333:assumed-role/Deployer/deploy"


def test_sessions_of_one_role_share_its_role_id(sts):
    ids = [
        sts.assume_role(RoleArn=role_arn(name=name), RoleSessionName=session)["AssumedRoleUser"]["AssumedRoleId"]
        for name, session in [("shared", "one"), ("shared", "two"), ("other", "one")]
    ]
    prefixes = [i.split(":")[0] for i in ids]
    assert prefixes[0] == prefixes[1]
    assert prefixes[0] != prefixes[2]


def test_duration_seconds_sets_the_expiration(sts):
    creds = sts.assume_role(RoleArn=role_arn(), RoleSessionName="short", DurationSeconds=900)["Credentials"]
    assert 900 - 120 <= seconds_from_now(creds["Expiration"]) <= 900 + 120
    creds = sts.assume_role(RoleArn=role_arn(), RoleSessionName="long", DurationSeconds=43200)["Credentials"]
    assert 43200 - 120 <= seconds_from_now(creds["Expiration"]) <= 43200 + 120


def test_assumed_role_credentials_identify_the_role_session(sts, aws_client):
    response = sts.assume_role(RoleArn=role_arn(name="caller"), RoleSessionName="who-am-i")
    identity = aws_client("sts", credentials=response["Credentials"]).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/caller/who-am-i"
    assert identity["UserId"] == response["AssumedRoleUser"]["AssumedRoleId"]
    assert identity["Account"] == DEFAULT_ACCOUNT


def test_cross_account_role_gives_credentials_of_the_role_account(sts, aws_client):
    response = sts.assume_role(RoleArn=role_arn("111111111111", "cross"), RoleSessionName="xa")
    identity = aws_client("sts", credentials=response["Credentials"]).get_caller_identity()
    assert identity["Account"] == "111111111111"
    assert identity["Arn"] == "arn:aws:sts::111111111111:assumed-role/cross/xa"


def test_assume_role_with_the_cli_and_use_the_credentials(aws_cli):
    out = aws_cli(
        "sts", "assume-role", "--role-arn", role_arn("444455556666", "cli"), "--role-session-name", "cli-session",
        "--duration-seconds", "1800",
    )
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::444455556666:assumed-role/cli/cli-session"
    expiration = datetime.datetime.fromisoformat(out["Credentials"]["Expiration"].replace("Z", "+00:00"))
    assert 1800 - 120 <= seconds_from_now(expiration) <= 1800 + 120
    identity = aws_cli("sts", "get-caller-identity", credentials=out["Credentials"])
    assert identity["Arn"] == "arn:aws:sts::444455556666:assumed-role/cli/cli-session"
    assert identity["Account"] == "444455556666"


def test_session_policy_and_tags_report_their_packed_size(sts):
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}],
    })
    small = sts.assume_role(RoleArn=role_arn(), RoleSessionName="packed", Policy=policy)["PackedPolicySize"]
    tags = [{"Key": f"Key{i}", "Value": f"value-{i}"} for i in range(20)]
    tagged = sts.assume_role(RoleArn=role_arn(), RoleSessionName="packed", Policy=policy, Tags=tags)
    assert 0 < small < tagged["PackedPolicySize"] <= 100


def test_source_identity_is_returned(sts):
    response = sts.assume_role(RoleArn=role_arn(), RoleSessionName="src", SourceIdentity="alice@example.com")
    assert response["SourceIdentity"] == "alice@example.com"


def test_external_id_and_mfa_are_accepted(sts):
    response = sts.assume_role(
        RoleArn=role_arn(), RoleSessionName="mfa", ExternalId="partner-123",
        SerialNumber="arn:aws:iam::000000000000:mfa/alice", TokenCode="123456",
    )
    assert ACCESS_KEY_ID.match(response["Credentials"]["AccessKeyId"])


def test_mfa_serial_number_without_token_code_is_denied(sts):
    response = error_of(
        sts.assume_role, RoleArn=role_arn(), RoleSessionName="mfa", SerialNumber="arn:aws:iam::000000000000:mfa/alice"
    )
    assert_error(
        response, "AccessDenied",
        "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.", 403,
    )


# ------------------------------------------------------------ AssumeRole validation


@pytest.mark.parametrize(
    "session, violation",
    [
        ("a", "Value 'a' at 'roleSessionName' failed to satisfy constraint: "
              "Member must have length greater than or equal to 2"),
        ("s" * 65, f"Value '{'s' * 65}' at 'roleSessionName' failed to satisfy constraint: "
                   "Member must have length less than or equal to 64"),
        ("bad name!", "Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: "
                      "Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
    ],
    ids=["too-short", "too-long", "bad-characters"],
)
def test_role_session_name_is_validated(raw_sts, session, violation):
    response = error_of(raw_sts.assume_role, RoleArn=role_arn(), RoleSessionName=session)
    assert_error(response, "ValidationError", validation(violation))


@pytest.mark.parametrize(
    "duration, constraint",
    [
        (899, "Member must have value greater than or equal to 900"),
        (43201, "Member must have value less than or equal to 43200"),
    ],
)
def test_assume_role_duration_is_validated(raw_sts, duration, constraint):
    response = error_of(raw_sts.assume_role, RoleArn=role_arn(), RoleSessionName="dd", DurationSeconds=duration)
    assert_error(
        response, "ValidationError",
        validation(f"Value '{duration}' at 'durationSeconds' failed to satisfy constraint: {constraint}"),
    )


def test_every_violation_of_a_request_is_listed(raw_sts):
    response = error_of(raw_sts.assume_role, RoleArn=role_arn(), RoleSessionName="x", DurationSeconds=100)
    assert_error(
        response, "ValidationError",
        validation(
            "Value 'x' at 'roleSessionName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 2",
            "Value '100' at 'durationSeconds' failed to satisfy constraint: "
            "Member must have value greater than or equal to 900",
        ),
    )


def test_cli_reports_validation_errors_as_aws_does(aws_cli):
    code, stderr = aws_cli(
        "sts", "assume-role", "--role-arn", role_arn(), "--role-session-name", "n" * 65, expect_error=True
    )
    assert code != 0
    assert "An error occurred (ValidationError) when calling the AssumeRole operation" in stderr
    assert (
        f"1 validation error detected: Value '{'n' * 65}' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    ) in stderr


def test_role_arn_shorter_than_twenty_characters_is_rejected(raw_sts):
    response = error_of(raw_sts.assume_role, RoleArn="arn:aws:iam::1:r", RoleSessionName="s1")
    assert_error(
        response, "ValidationError",
        validation("Value 'arn:aws:iam::1:r' at 'roleArn' failed to satisfy constraint: "
                   "Member must have length greater than or equal to 20"),
    )


@pytest.mark.parametrize(
    "arn",
    ["nothing-valid-in-here", "arn::b:::something/test-role", "arn:a::::something/test-role",
     "arn:a:::something/test-role", "arn:a:a::aaaaaaaaaa:"],
    ids=["no-arn", "no-partition", "no-service", "not-enough-colons", "no-resource"],
)
def test_malformed_role_arn_is_invalid(sts, arn):
    assert_error(error_of(sts.assume_role, RoleArn=arn, RoleSessionName="s1"), "ValidationError", f"{arn} is invalid")


@pytest.mark.parametrize("arn", ["arn:aws:iam::000000000000:user/not-a-role", "arn:aws:s3:::bucket-of-no-role"])
def test_arn_that_names_no_role_cannot_be_assumed(sts, arn):
    response = error_of(sts.assume_role, RoleArn=arn, RoleSessionName="s1")
    assert_error(
        response, "AccessDenied",
        f"User: arn:aws:iam::{DEFAULT_ACCOUNT}:root is not authorized to perform: sts:AssumeRole on resource: {arn}",
        403,
    )


def test_role_arn_in_the_sts_namespace_is_accepted_as_localstack_does(sts):
    response = sts.assume_role(RoleArn=f"arn:aws:sts::{DEFAULT_ACCOUNT}:role/rd_role", RoleSessionName="compat")
    assert response["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/rd_role/compat"


def test_external_id_is_validated(raw_sts):
    response = error_of(raw_sts.assume_role, RoleArn=role_arn(), RoleSessionName="ee", ExternalId="bad id!")
    assert_error(
        response, "ValidationError",
        validation("Value 'bad id!' at 'externalId' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*"),
    )


def test_token_code_must_be_six_digits(raw_sts):
    response = error_of(
        raw_sts.assume_role, RoleArn=role_arn(), RoleSessionName="tt",
        SerialNumber="arn:aws:iam::000000000000:mfa/alice", TokenCode="12345x",
    )
    assert_error(
        response, "ValidationError",
        validation("Value '12345x' at 'tokenCode' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: [\\d]*"),
    )


def test_session_policy_that_is_not_json_is_malformed(sts):
    response = error_of(sts.assume_role, RoleArn=role_arn(), RoleSessionName="pp", Policy="{not json")
    assert_error(response, "MalformedPolicyDocument", "The policy is not in the valid JSON format.")


def test_session_policy_too_large_for_the_packed_space_is_refused(sts):
    resources = [f"arn:aws:s3:::{uuid.uuid4().hex}/{uuid.uuid4().hex}" for _ in range(80)]
    policy = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": resources}]})
    response = error_of(sts.assume_role, RoleArn=role_arn(), RoleSessionName="pp", Policy=policy)
    assert_error(response, "PackedPolicyTooLarge")
    assert re.fullmatch(r"Packed policy consumes \d+% of allotted space, please use smaller policy\.",
                        response["Error"]["Message"])


def test_session_tags_are_validated(raw_sts):
    response = error_of(raw_sts.assume_role, RoleArn=role_arn(), RoleSessionName="tt",
                        Tags=[{"Key": "bad#key", "Value": "v"}])
    assert_error(
        response, "ValidationError",
        validation("Value 'bad#key' at 'tags.1.member.key' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"),
    )
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    response = error_of(raw_sts.assume_role, RoleArn=role_arn(), RoleSessionName="tt", Tags=tags)
    assert_error(response, "ValidationError")
    assert response["Error"]["Message"].startswith("1 validation error detected: Value '[")
    assert response["Error"]["Message"].endswith(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    )


def test_tag_keys_are_case_insensitive(sts):
    response = error_of(sts.assume_role, RoleArn=role_arn(), RoleSessionName="tt",
                        Tags=[{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}])
    assert_error(response, "InvalidParameterValue",
                 "Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def test_transitive_tag_keys_must_be_requested_tags(sts):
    response = error_of(sts.assume_role, RoleArn=role_arn(), RoleSessionName="tt",
                        Tags=[{"Key": "Team", "Value": "a"}], TransitiveTagKeys=["Project"])
    assert_error(response, "InvalidParameterValue",
                 "The specified transitive tag key must be included in the requested tags.")
    # Keys compare case-insensitively: "team" names the requested tag "Team".
    accepted = sts.assume_role(RoleArn=role_arn(), RoleSessionName="tt", Tags=[{"Key": "Team", "Value": "a"}],
                               TransitiveTagKeys=["team"])
    assert ACCESS_KEY_ID.match(accepted["Credentials"]["AccessKeyId"])
    assert accepted["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/app/tt"


def test_role_chaining_is_limited_to_one_hour(sts, aws_client):
    first = sts.assume_role(RoleArn=role_arn(name="first"), RoleSessionName="hop-1")["Credentials"]
    chained = aws_client("sts", credentials=first)
    response = error_of(chained.assume_role, RoleArn=role_arn("111111111111", "second"),
                        RoleSessionName="hop-2", DurationSeconds=7200)
    assert_error(response, "ValidationError",
                 "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
    second = chained.assume_role(RoleArn=role_arn("111111111111", "second"), RoleSessionName="hop-2",
                                 DurationSeconds=3600)
    identity = aws_client("sts", credentials=second["Credentials"]).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::111111111111:assumed-role/second/hop-2"


def test_missing_required_parameter_is_a_validation_error(http):
    response = http.signed(
        "POST", "/", "sts",
        body=urllib.parse.urlencode({"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role_arn()}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert "<Code>ValidationError</Code>" in response.text
    assert ("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: "
            "Member must not be null") in response.text


# ---------------------------------------------------------- AssumeRoleWithWebIdentity


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": "test-key"}
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(b"sig")])


def test_web_identity_token_claims_are_reported(sts, aws_client):
    token = make_jwt({
        "iss": "https://oidc.example.com", "sub": "system:serviceaccount:default:app",
        "aud": "sts.amazonaws.com", "exp": int(time.time()) + 3600, "iat": int(time.time()),
    })
    response = sts.assume_role_with_web_identity(
        RoleArn=role_arn("111111111111", "web"), RoleSessionName="pod-1", WebIdentityToken=token,
    )
    assert response["SubjectFromWebIdentityToken"] == "system:serviceaccount:default:app"
    assert response["Audience"] == "sts.amazonaws.com"
    assert response["Provider"] == "https://oidc.example.com"
    assert response["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111111111111:assumed-role/web/pod-1"
    identity = aws_client("sts", credentials=response["Credentials"]).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::111111111111:assumed-role/web/pod-1"
    assert identity["Account"] == "111111111111"


def test_expired_web_identity_token_is_refused(sts):
    expired_at = int(time.time()) - 60
    token = make_jwt({"iss": "https://oidc.example.com", "sub": "user-1", "aud": "client", "exp": expired_at})
    response = error_of(sts.assume_role_with_web_identity, RoleArn=role_arn(), RoleSessionName="late",
                        WebIdentityToken=token)
    assert_error(response, "ExpiredTokenException")
    match = re.fullmatch(r"Token expired: current date/time (\d+) must be before the expiration date/time(\d+)",
                         response["Error"]["Message"])
    assert match and int(match.group(2)) == expired_at and int(match.group(1)) >= expired_at


def test_oauth_access_token_reports_the_provider_id(sts):
    response = sts.assume_role_with_web_identity(
        RoleArn=role_arn(), RoleSessionName="amazon-user", WebIdentityToken="Atza|IQEBLjAsAhRFiXuWpUXuRvQ9PZL3GMFcYevy",
        ProviderId="www.amazon.com",
    )
    assert response["Provider"] == "www.amazon.com"
    assert "SubjectFromWebIdentityToken" not in response


def test_web_identity_with_the_cli(aws_cli):
    token = make_jwt({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:org/repo:ref:refs/heads/main",
                      "aud": "sts.amazonaws.com", "exp": int(time.time()) + 600})
    out = aws_cli("sts", "assume-role-with-web-identity", "--role-arn", role_arn(name="gha"),
                  "--role-session-name", "gha-run", "--web-identity-token", token)
    assert out["SubjectFromWebIdentityToken"] == "repo:org/repo:ref:refs/heads/main"
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/gha/gha-run"


def test_web_identity_token_is_validated_without_echoing_it(raw_sts):
    response = error_of(raw_sts.assume_role_with_web_identity, RoleArn=role_arn(), RoleSessionName="ww",
                        WebIdentityToken="abc")
    assert_error(response, "ValidationError",
                 validation("Value at 'webIdentityToken' failed to satisfy constraint: "
                            "Member must have length greater than or equal to 4"))


# ------------------------------------------------------------------ AssumeRoleWithSAML

SAML_PROVIDER = f"arn:aws:iam::{DEFAULT_ACCOUNT}:saml-provider/ExampleIdP"
SAML_ISSUER = "https://idp.example.com/saml"


def make_saml(session_name: str | None = "alice", duration: int | None = 1800,
              name_format: str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent") -> str:
    attributes = ""
    if session_name is not None:
        attributes += (
            '<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName">'
            f"<saml:AttributeValue>{session_name}</saml:AttributeValue></saml:Attribute>"
        )
    if duration is not None:
        attributes += (
            '<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration">'
            f"<saml:AttributeValue>{duration}</saml:AttributeValue></saml:Attribute>"
        )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0">
  <saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{SAML_ISSUER}</saml:Issuer>
  <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0">
    <saml:Issuer>{SAML_ISSUER}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="{name_format}">alice@example.com</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData Recipient="https://signin.aws.amazon.com/saml"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:AttributeStatement>{attributes}</saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""
    return base64.b64encode(xml.encode()).decode()


def test_saml_assertion_fields_are_reported(sts, aws_client):
    response = sts.assume_role_with_saml(
        RoleArn=role_arn(name="saml-role"), PrincipalArn=SAML_PROVIDER, SAMLAssertion=make_saml(),
    )
    assert response["Subject"] == "alice@example.com"
    assert response["SubjectType"] == "persistent"
    assert response["Issuer"] == SAML_ISSUER
    assert response["Audience"] == "https://signin.aws.amazon.com/saml"
    expected_qualifier = base64.b64encode(
        hashlib.sha1(f"{SAML_ISSUER}{DEFAULT_ACCOUNT}/ExampleIdP".encode()).digest()
    ).decode()
    assert response["NameQualifier"] == expected_qualifier
    assert response["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/saml-role/alice"
    # The SessionDuration attribute sets the duration when DurationSeconds is absent.
    assert 1800 - 120 <= seconds_from_now(response["Credentials"]["Expiration"]) <= 1800 + 120
    identity = aws_client("sts", credentials=response["Credentials"]).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/saml-role/alice"


def test_saml_duration_seconds_overrides_the_assertion(sts):
    response = sts.assume_role_with_saml(RoleArn=role_arn(), PrincipalArn=SAML_PROVIDER,
                                         SAMLAssertion=make_saml(), DurationSeconds=900)
    assert 900 - 120 <= seconds_from_now(response["Credentials"]["Expiration"]) <= 900 + 120


def test_saml_other_name_id_formats_are_reported_in_full(sts):
    fmt = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    response = sts.assume_role_with_saml(RoleArn=role_arn(), PrincipalArn=SAML_PROVIDER,
                                         SAMLAssertion=make_saml(name_format=fmt))
    assert response["SubjectType"] == fmt


def test_saml_assertion_that_is_not_base64_is_an_invalid_identity_token(sts):
    response = error_of(sts.assume_role_with_saml, RoleArn=role_arn(), PrincipalArn=SAML_PROVIDER,
                        SAMLAssertion="this is not base64 ***")
    assert_error(response, "InvalidIdentityToken")


def test_deeply_nested_saml_assertion_is_refused_and_the_server_keeps_running(sts):
    # Within the 100,000-character limit, but nested deeper than any parser's stack allows.
    assertion = base64.b64encode(b"<a>" * 24_000).decode()
    assert len(assertion) <= 100_000
    response = error_of(sts.assume_role_with_saml, RoleArn=role_arn(), PrincipalArn=SAML_PROVIDER,
                        SAMLAssertion=assertion)
    assert_error(response, "InvalidIdentityToken")
    assert sts.get_caller_identity()["Account"] == DEFAULT_ACCOUNT


def test_saml_assertion_without_role_session_name_is_refused(sts):
    response = error_of(sts.assume_role_with_saml, RoleArn=role_arn(), PrincipalArn=SAML_PROVIDER,
                        SAMLAssertion=make_saml(session_name=None))
    assert_error(response, "InvalidIdentityToken")


def test_saml_principal_must_be_a_saml_provider(sts):
    response = error_of(sts.assume_role_with_saml, RoleArn=role_arn(), PrincipalArn=role_arn(name="not-a-provider"),
                        SAMLAssertion=make_saml())
    assert_error(response, "ValidationError", "Principal ARN is invalid")


def test_saml_with_the_cli(aws_cli):
    out = aws_cli("sts", "assume-role-with-saml", "--role-arn", role_arn(name="cli-saml"),
                  "--principal-arn", SAML_PROVIDER, "--saml-assertion", make_saml(session_name="bob"))
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/cli-saml/bob"
    assert out["Issuer"] == SAML_ISSUER


# --------------------------------------------------------------------- GetSessionToken


def test_session_token_of_the_root_user_lasts_at_most_one_hour(sts, aws_client):
    creds = sts.get_session_token()["Credentials"]
    assert ACCESS_KEY_ID.match(creds["AccessKeyId"])
    assert 3600 - 120 <= seconds_from_now(creds["Expiration"]) <= 3600 + 120
    creds = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    assert 3600 - 120 <= seconds_from_now(creds["Expiration"]) <= 3600 + 120
    identity = aws_client("sts", credentials=creds).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"


def test_session_token_acts_in_the_callers_account(aws_client, aws_cli):
    creds = aws_cli("sts", "get-session-token", "--duration-seconds", "900", account="555566667777")["Credentials"]
    identity = aws_client("sts", credentials=creds).get_caller_identity()
    assert identity["Account"] == "555566667777"


def test_session_credentials_cannot_get_a_session_token(sts, aws_client):
    role = sts.assume_role(RoleArn=role_arn(), RoleSessionName="no-session")["Credentials"]
    response = error_of(aws_client("sts", credentials=role).get_session_token)
    assert_error(response, "AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    session = sts.get_session_token()["Credentials"]
    response = error_of(aws_client("sts", credentials=session).get_session_token)
    assert_error(response, "AccessDenied", "Cannot call GetSessionToken with session credentials", 403)


@pytest.mark.parametrize(
    "duration, constraint",
    [
        (899, "Member must have value greater than or equal to 900"),
        (129601, "Member must have value less than or equal to 129600"),
    ],
)
def test_session_token_duration_is_validated(raw_sts, duration, constraint):
    response = error_of(raw_sts.get_session_token, DurationSeconds=duration)
    assert_error(response, "ValidationError",
                 validation(f"Value '{duration}' at 'durationSeconds' failed to satisfy constraint: {constraint}"))


# ------------------------------------------------------------------ GetFederationToken


def test_federation_token_identifies_the_federated_user(sts, aws_client):
    response = sts.get_federation_token(Name="bob")
    user = response["FederatedUser"]
    assert user["Arn"] == f"arn:aws:sts::{DEFAULT_ACCOUNT}:federated-user/bob"
    assert user["FederatedUserId"] == f"{DEFAULT_ACCOUNT}:bob"
    assert response["PackedPolicySize"] == 0
    # Root user sessions last at most an hour.
    assert 3600 - 120 <= seconds_from_now(response["Credentials"]["Expiration"]) <= 3600 + 120
    identity = aws_client("sts", credentials=response["Credentials"]).get_caller_identity()
    assert identity["Arn"] == user["Arn"]
    assert identity["UserId"] == user["FederatedUserId"]
    assert identity["Account"] == DEFAULT_ACCOUNT


def test_federation_token_with_the_cli(aws_cli):
    out = aws_cli("sts", "get-federation-token", "--name", "carol", account="777788889999")
    assert out["FederatedUser"]["Arn"] == "arn:aws:sts::777788889999:federated-user/carol"


@pytest.mark.parametrize(
    "name, constraint",
    [
        ("n" * 33, "Member must have length less than or equal to 32"),
        ("bad name", "Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
    ],
)
def test_federated_user_name_is_validated(sts, name, constraint):
    response = error_of(sts.get_federation_token, Name=name)
    assert_error(response, "ValidationError",
                 validation(f"Value '{name}' at 'name' failed to satisfy constraint: {constraint}"))


def test_federation_policy_is_limited_to_2048_characters(sts):
    policy = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": ["*"] * 500}]})
    assert len(policy) > 2048
    response = error_of(sts.get_federation_token, Name="big", Policy=policy)
    assert_error(response, "ValidationError",
                 validation("Value at 'policy' failed to satisfy constraint: "
                            "Member must have length less than or equal to 2048"))


def test_session_credentials_cannot_get_a_federation_token(sts, aws_client):
    role = sts.assume_role(RoleArn=role_arn(), RoleSessionName="no-fed")["Credentials"]
    response = error_of(aws_client("sts", credentials=role).get_federation_token, Name="bob")
    assert_error(response, "AccessDenied", "Cannot call GetFederationToken with session credentials", 403)


# -------------------------------------------------------------------- GetAccessKeyInfo


def test_access_key_info_names_the_account_of_issued_keys(sts, aws_cli):
    creds = sts.assume_role(RoleArn=role_arn("888899990000", "keyinfo"), RoleSessionName="kk")["Credentials"]
    assert sts.get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == "888899990000"
    out = aws_cli("sts", "get-access-key-info", "--access-key-id", creds["AccessKeyId"])
    assert out == {"Account": "888899990000"}


def test_access_key_info_of_other_keys(raw_sts):
    assert raw_sts.get_access_key_info(AccessKeyId="123412341234")["Account"] == "123412341234"
    assert raw_sts.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")["Account"] == DEFAULT_ACCOUNT


def test_access_key_id_is_validated(raw_sts):
    response = error_of(raw_sts.get_access_key_info, AccessKeyId="test")
    assert_error(response, "ValidationError",
                 validation("Value 'test' at 'accessKeyId' failed to satisfy constraint: "
                            "Member must have length greater than or equal to 16"))


# ---------------------------------------------------------- DecodeAuthorizationMessage


def kagami_authorization_message(document: dict) -> str:
    """The encoding kagami's services use for "Encoded authorization failure message"."""
    return b64url(b"kagami-authz-1\n" + json.dumps(document).encode())


def test_authorization_messages_kagami_produces_decode(sts):
    document = {"allowed": False, "explicitDeny": False, "matchedStatements": {"items": []},
                "failures": {"items": []}, "context": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}}
    decoded = sts.decode_authorization_message(EncodedMessage=kagami_authorization_message(document))
    assert json.loads(decoded["DecodedMessage"]) == document


def test_foreign_authorization_messages_are_invalid(sts):
    response = error_of(sts.decode_authorization_message,
                        EncodedMessage="rHU-pVHMSckD0OAc5l3r9-gKN1XZjZ2X9J3w0fZ31licaTpAVwlD9ix3fLSABy3XTEk")
    assert_error(response, "InvalidAuthorizationMessageException")


# -------------------------------------------------------------------------- AssumeRoot


def test_assume_root_gives_root_credentials_of_the_member_account(sts, aws_client):
    response = sts.assume_root(
        TargetPrincipal="222233334444",
        TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
    )
    creds = response["Credentials"]
    assert 900 - 120 <= seconds_from_now(creds["Expiration"]) <= 900 + 120
    identity = aws_client("sts", credentials=creds).get_caller_identity()
    assert identity["Account"] == "222233334444"
    assert identity["Arn"] == "arn:aws:iam::222233334444:root"


def test_assume_root_requires_a_root_task_policy(sts):
    response = error_of(sts.assume_root, TargetPrincipal="222233334444",
                        TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert_error(response, "ValidationError")
    assert "arn:aws:iam::aws:policy/AdministratorAccess" in response["Error"]["Message"]


def test_assume_root_duration_is_at_most_fifteen_minutes(raw_sts):
    response = error_of(raw_sts.assume_root, TargetPrincipal="222233334444", DurationSeconds=901,
                        TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"})
    assert_error(response, "ValidationError",
                 validation("Value '901' at 'durationSeconds' failed to satisfy constraint: "
                            "Member must have value less than or equal to 900"))


# ------------------------------------------------------------ not implemented, loudly


@pytest.mark.parametrize(
    "operation, params",
    [
        ("get_web_identity_token", {"Audience": ["https://api.example.com"], "SigningAlgorithm": "RS256"}),
        ("get_delegated_access_token", {"TradeInToken": "token"}),
    ],
)
def test_operations_without_behaviour_answer_not_implemented(sts, operation, params):
    response = error_of(getattr(sts, operation), **params)
    name = "".join(part.capitalize() for part in operation.split("_"))
    assert_error(response, "NotImplemented",
                 f"The operation {name} of service sts is not implemented by kagami yet", status=501)


# --------------------------------------------------- credentials in other services


def test_resources_created_with_assumed_role_credentials_belong_to_the_role_account(sts, aws_client, unique_name):
    creds_a = sts.assume_role(RoleArn=role_arn("111111111111", "iso"), RoleSessionName="aa")["Credentials"]
    creds_b = sts.assume_role(RoleArn=role_arn("222222222222", "iso"), RoleSessionName="bb")["Credentials"]
    sqs_a = aws_client("sqs", credentials=creds_a)
    name = unique_name("iso")
    try:
        url = sqs_a.create_queue(QueueName=name)["QueueUrl"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("SQS is not implemented in this build")
        raise
    assert "/111111111111/" in url
    # The queue is the account's, not the session's: account 111111111111's root sees it.
    assert aws_client("sqs", account="111111111111").get_queue_url(QueueName=name)["QueueUrl"] == url
    sqs_b = aws_client("sqs", credentials=creds_b)
    assert sqs_b.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []
    response = error_of(sqs_b.get_queue_url, QueueName=name)
    assert response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


@pytest.mark.slow
def test_issued_credentials_survive_a_crash_in_durable_mode(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data", extra_args=["--verify-sigv4"])
    creds = server.client("sts").assume_role(
        RoleArn=role_arn("111111111111", "durable"), RoleSessionName="before-crash"
    )["Credentials"]
    server.kill9()
    server.restart()
    identity = server.client("sts", credentials=creds).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::111111111111:assumed-role/durable/before-crash"
    assert identity["Account"] == "111111111111"


@pytest.mark.parametrize("verify", [False, True], ids=["unverified", "verify-sigv4"])
def test_credentials_expire_on_the_emulated_clock(kagami_process, verify):
    server = kagami_process(extra_args=["--verify-sigv4"] if verify else [])
    creds = server.client("sts").assume_role(
        RoleArn=role_arn(name="expiring"), RoleSessionName="ss", DurationSeconds=900
    )["Credentials"]
    client = server.client("sts", credentials=creds)
    assert server.advance_clock(890).status_code == 200
    assert client.get_caller_identity()["Arn"].endswith(":assumed-role/expiring/ss")
    assert server.advance_clock(20).status_code == 200
    assert_error(error_of(client.get_caller_identity), "ExpiredToken", EXPIRED_TOKEN_MESSAGE, 403)


@pytest.mark.parametrize("verify", [False, True], ids=["unverified", "verify-sigv4"])
def test_expired_credentials_are_refused_by_sqs_in_json_and_query(kagami_process, sigv4_headers, verify):
    server = kagami_process(extra_args=["--verify-sigv4"] if verify else [])
    creds = server.client("sts").assume_role(
        RoleArn=role_arn(name="expiring"), RoleSessionName="ss", DurationSeconds=900
    )["Credentials"]
    sqs = server.client("sqs", credentials=creds)
    assert sqs.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert server.advance_clock(910).status_code == 200

    # JSON: ExpiredTokenException, with the classic code in x-amzn-query-error.
    response = error_of(sqs.list_queues)
    assert_error(response, "ExpiredToken", EXPIRED_TOKEN_MESSAGE, 403)
    assert response["Error"]["QueryErrorCode"] == "ExpiredTokenException"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == "ExpiredToken;Sender"

    # The query protocol: the classic code in the XML error.
    body = "Action=ListQueues&Version=2012-11-05"
    headers = sigv4_headers(
        "POST",
        server.url("/"),
        "sqs",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        access_key=creds["AccessKeyId"],
        secret_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
    )
    raw = requests.post(server.url("/"), data=body, headers=headers, timeout=10)
    assert raw.status_code == 403
    assert "<Code>ExpiredToken</Code>" in raw.text
    assert f"<Message>{EXPIRED_TOKEN_MESSAGE}</Message>" in raw.text
