"""Helpers shared by the SQS test modules: the fields of an AWS error and a queue's
message counts, read the way a user of boto3 reads them."""

from __future__ import annotations


def error_of(excinfo) -> dict:
    """The parsed error of a ClientError: Code (the legacy query code boto3 users see),
    QueryErrorCode (the JSON protocol's code), Message, HTTP status and headers."""
    response = excinfo.value.response
    return {
        "Code": response["Error"]["Code"],
        "QueryErrorCode": response["Error"].get("QueryErrorCode"),
        "Message": response["Error"]["Message"],
        "Status": response["ResponseMetadata"]["HTTPStatusCode"],
        "Headers": response["ResponseMetadata"]["HTTPHeaders"],
    }


def counts(sqs, url) -> tuple[int, int, int]:
    """(visible, in flight, delayed) as GetQueueAttributes approximates them."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        int(attrs["ApproximateNumberOfMessagesDelayed"]),
    )
