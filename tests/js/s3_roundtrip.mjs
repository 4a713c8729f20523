// One upload/download/presign round trip through the AWS SDK for JavaScript v3.
// Usage: KAGAMI_ENDPOINT=http://127.0.0.1:PORT node s3_roundtrip.mjs <bucket>
// Prints one JSON line of what it observed; the pytest wrapper asserts on it.
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createHash } from "node:crypto";

const endpoint = process.env.KAGAMI_ENDPOINT;
const bucket = process.argv[2];
const client = new S3Client({
  endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
const result = {};

await client.send(new CreateBucketCommand({ Bucket: bucket }));
const put = await client.send(
  new PutObjectCommand({
    Bucket: bucket,
    Key: "docs/a file.bin",
    Body: body,
    ContentType: "application/x-test",
    Metadata: { origin: "js-sdk" },
  }),
);
result.putETag = put.ETag;
const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "docs/a file.bin" }));
const gotBytes = Buffer.from(await got.Body.transformToByteArray());
result.getSha256 = sha256(gotBytes);
result.bodySha256 = sha256(body);
result.getContentType = got.ContentType;
result.getMetadata = got.Metadata;
result.getETag = got.ETag;

const getUrl = await getSignedUrl(
  client,
  new GetObjectCommand({ Bucket: bucket, Key: "docs/a file.bin" }),
  { expiresIn: 300 },
);
const fetched = await fetch(getUrl);
result.presignedGetStatus = fetched.status;
result.presignedGetSha256 = sha256(Buffer.from(await fetched.arrayBuffer()));

const putUrl = await getSignedUrl(
  client,
  new PutObjectCommand({ Bucket: bucket, Key: "uploaded.txt" }),
  { expiresIn: 300 },
);
const uploaded = await fetch(putUrl, { method: "PUT", body: "sent through a presigned URL" });
result.presignedPutStatus = uploaded.status;
const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "uploaded.txt" }));
result.presignedPutLength = head.ContentLength;

await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: "uploaded.txt" }));
try {
  await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "uploaded.txt" }));
  result.headAfterDelete = "found";
} catch (e) {
  result.headAfterDelete = e.$metadata?.httpStatusCode;
}
try {
  await client.send(new GetObjectCommand({ Bucket: bucket, Key: "missing" }));
  result.missingKey = "found";
} catch (e) {
  result.missingKey = e.name;
}
console.log(JSON.stringify(result));
