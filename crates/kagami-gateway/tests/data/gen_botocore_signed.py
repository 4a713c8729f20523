"""Regenerates botocore_signed.json: requests signed by botocore's own SigV4 signers,
which tests/sigv4_botocore.rs verifies. Run: python3 gen_botocore_signed.py > botocore_signed.json"""
import json
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def case(name, signer, method, url, headers=None, body=b"", token=None, service="sqs", region="us-east-1", **kw):
    creds = Credentials(KEY, SECRET, token)
    req = AWSRequest(method=method, url=url, headers=headers or {}, data=body)
    signer(creds, service, region, **kw).add_auth(req)
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    return {
        "name": name,
        "method": method,
        "path": parts.path or "/",
        "query": parts.query,
        "headers": [[k, v.decode() if isinstance(v, bytes) else v] for k, v in prepared.headers.items()],
        "body": body.decode(),
        "access_key_id": KEY,
        "secret_access_key": SECRET,
        "region": region,
        "service": service,
    }


cases = [
    case("sqs_json_send_message", SigV4Auth, "POST", "http://localhost:4566/",
         {"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0", "Host": "localhost:4566"},
         json.dumps({"QueueUrl": "http://localhost:4566/000000000000/q", "MessageBody": "hello wörld"}).encode()),
    case("sts_query_get_caller_identity", SigV4Auth, "POST", "http://localhost:4566/",
         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": "localhost:4566"},
         b"Action=GetCallerIdentity&Version=2011-06-15", service="sts"),
    case("sts_with_session_token", SigV4Auth, "POST", "http://localhost:4566/",
         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": "localhost:4566"},
         b"Action=GetCallerIdentity&Version=2011-06-15", token="FQoGZXIvYXdzEXAMPLETOKEN+/=", service="sts",
         region="eu-west-1"),
    case("lambda_path_with_escapes", SigV4Auth, "GET",
         "http://localhost:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Amy-fn/configuration?Qualifier=%24LATEST",
         {"Host": "localhost:4566"}, service="lambda"),
    case("s3_put_object_with_odd_key", S3SigV4Auth, "PUT",
         "http://localhost:4566/bucket/dir//a%20b%2Bc%3D.txt",
         {"Host": "localhost:4566", "Content-Type": "text/plain"}, b"object body", service="s3"),
    case("s3_presigned_get", S3SigV4QueryAuth, "GET",
         "http://localhost:4566/bucket/key%20with%20space.txt?versionId=abc",
         {"Host": "localhost:4566"}, service="s3", expires=3600),
    case("sts_presigned_get_caller_identity", SigV4QueryAuth, "GET",
         "http://localhost:4566/?Action=GetCallerIdentity&Version=2011-06-15",
         {"Host": "localhost:4566"}, service="sts", expires=60),
]
print(json.dumps(cases, indent=1, ensure_ascii=False))
