"""DynamoDB transactions: TransactWriteItems applies all of its actions or none, reports
CancellationReasons in request order, refuses two actions on one item, honours
ClientRequestToken; TransactGetItems reads items in order."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


@pytest.fixture
def accounts(ddb, unique_name):
    name = unique_name("accounts")
    create_table(ddb, name, range_key=None)
    for who, balance in (("alice", "100"), ("bob", "5")):
        ddb.put_item(TableName=name, Item={"pk": {"S": who}, "balance": {"N": balance}})
    return name


def transfer(table, amount):
    return [
        {"Update": {"TableName": table, "Key": {"pk": {"S": "alice"}}, "UpdateExpression": "SET balance = balance - :a",
                    "ConditionExpression": "balance >= :a", "ExpressionAttributeValues": {":a": {"N": amount}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "bob"}}, "UpdateExpression": "SET balance = balance + :a",
                    "ExpressionAttributeValues": {":a": {"N": amount}}}},
    ]


def balances(ddb, table):
    return {i["pk"]["S"]: i["balance"]["N"] for i in ddb.scan(TableName=table, ConsistentRead=True)["Items"]}


def test_a_transaction_applies_every_action(ddb, accounts):
    ddb.transact_write_items(TransactItems=transfer(accounts, "30") + [
        {"Put": {"TableName": accounts, "Item": {"pk": {"S": "carol"}, "balance": {"N": "0"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
    ])
    assert balances(ddb, accounts) == {"alice": "70", "bob": "35", "carol": "0"}


def test_a_failed_condition_cancels_the_whole_transaction_with_reasons_in_order(ddb, accounts):
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=list(reversed(transfer(accounts, "500"))))
    err = error_of(e)
    assert err["Code"] == "TransactionCanceledException"
    assert err["Message"] == "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    reasons = err["Response"]["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Item"] == {"pk": {"S": "alice"}, "balance": {"N": "100"}}
    assert balances(ddb, accounts) == {"alice": "100", "bob": "5"}


def test_condition_checks_and_deletes_across_tables(ddb, accounts, unique_name):
    audit = unique_name("audit")
    create_table(ddb, audit, range_key=None)
    ddb.put_item(TableName=audit, Item={"pk": {"S": "old"}})
    ddb.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": accounts, "Key": {"pk": {"S": "bob"}}, "ConditionExpression": "balance < :x",
                            "ExpressionAttributeValues": {":x": {"N": "10"}}}},
        {"Delete": {"TableName": audit, "Key": {"pk": {"S": "old"}}}},
        {"Put": {"TableName": audit, "Item": {"pk": {"S": "new"}}}},
    ])
    assert [i["pk"]["S"] for i in ddb.scan(TableName=audit)["Items"]] == ["new"]
    got = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": accounts, "Key": {"pk": {"S": "bob"}}, "ProjectionExpression": "balance"}},
        {"Get": {"TableName": audit, "Key": {"pk": {"S": "missing"}}}},
        {"Get": {"TableName": audit, "Key": {"pk": {"S": "new"}}}},
    ])["Responses"]
    assert got == [{"Item": {"balance": {"N": "5"}}}, {}, {"Item": {"pk": {"S": "new"}}}]


def test_two_actions_on_one_item_are_refused(ddb, accounts):
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": accounts, "Item": {"pk": {"S": "alice"}, "balance": {"N": "1"}}}},
            {"Delete": {"TableName": accounts, "Key": {"pk": {"S": "alice"}}}},
        ])
    assert error_of(e)["Code"] == "ValidationException"
    assert error_of(e)["Message"] == "Transaction request cannot include multiple operations on one item"


def test_a_client_request_token_makes_a_retry_a_no_op(ddb, accounts, unique_name):
    token = unique_name("tok")
    ddb.transact_write_items(TransactItems=transfer(accounts, "10"), ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=transfer(accounts, "10"), ClientRequestToken=token)
    assert balances(ddb, accounts) == {"alice": "90", "bob": "15"}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=transfer(accounts, "20"), ClientRequestToken=token)
    assert error_of(e)["Code"] == "IdempotentParameterMismatchException"


def test_a_transaction_survives_kill_9_whole(kagami_process, tmp_path):
    server = kagami_process(data_dir=tmp_path / "data")
    ddb = server.client("dynamodb")
    create_table(ddb, "ledger", range_key=None)
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "ledger", "Item": {"pk": {"S": f"e{i}"}}}} for i in range(50)
    ])
    server.kill9()
    server.restart()
    assert server.client("dynamodb").scan(TableName="ledger", Select="COUNT")["Count"] == 50


def test_concurrent_transactions_across_tables_keep_their_invariant(aws_client, unique_name):
    import threading

    ddb = aws_client("dynamodb")
    a, b = unique_name("ledger-a"), unique_name("ledger-b")
    for t in (a, b):
        create_table(ddb, t, range_key=None)
        ddb.put_item(TableName=t, Item={"pk": {"S": "acct"}, "balance": {"N": "1000"}})
    errors = []

    def move(src, dst, times):
        client = aws_client("dynamodb")
        for _ in range(times):
            try:
                client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": src, "Key": {"pk": {"S": "acct"}}, "UpdateExpression": "SET balance = balance - :one",
                                "ConditionExpression": "balance >= :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    {"Update": {"TableName": dst, "Key": {"pk": {"S": "acct"}}, "UpdateExpression": "SET balance = balance + :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                ])
            except ClientError as e:  # a cancelled transfer changes nothing
                if e.response["Error"]["Code"] != "TransactionCanceledException":
                    errors.append(e)

    threads = [threading.Thread(target=move, args=(a, b, 40)), threading.Thread(target=move, args=(b, a, 40)),
               threading.Thread(target=move, args=(a, b, 40))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    total = sum(int(ddb.get_item(TableName=t, Key={"pk": {"S": "acct"}}, ConsistentRead=True)["Item"]["balance"]["N"]) for t in (a, b))
    assert total == 2000
    assert int(ddb.get_item(TableName=a, Key={"pk": {"S": "acct"}})["Item"]["balance"]["N"]) == 1000 - 40
