"""EventBridge control plane: event buses (the default bus, CreateEventBus, Describe, List
with paging, Update, Delete), bus policies (PutPermission, RemovePermission), rules
(PutRule, DescribeRule, ListRules, Enable/Disable, DeleteRule), targets (PutTargets with
FailedEntries and the five-target limit, ListTargetsByRule, RemoveTargets,
ListRuleNamesByTarget), tags, AWS's errors, and isolation between accounts and regions."""

from __future__ import annotations

import json
import random

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
REGION = "us-east-1"
PATTERN = json.dumps({"source": ["my.app"]})


@pytest.fixture
def events(aws_client):
    return aws_client("events")


def error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def new_account() -> str:
    return str(random.randint(100000000000, 999999999999))


# ----------------------------------------------------------------------------- buses


def test_every_account_and_region_has_a_default_bus(aws_client):
    ev = aws_client("events", region="eu-west-1", account=new_account())
    bus = ev.describe_event_bus()
    account = bus["Arn"].split(":")[4]
    assert bus["Name"] == "default"
    assert bus["Arn"] == f"arn:aws:events:eu-west-1:{account}:event-bus/default"
    assert [b["Name"] for b in ev.list_event_buses()["EventBuses"]] == ["default"]


def test_create_describe_update_and_delete_an_event_bus(events, unique_name):
    name = unique_name("bus")
    created = events.create_event_bus(Name=name, Description="orders", Tags=[{"Key": "team", "Value": "a"}])
    assert created["EventBusArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"
    assert created["Description"] == "orders"
    got = events.describe_event_bus(Name=name)
    assert (got["Name"], got["Arn"], got["Description"]) == (name, created["EventBusArn"], "orders")
    assert "CreationTime" in got and "Policy" not in got
    assert events.describe_event_bus(Name=created["EventBusArn"])["Name"] == name

    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name=name)
    assert error(e) == ("ResourceAlreadyExistsException", f"Event bus {name} already exists.")

    updated = events.update_event_bus(Name=name, Description="payments")
    assert updated["Description"] == "payments"
    assert events.describe_event_bus(Name=name)["Description"] == "payments"
    assert events.list_tags_for_resource(ResourceARN=created["EventBusArn"])["Tags"] == [{"Key": "team", "Value": "a"}]

    events.delete_event_bus(Name=name)
    with pytest.raises(ClientError) as e:
        events.describe_event_bus(Name=name)
    assert error(e) == ("ResourceNotFoundException", f"Event bus {name} does not exist.")
    # Deleting again succeeds, as AWS's does.
    events.delete_event_bus(Name=name)


def test_a_bus_with_rules_cannot_be_deleted(events, unique_name):
    bus, rule = unique_name("busr"), unique_name("r")
    events.create_event_bus(Name=bus)
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=PATTERN)
    with pytest.raises(ClientError) as e:
        events.delete_event_bus(Name=bus)
    assert error(e) == ("ValidationException", "EventBus can't be deleted since it has rules.")
    events.delete_rule(Name=rule, EventBusName=bus)
    events.delete_event_bus(Name=bus)
    assert bus not in [b["Name"] for b in events.list_event_buses(NamePrefix=bus)["EventBuses"]]


def test_the_default_bus_cannot_be_deleted_or_created(events):
    with pytest.raises(ClientError) as e:
        events.delete_event_bus(Name="default")
    assert error(e) == ("ValidationException", "Cannot delete event bus default.")
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name="default")
    assert error(e)[0] == "ResourceAlreadyExistsException"


def test_bus_names_are_validated(events):
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name="bad name!")
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name="a/b")
    assert error(e) == ("ValidationException", "Event bus name must not contain '/'.")


def test_list_event_buses_filters_by_prefix_and_pages(aws_client, unique_name):
    ev = aws_client("events", account=new_account())
    prefix = unique_name("page")
    names = sorted(f"{prefix}-{i}" for i in range(5))
    for n in names:
        ev.create_event_bus(Name=n)
    first = ev.list_event_buses(NamePrefix=prefix, Limit=2)
    assert [b["Name"] for b in first["EventBuses"]] == names[:2]
    seen = [b["Name"] for b in first["EventBuses"]]
    token = first["NextToken"]
    while token:
        page = ev.list_event_buses(NamePrefix=prefix, Limit=2, NextToken=token)
        seen += [b["Name"] for b in page["EventBuses"]]
        token = page.get("NextToken")
    assert seen == names
    assert len(ev.list_event_buses()["EventBuses"]) == 6
    with pytest.raises(ClientError) as e:
        ev.list_event_buses(Limit=101)
    assert error(e)[0] == "ValidationException"


def test_put_and_remove_permission_edit_the_bus_policy(events, unique_name):
    name = unique_name("perm")
    arn = events.create_event_bus(Name=name)["EventBusArn"]
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal="111122223333", StatementId="s1")
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal="*", StatementId="s2")
    policy = json.loads(events.describe_event_bus(Name=name)["Policy"])
    assert policy["Version"] == "2012-10-17"
    assert [s["Sid"] for s in policy["Statement"]] == ["s1", "s2"]
    s1 = policy["Statement"][0]
    assert s1 == {
        "Sid": "s1",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "events:PutEvents",
        "Resource": arn,
    }
    with pytest.raises(ClientError) as e:
        events.put_permission(EventBusName=name, Action="events:PutEvents", Principal="*", StatementId="s1")
    assert error(e) == ("ResourceAlreadyExistsException", "Statement with the provided id already exists.")
    with pytest.raises(ClientError) as e:
        events.put_permission(EventBusName=name, Action="events:PutRule", Principal="*", StatementId="s3")
    assert error(e) == ("ValidationException", "Provided value in parameter 'action' is not supported.")

    events.remove_permission(EventBusName=name, StatementId="s1")
    policy = json.loads(events.describe_event_bus(Name=name)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["s2"]
    with pytest.raises(ClientError) as e:
        events.remove_permission(EventBusName=name, StatementId="s1")
    assert error(e) == ("ResourceNotFoundException", "Statement with the provided id does not exist.")
    events.remove_permission(EventBusName=name, RemoveAllPermissions=True)
    assert "Policy" not in events.describe_event_bus(Name=name)


# ----------------------------------------------------------------------------- rules


def test_put_describe_and_list_rules(events, unique_name):
    name = unique_name("rule")
    arn = events.put_rule(Name=name, EventPattern=PATTERN, Description="d", RoleArn="arn:aws:iam::000000000000:role/r")["RuleArn"]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"
    rule = events.describe_rule(Name=name)
    assert rule["Name"] == name and rule["Arn"] == arn
    assert json.loads(rule["EventPattern"]) == {"source": ["my.app"]}
    assert (rule["State"], rule["Description"], rule["EventBusName"], rule["CreatedBy"]) == ("ENABLED", "d", "default", ACCOUNT)
    assert rule["RoleArn"] == "arn:aws:iam::000000000000:role/r"
    listed = events.list_rules(NamePrefix=name)["Rules"]
    assert [r["Name"] for r in listed] == [name]
    assert listed[0]["Arn"] == arn

    events.disable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "DISABLED"
    events.enable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "ENABLED"

    # PutRule on an existing rule updates it in place.
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["other"]}), State="DISABLED")
    rule = events.describe_rule(Name=name)
    assert (json.loads(rule["EventPattern"]), rule["State"]) == ({"source": ["other"]}, "DISABLED")


def test_rules_on_a_custom_bus_have_the_bus_in_their_arn(events, unique_name):
    bus, name = unique_name("rbus"), unique_name("rule")
    events.create_event_bus(Name=bus)
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)["RuleArn"]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/{name}"
    assert events.describe_rule(Name=name, EventBusName=bus)["EventBusName"] == bus
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=name)
    assert error(e) == ("ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")
    bus_arn = events.describe_event_bus(Name=bus)["Arn"]
    assert [r["Name"] for r in events.list_rules(EventBusName=bus_arn)["Rules"]] == [name]


def test_rule_errors(events, unique_name):
    name = unique_name("bad")
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=name)
    assert error(e) == ("ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")
    with pytest.raises(ClientError) as e:
        events.enable_rule(Name=name)
    assert error(e) == ("ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=name)
    assert error(e) == ("ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=name, EventPattern='{"source": "not-a-list"}')
    code, message = error(e)
    assert code == "InvalidEventPatternException"
    assert message.startswith("Event pattern is not valid. Reason: ")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=name, ScheduleExpression="rate(5 fortnights)")
    assert error(e) == ("ValidationException", "Parameter ScheduleExpression is not valid.")
    bus = unique_name("sbus")
    events.create_event_bus(Name=bus)
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=name, EventBusName=bus, ScheduleExpression="rate(5 minutes)")
    assert error(e) == ("ValidationException", "ScheduleExpression is supported only on the default event bus.")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=name, EventBusName=unique_name("nobus"), EventPattern=PATTERN)
    assert error(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="has space", EventPattern=PATTERN)
    assert error(e)[0] == "ValidationException"
    # Deleting a rule that does not exist succeeds.
    events.delete_rule(Name=name)


def test_list_rules_pages_in_name_order(aws_client, unique_name):
    ev = aws_client("events", account=new_account())
    names = [f"r{i:02d}" for i in range(7)]
    for n in reversed(names):
        ev.put_rule(Name=n, EventPattern=PATTERN)
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = ev.list_rules(Limit=3, **kwargs)
        assert len(page["Rules"]) <= 3
        seen += [r["Name"] for r in page["Rules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    paginated = [r["Name"] for p in ev.get_paginator("list_rules").paginate(PaginationConfig={"PageSize": 2}) for r in p["Rules"]]
    assert paginated == names


# ----------------------------------------------------------------------------- targets


def test_put_list_and_remove_targets(events, unique_name):
    name = unique_name("tr")
    events.put_rule(Name=name, EventPattern=PATTERN)
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique_name('q')}"
    out = events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "a", "Arn": queue, "Input": '{"x": 1}'},
            {"Id": "b", "Arn": queue, "InputPath": "$.detail"},
            {
                "Id": "c",
                "Arn": queue,
                "InputTransformer": {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '{"src": <s>}'},
                "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120},
                "DeadLetterConfig": {"Arn": queue},
            },
        ],
    )
    assert (out["FailedEntryCount"], out["FailedEntries"]) == (0, [])
    targets = events.list_targets_by_rule(Rule=name)["Targets"]
    assert [t["Id"] for t in targets] == ["a", "b", "c"]
    assert targets[0]["Input"] == '{"x": 1}'
    assert targets[1]["InputPath"] == "$.detail"
    assert targets[2]["InputTransformer"] == {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '{"src": <s>}'}
    assert targets[2]["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120}
    assert events.list_rule_names_by_target(TargetArn=queue)["RuleNames"] == [name]

    page = events.list_targets_by_rule(Rule=name, Limit=2)
    assert [t["Id"] for t in page["Targets"]] == ["a", "b"]
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name, Limit=2, NextToken=page["NextToken"])["Targets"]] == ["c"]

    # A target with the same Id is replaced.
    events.put_targets(Rule=name, Targets=[{"Id": "a", "Arn": queue}])
    assert "Input" not in events.list_targets_by_rule(Rule=name)["Targets"][0]

    with pytest.raises(ClientError) as e:
        events.delete_rule(Name=name)
    assert error(e) == ("ValidationException", "Rule can't be deleted since it has targets.")
    removed = events.remove_targets(Rule=name, Ids=["a", "b", "c"])
    assert removed["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule=name)["Targets"] == []
    events.delete_rule(Name=name)
    assert events.list_rule_names_by_target(TargetArn=queue)["RuleNames"] == []


def test_bad_targets_are_reported_in_failed_entries(events, unique_name):
    name = unique_name("bad-t")
    events.put_rule(Name=name, EventPattern=PATTERN)
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique_name('q')}"
    out = events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "ok", "Arn": queue},
            {"Id": "both", "Arn": queue, "Input": "{}", "InputPath": "$.detail"},
            {"Id": "notarn", "Arn": "queue-without-arn"},
            {"Id": "fifo", "Arn": queue + ".fifo"},
        ],
    )
    assert out["FailedEntryCount"] == 3
    failed = {f["TargetId"]: f for f in out["FailedEntries"]}
    assert set(failed) == {"both", "notarn", "fifo"}
    assert all(f["ErrorCode"] == "ValidationException" for f in failed.values())
    assert failed["fifo"]["ErrorMessage"] == "Parameter(s) SqsParameters must be specified for target: fifo."
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["ok"]


def test_a_rule_has_at_most_five_targets(events, unique_name):
    name = unique_name("five")
    events.put_rule(Name=name, EventPattern=PATTERN)
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
    events.put_targets(Rule=name, Targets=[{"Id": f"t{i}", "Arn": queue} for i in range(5)])
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=name, Targets=[{"Id": "t5", "Arn": queue}])
    assert error(e) == ("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
    assert len(events.list_targets_by_rule(Rule=name)["Targets"]) == 5


def test_targets_of_a_missing_rule(events, unique_name):
    name = unique_name("none")
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=name, Targets=[{"Id": "a", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}])
    assert error(e) == ("ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")
    with pytest.raises(ClientError) as e:
        events.list_targets_by_rule(Rule=name)
    assert error(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        events.remove_targets(Rule=name, Ids=["a"])
    assert error(e)[0] == "ResourceNotFoundException"


# ----------------------------------------------------------------------------- tags


def test_tag_untag_and_list_tags_of_a_rule(events, unique_name):
    name = unique_name("tags")
    arn = events.put_rule(Name=name, EventPattern=PATTERN, Tags=[{"Key": "a", "Value": "1"}])["RuleArn"]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    events.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as e:
        events.list_tags_for_resource(ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{unique_name('gone')}")
    assert error(e)[0] == "ResourceNotFoundException"


# ----------------------------------------------------------------------------- isolation and CLI


def test_rules_and_buses_are_per_account_and_region(aws_client, unique_name):
    a, b = new_account(), new_account()
    mine = aws_client("events", account=a)
    theirs = aws_client("events", account=b)
    elsewhere = aws_client("events", account=a, region="eu-central-1")
    name = unique_name("iso")
    mine.put_rule(Name=name, EventPattern=PATTERN)
    mine.create_event_bus(Name=name)
    for other in (theirs, elsewhere):
        with pytest.raises(ClientError) as e:
            other.describe_rule(Name=name)
        assert error(e)[0] == "ResourceNotFoundException"
        assert [x["Name"] for x in other.list_event_buses()["EventBuses"]] == ["default"]
    assert mine.describe_rule(Name=name)["Arn"] == f"arn:aws:events:us-east-1:{a}:rule/{name}"


def test_the_cli_manages_rules_and_targets(aws_cli, unique_name):
    name = unique_name("cli")
    out = aws_cli("events", "put-rule", "--name", name, "--schedule-expression", "rate(1 hour)")
    assert out["RuleArn"].endswith(f":rule/{name}")
    aws_cli("events", "put-targets", "--rule", name, "--targets", f"Id=1,Arn=arn:aws:sqs:{REGION}:{ACCOUNT}:q")
    listed = aws_cli("events", "list-targets-by-rule", "--rule", name)
    assert [t["Id"] for t in listed["Targets"]] == ["1"]
    assert aws_cli("events", "describe-rule", "--name", name)["ScheduleExpression"] == "rate(1 hour)"
    code, stderr = aws_cli("events", "delete-rule", "--name", name, expect_error=True)
    assert code != 0 and "Rule can't be deleted since it has targets." in stderr
