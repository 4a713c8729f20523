"""EventBridge event patterns through TestEventPattern: every content filter AWS documents
(exact values, arrays as OR, nesting, prefix, suffix, equals-ignore-case, wildcard,
anything-but, numeric ranges, exists, cidr, $or), each with a matching and a
non-matching case, and invalid patterns answered with InvalidEventPatternException.
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "running",
        "count": 5,
        "price": 10.5,
        "ip": "10.0.0.42",
        "ipv6": "2001:db8::1",
        "file": "photos/Cat.PNG",
        "tags": ["prod", "web"],
        "nothing": None,
        "enabled": True,
        "nested": {"level": {"deep": "yes"}},
        "items": [{"kind": "a"}, {"kind": "b"}],
    },
}

CASES = [
    # (description, pattern, expected)
    ("exact string", {"source": ["aws.ec2"]}, True),
    ("exact string mismatch", {"source": ["aws.s3"]}, False),
    ("array is OR", {"source": ["aws.s3", "aws.ec2"]}, True),
    ("several fields are AND", {"source": ["aws.ec2"], "detail-type": ["nope"]}, False),
    ("nested object", {"detail": {"state": ["running"]}}, True),
    ("deeply nested", {"detail": {"nested": {"level": {"deep": ["yes"]}}}}, True),
    ("deeply nested mismatch", {"detail": {"nested": {"level": {"deep": ["no"]}}}}, False),
    ("missing field", {"detail": {"absent": ["x"]}}, False),
    ("exact number", {"detail": {"count": [5]}}, True),
    ("number compares as written", {"detail": {"count": [5.0]}}, False),
    ("number is not a string", {"detail": {"count": ["5"]}}, False),
    ("null", {"detail": {"nothing": [None]}}, True),
    ("null mismatch", {"detail": {"state": [None]}}, False),
    ("boolean", {"detail": {"enabled": [True]}}, True),
    ("value inside an event array", {"detail": {"tags": ["web"]}}, True),
    ("value not in event array", {"detail": {"tags": ["dev"]}}, False),
    ("resources array", {"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]}, True),
    ("objects inside event arrays", {"detail": {"items": {"kind": ["b"]}}}, True),
    ("prefix", {"detail": {"state": [{"prefix": "run"}]}}, True),
    ("prefix mismatch", {"detail": {"state": [{"prefix": "stop"}]}}, False),
    ("prefix ignoring case", {"detail": {"state": [{"prefix": {"equals-ignore-case": "RUN"}}]}}, True),
    ("prefix is case sensitive", {"detail": {"state": [{"prefix": "RUN"}]}}, False),
    ("suffix", {"detail": {"file": [{"suffix": ".PNG"}]}}, True),
    ("suffix mismatch", {"detail": {"file": [{"suffix": ".png"}]}}, False),
    ("suffix ignoring case", {"detail": {"file": [{"suffix": {"equals-ignore-case": ".png"}}]}}, True),
    ("equals-ignore-case", {"detail": {"state": [{"equals-ignore-case": "RUNNING"}]}}, True),
    ("equals-ignore-case mismatch", {"detail": {"state": [{"equals-ignore-case": "RUN"}]}}, False),
    ("wildcard", {"detail": {"file": [{"wildcard": "photos/*.PNG"}]}}, True),
    ("wildcard mismatch", {"detail": {"file": [{"wildcard": "videos/*"}]}}, False),
    ("anything-but value", {"detail": {"state": [{"anything-but": "stopped"}]}}, True),
    ("anything-but same value", {"detail": {"state": [{"anything-but": "running"}]}}, False),
    ("anything-but list", {"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}, False),
    ("anything-but number", {"detail": {"count": [{"anything-but": [1, 2]}]}}, True),
    ("anything-but on a missing field", {"detail": {"absent": [{"anything-but": "x"}]}}, False),
    ("anything-but prefix", {"detail": {"state": [{"anything-but": {"prefix": "stop"}}]}}, True),
    ("anything-but prefix mismatch", {"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}, False),
    ("anything-but suffix", {"detail": {"file": [{"anything-but": {"suffix": ".PNG"}}]}}, False),
    ("anything-but ignoring case", {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["RUNNING"]}}]}}, False),
    ("numeric range", {"detail": {"price": [{"numeric": [">", 10, "<=", 11]}]}}, True),
    ("numeric range mismatch", {"detail": {"price": [{"numeric": [">=", 11]}]}}, False),
    ("numeric equals", {"detail": {"count": [{"numeric": ["=", 5]}]}}, True),
    ("numeric on a string", {"detail": {"state": [{"numeric": [">", 0]}]}}, False),
    ("exists true", {"detail": {"state": [{"exists": True}]}}, True),
    ("exists true on a missing field", {"detail": {"absent": [{"exists": True}]}}, False),
    ("exists false", {"detail": {"absent": [{"exists": False}]}}, True),
    ("exists false on a present field", {"detail": {"state": [{"exists": False}]}}, False),
    ("cidr", {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ("cidr mismatch", {"detail": {"ip": [{"cidr": "10.0.1.0/24"}]}}, False),
    ("cidr ipv6", {"detail": {"ipv6": [{"cidr": "2001:db8::/32"}]}}, True),
    ("$or", {"$or": [{"source": ["aws.s3"]}, {"detail": {"count": [5]}}]}, True),
    ("$or none match", {"$or": [{"source": ["aws.s3"]}, {"detail": {"count": [6]}}]}, False),
    ("$or nested with a sibling", {"source": ["aws.ec2"], "detail": {"$or": [{"state": ["stopped"]}, {"count": [{"numeric": [">", 4]}]}]}}, True),
]

INVALID = [
    ("not an object", ["aws.ec2"]),
    ("leaf is not an array", {"source": "aws.ec2"}),
    ("unknown operator", {"source": [{"regex": "a.*"}]}),
    ("numeric with a string", {"detail": {"count": [{"numeric": [">", "five"]}]}}),
    ("numeric range upside down", {"detail": {"count": [{"numeric": ["<", 1, ">", 5]}]}}),
    ("exists not boolean", {"detail": {"x": [{"exists": "yes"}]}}),
    ("prefix not a string", {"detail": {"x": [{"prefix": 5}]}}),
    ("consecutive wildcards", {"detail": {"x": [{"wildcard": "a**b"}]}}),
    ("cidr without mask", {"detail": {"ip": [{"cidr": "10.0.0.1"}]}}),
    ("$or with one alternative", {"$or": [{"source": ["a"]}]}),
]


@pytest.fixture(scope="module")
def events(kagami):
    return kagami.client("events")


@pytest.mark.parametrize(("pattern", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_event_pattern_matching(events, pattern, expected):
    result = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))["Result"]
    assert result is expected


@pytest.mark.parametrize("pattern", [c[1] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_patterns_are_rejected(events, pattern):
    with pytest.raises(ClientError) as e:
        events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
    err = e.value.response["Error"]
    assert err["Code"] == "InvalidEventPatternException"
    assert err["Message"].startswith("Event pattern is not valid. Reason: ")


@pytest.mark.parametrize("field", ["id", "account", "source", "time", "region", "resources", "detail-type"])
def test_the_event_must_have_the_envelope_fields(events, field):
    partial = {k: v for k, v in EVENT.items() if k != field}
    with pytest.raises(ClientError) as e:
        events.test_event_pattern(EventPattern=json.dumps({"source": ["x"]}), Event=json.dumps(partial))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == "Parameter Event is not valid."
