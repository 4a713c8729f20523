"""Helpers shared by the DynamoDB test modules: tables created the way users create them,
the boto3 resource API at a kagami server, and the fields of an AWS error."""

from __future__ import annotations

import boto3

from conftest import DEFAULT_REGION, client_config, credentials_for


def error_of(excinfo) -> dict:
    """Code, Message and HTTP status of a ClientError, and the whole response."""
    response = excinfo.value.response
    return {
        "Code": response["Error"]["Code"],
        "Message": response["Error"]["Message"],
        "Status": response["ResponseMetadata"]["HTTPStatusCode"],
        "Response": response,
    }


def resource(endpoint: str, region: str = DEFAULT_REGION, account: str | None = None):
    """The boto3 resource API (Table objects, Python types, Decimal numbers)."""
    return boto3.session.Session().resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        config=client_config(),
        **credentials_for(account),
    )


def create_table(
    ddb,
    name: str,
    hash_key: tuple[str, str] = ("pk", "S"),
    range_key: tuple[str, str] | None = ("sk", "N"),
    gsis: list[dict] | None = None,
    lsis: list[dict] | None = None,
    extra_definitions: list[tuple[str, str]] = (),
    **kwargs,
) -> dict:
    """CreateTable on demand; `gsis`/`lsis` are full index specifications."""
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    definitions = {hash_key[0]: hash_key[1]}
    if range_key:
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        definitions[range_key[0]] = range_key[1]
    for name_, type_ in extra_definitions:
        definitions[name_] = type_
    args = dict(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": v} for k, v in definitions.items()],
        BillingMode="PAY_PER_REQUEST",
    )
    if gsis:
        args["GlobalSecondaryIndexes"] = gsis
    if lsis:
        args["LocalSecondaryIndexes"] = lsis
    args.update(kwargs)
    return ddb.create_table(**args)["TableDescription"]


def index(name: str, hash_key: str, range_key: str | None = None, projection: str = "ALL", non_key=None) -> dict:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    p = {"ProjectionType": projection}
    if non_key:
        p["NonKeyAttributes"] = non_key
    return {"IndexName": name, "KeySchema": schema, "Projection": p}
