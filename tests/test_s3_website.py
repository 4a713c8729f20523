"""Static website hosting: Put/Get/DeleteBucketWebsite and the website endpoint
(`<bucket>.s3-website.localhost.localstack.cloud`, `<bucket>.s3-website-<region>...`,
`<bucket>.s3-website.<region>...`): anonymous GET/HEAD, index and error documents,
object redirects, routing rules, RedirectAllRequestsTo, and HTML error pages.
"""

from __future__ import annotations

import pytest
import requests

from s3_helpers import error_of


def site_get(server, bucket, path, method="GET", host_form="{b}.s3-website.localhost.localstack.cloud:{p}"):
    host = host_form.format(b=bucket, p=server.port)
    return requests.request(method, f"{server.endpoint}{path}", headers={"Host": host}, allow_redirects=False, timeout=10)


@pytest.fixture
def site(kagami, unique_name):
    s3 = kagami.client("s3")
    bucket = unique_name("site")
    s3.create_bucket(Bucket=bucket)
    html = "text/html"
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>home</h1>", ContentType=html)
    s3.put_object(Bucket=bucket, Key="docs/index.html", Body=b"<h1>docs</h1>", ContentType=html)
    s3.put_object(Bucket=bucket, Key="error.html", Body=b"<h1>oops</h1>", ContentType=html)
    s3.put_object(Bucket=bucket, Key="style.css", Body=b"body{}", ContentType="text/css")
    s3.put_object(Bucket=bucket, Key="old.html", Body=b"", WebsiteRedirectLocation="/new.html")
    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}},
    )
    return bucket


def test_put_get_delete_bucket_website(kagami, unique_name):
    s3 = kagami.client("s3")
    bucket = unique_name("web")
    s3.create_bucket(Bucket=bucket)
    e = error_of(s3.get_bucket_website, Bucket=bucket)
    assert e["Error"]["Code"] == "NoSuchWebsiteConfiguration"
    assert e["Error"]["Message"] == "The specified bucket does not have a website configuration"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 404
    rules = [
        {
            "Condition": {"KeyPrefixEquals": "docs/"},
            "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "302"},
        }
    ]
    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": "404.html"},
            "RoutingRules": rules,
        },
    )
    got = s3.get_bucket_website(Bucket=bucket)
    assert got["IndexDocument"] == {"Suffix": "index.html"}
    assert got["ErrorDocument"] == {"Key": "404.html"}
    assert got["RoutingRules"] == rules
    s3.delete_bucket_website(Bucket=bucket)
    assert error_of(s3.get_bucket_website, Bucket=bucket)["Error"]["Code"] == "NoSuchWebsiteConfiguration"


def test_website_configuration_is_validated(kagami, unique_name):
    s3 = kagami.client("s3")
    bucket = unique_name("webbad")
    s3.create_bucket(Bucket=bucket)
    e = error_of(s3.put_bucket_website, Bucket=bucket, WebsiteConfiguration={"ErrorDocument": {"Key": "e.html"}})
    assert e["Error"]["Code"] == "InvalidArgument"
    assert e["Error"]["Message"] == "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"
    e = error_of(s3.put_bucket_website, Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "a/b.html"}})
    assert e["Error"]["Message"] == "The IndexDocument Suffix is not well formed"
    e = error_of(
        s3.put_bucket_website,
        Bucket=bucket,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "RoutingRules": [{"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}],
        },
    )
    assert e["Error"]["Code"] == "InvalidRequest"
    assert e["Error"]["Message"] == "You can only define ReplaceKeyPrefix or ReplaceKey but not both."


@pytest.mark.parametrize(
    "host_form",
    [
        "{b}.s3-website.localhost.localstack.cloud:{p}",
        "{b}.s3-website-us-east-1.localhost.localstack.cloud:{p}",
        "{b}.s3-website.us-east-1.localhost.localstack.cloud:{p}",
    ],
)
def test_index_documents_are_served_anonymously(kagami, site, host_form):
    r = site_get(kagami, site, "/", host_form=host_form)
    assert r.status_code == 200, r.text
    assert r.content == b"<h1>home</h1>"
    assert r.headers["Content-Type"] == "text/html"
    r = site_get(kagami, site, "/docs/", host_form=host_form)
    assert r.status_code == 200
    assert r.content == b"<h1>docs</h1>"
    r = site_get(kagami, site, "/style.css", host_form=host_form)
    assert r.content == b"body{}"
    assert r.headers["Content-Type"] == "text/css"


def test_a_folder_without_its_slash_is_redirected_to_it(kagami, site):
    r = site_get(kagami, site, "/docs")
    assert r.status_code == 302
    assert r.headers["Location"] == "/docs/"


def test_head_answers_without_a_body(kagami, site):
    r = site_get(kagami, site, "/", method="HEAD")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Content-Length"] == str(len(b"<h1>home</h1>"))


def test_missing_keys_get_the_error_document_with_404(kagami, site):
    r = site_get(kagami, site, "/nothing/here.html")
    assert r.status_code == 404
    assert r.content == b"<h1>oops</h1>"
    assert r.headers["Content-Type"] == "text/html"


def test_missing_keys_without_an_error_document_get_s3s_html_page(kagami, site):
    kagami.client("s3").put_bucket_website(Bucket=site, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    r = site_get(kagami, site, "/nothing.html")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<h1>404 Not Found</h1>" in r.text
    assert "<li>Code: NoSuchKey</li>" in r.text
    assert "<li>Key: nothing.html</li>" in r.text


def test_a_missing_error_document_is_reported_on_the_page(kagami, site):
    kagami.client("s3").delete_object(Bucket=site, Key="error.html")
    r = site_get(kagami, site, "/nothing.html")
    assert r.status_code == 404
    assert "<li>Code: NoSuchKey</li>" in r.text
    assert "An Error Occurred While Attempting to Retrieve a Custom Error Document" in r.text


def test_objects_with_a_website_redirect_location_redirect(kagami, site):
    r = site_get(kagami, site, "/old.html")
    assert r.status_code == 301
    assert r.headers["Location"] == "/new.html"


def test_website_endpoints_answer_only_get_and_head(kagami, site):
    r = site_get(kagami, site, "/", method="POST")
    assert r.status_code == 405
    assert "<li>Code: MethodNotAllowed</li>" in r.text


def test_buckets_without_a_website_or_missing_answer_html_errors(kagami, unique_name):
    bucket = unique_name("noweb")
    kagami.client("s3").create_bucket(Bucket=bucket)
    r = site_get(kagami, bucket, "/")
    assert r.status_code == 404
    assert "<li>Code: NoSuchWebsiteConfiguration</li>" in r.text
    assert f"<li>BucketName: {bucket}</li>" in r.text
    missing = unique_name("nobucket")
    r = site_get(kagami, missing, "/")
    assert r.status_code == 404
    assert "<li>Code: NoSuchBucket</li>" in r.text


def test_routing_rules_redirect_by_prefix_and_by_error_code(kagami, site):
    host = f"{site}.s3-website.localhost.localstack.cloud:{kagami.port}"
    kagami.client("s3").put_bucket_website(
        Bucket=site,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "RoutingRules": [
                {"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
                {
                    "Condition": {"HttpErrorCodeReturnedEquals": "404"},
                    "Redirect": {
                        "HostName": "fallback.example.com",
                        "Protocol": "https",
                        "ReplaceKeyWith": "not-found.html",
                        "HttpRedirectCode": "307",
                    },
                },
            ],
        },
    )
    r = site_get(kagami, site, "/docs/guide.html")
    assert r.status_code == 301
    assert r.headers["Location"] == f"http://{host}/documents/guide.html"
    r = site_get(kagami, site, "/nothing.html")
    assert r.status_code == 307
    assert r.headers["Location"] == "https://fallback.example.com/not-found.html"
    # Found objects are served: the error-code rule applies only to errors.
    assert site_get(kagami, site, "/style.css").status_code == 200


def test_redirect_all_requests_to_another_host(kagami, site):
    kagami.client("s3").put_bucket_website(
        Bucket=site,
        WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "www.example.com", "Protocol": "https"}},
    )
    r = site_get(kagami, site, "/a/b.html")
    assert r.status_code == 301
    assert r.headers["Location"] == "https://www.example.com/a/b.html"


def test_website_with_the_aws_cli(kagami, aws_cli, unique_name):
    from s3_helpers import aws_s3

    bucket = unique_name("webcli")
    kagami.client("s3").create_bucket(Bucket=bucket)
    kagami.client("s3").put_object(Bucket=bucket, Key="index.html", Body=b"cli home", ContentType="text/html")
    aws_s3(kagami.endpoint, "s3", "website", f"s3://{bucket}", "--index-document", "index.html", "--error-document", "err.html")
    got = aws_cli("s3api", "get-bucket-website", "--bucket", bucket)
    assert got["IndexDocument"] == {"Suffix": "index.html"}
    assert got["ErrorDocument"] == {"Key": "err.html"}
    r = site_get(kagami, bucket, "/")
    assert r.status_code == 200
    assert r.content == b"cli home"
