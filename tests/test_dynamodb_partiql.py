"""DynamoDB PartiQL: ExecuteStatement SELECT/INSERT/UPDATE/DELETE with parameters and
literals, NextToken paging, DuplicateItemException and conditional failures;
BatchExecuteStatement with per-statement errors; ExecuteTransaction all or nothing."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dynamodb_helpers import create_table, error_of


@pytest.fixture
def ddb(aws_client):
    return aws_client("dynamodb")


@pytest.fixture
def music(ddb, unique_name):
    name = unique_name("music")
    create_table(ddb, name, hash_key=("artist", "S"), range_key=("song", "S"))
    return name


def test_insert_select_update_delete(ddb, music):
    ddb.execute_statement(Statement=f"INSERT INTO \"{music}\" VALUE {{'artist': 'Acme', 'song': 'One', 'year': 2001, 'tags': <<'rock', 'live'>>}}")
    ddb.execute_statement(Statement=f'INSERT INTO "{music}" VALUE {{\'artist\': ?, \'song\': ?, \'year\': ?}}',
                          Parameters=[{"S": "Acme"}, {"S": "Two"}, {"N": "2005"}])
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"INSERT INTO \"{music}\" VALUE {{'artist': 'Acme', 'song': 'One'}}")
    assert error_of(e)["Code"] == "DuplicateItemException"
    got = ddb.execute_statement(Statement=f'SELECT song, "year" FROM "{music}" WHERE artist = ? AND "year" > 2002', Parameters=[{"S": "Acme"}])
    assert got["Items"] == [{"song": {"S": "Two"}, "year": {"N": "2005"}}]
    ddb.execute_statement(Statement=f"UPDATE \"{music}\" SET \"year\" = 2002 REMOVE tags WHERE artist = 'Acme' AND song = 'One'")
    item = ddb.get_item(TableName=music, Key={"artist": {"S": "Acme"}, "song": {"S": "One"}})["Item"]
    assert item == {"artist": {"S": "Acme"}, "song": {"S": "One"}, "year": {"N": "2002"}}
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"UPDATE \"{music}\" SET x = 1 WHERE artist = 'Acme' AND song = 'Missing'")
    assert error_of(e)["Code"] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"DELETE FROM \"{music}\" WHERE artist = 'Acme'")
    assert error_of(e)["Message"] == "Where clause does not contain a mandatory equality on all key attributes"
    ddb.execute_statement(Statement=f"DELETE FROM \"{music}\" WHERE artist = 'Acme' AND song = 'One'")
    assert [i["song"]["S"] for i in ddb.execute_statement(Statement=f'SELECT * FROM "{music}"')["Items"]] == ["Two"]


def test_select_pages_with_next_token(ddb, music):
    for i in range(7):
        ddb.put_item(TableName=music, Item={"artist": {"S": "A"}, "song": {"S": f"s{i}"}})
    songs, token = [], None
    while True:
        args = {"Statement": f'SELECT song FROM "{music}" WHERE artist = \'A\'', "Limit": 3}
        if token:
            args["NextToken"] = token
        page = ddb.execute_statement(**args)
        songs += [i["song"]["S"] for i in page["Items"]]
        token = page.get("NextToken")
        if not token:
            break
    assert songs == [f"s{i}" for i in range(7)]


def test_malformed_statements_are_validation_errors(ddb, music):
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f'SELEKT * FROM "{music}"')
    assert error_of(e)["Code"] == "ValidationException"
    assert error_of(e)["Message"].startswith("Statement wasn't well formed, can't be processed")


def test_batch_execute_statement_reports_errors_per_statement(ddb, music):
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{music}\" VALUE {{'artist': 'B', 'song': 'x'}}"},
        {"Statement": f"INSERT INTO \"{music}\" VALUE {{'artist': 'B', 'song': 'x'}}"},
        {"Statement": f"SELECT * FROM \"{music}\" WHERE artist = 'B' AND song = 'x'"},
    ])["Responses"]
    assert "Error" not in out[0]
    assert out[1]["Error"]["Code"] == "DuplicateItem"
    assert out[2]["Item"] == {"artist": {"S": "B"}, "song": {"S": "x"}}


def test_execute_transaction_is_all_or_nothing(ddb, music):
    ddb.execute_transaction(TransactStatements=[
        {"Statement": f"INSERT INTO \"{music}\" VALUE {{'artist': 'C', 'song': '1'}}"},
        {"Statement": f"INSERT INTO \"{music}\" VALUE {{'artist': 'C', 'song': '2'}}"},
    ])
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"INSERT INTO \"{music}\" VALUE {{'artist': 'C', 'song': '3'}}"},
            {"Statement": f"INSERT INTO \"{music}\" VALUE {{'artist': 'C', 'song': '1'}}"},
        ])
    assert error_of(e)["Code"] == "TransactionCanceledException"
    read = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT * FROM \"{music}\" WHERE artist = 'C' AND song = '1'"},
        {"Statement": f"SELECT * FROM \"{music}\" WHERE artist = 'C' AND song = '3'"},
    ])["Responses"]
    assert read == [{"Item": {"artist": {"S": "C"}, "song": {"S": "1"}}}, {}]


def test_long_where_clauses_and_precedence(ddb, music):
    for i in range(5):
        ddb.put_item(TableName=music, Item={"artist": {"S": "D"}, "song": {"S": f"s{i}"}, "n": {"N": str(i)}})
    chain = " AND ".join(["n < 100"] * 80)
    assert len(ddb.execute_statement(Statement=f'SELECT * FROM "{music}" WHERE artist = \'D\' AND {chain}')["Items"]) == 5
    # AND binds tighter than OR; NOT applies to the parenthesised group.
    got = ddb.execute_statement(Statement=f"SELECT n FROM \"{music}\" WHERE artist = 'D' AND n = 1 OR artist = 'D' AND n = 3")["Items"]
    assert sorted(i["n"]["N"] for i in got) == ["1", "3"]
    got = ddb.execute_statement(Statement=f"SELECT n FROM \"{music}\" WHERE artist = 'D' AND NOT (n = 1 OR n = 3)")["Items"]
    assert sorted(i["n"]["N"] for i in got) == ["0", "2", "4"]
