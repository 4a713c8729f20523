//! aws-sdk-s3 against the release binary: REST-XML with streamed bodies, the SDK's
//! default CRC checksums sent as aws-chunked trailers, modelled errors, pagination and
//! multipart uploads.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use kagami_e2e_rust::{config, start};

async fn client(endpoint: &str) -> aws_sdk_s3::Client {
    let shared = config(endpoint, "test", "test", None).await;
    let conf = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

#[tokio::test]
async fn s3_put_get_head_delete_round_trip() {
    let k = start();
    let s3 = client(&k.endpoint).await;
    s3.create_bucket().bucket("e2e-rust").send().await.unwrap();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let put = s3
        .put_object()
        .bucket("e2e-rust")
        .key("dir/object.bin")
        .content_type("application/x-e2e")
        .metadata("origin", "rust")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    let etag = put.e_tag.unwrap();
    let got = s3.get_object().bucket("e2e-rust").key("dir/object.bin").send().await.unwrap();
    assert_eq!(got.e_tag.as_deref(), Some(etag.as_str()));
    assert_eq!(got.content_type.as_deref(), Some("application/x-e2e"));
    assert_eq!(got.metadata.unwrap().get("origin").map(String::as_str), Some("rust"));
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), body.as_slice());
    let head = s3.head_object().bucket("e2e-rust").key("dir/object.bin").send().await.unwrap();
    assert_eq!(head.content_length, Some(body.len() as i64));

    s3.delete_object().bucket("e2e-rust").key("dir/object.bin").send().await.unwrap();
    let missing = s3.get_object().bucket("e2e-rust").key("dir/object.bin").send().await;
    let err = missing.unwrap_err().into_service_error();
    assert!(err.is_no_such_key(), "{err:?}");
    let no_bucket = s3.head_bucket().bucket("e2e-rust-missing").send().await;
    assert!(no_bucket.unwrap_err().into_service_error().is_not_found());
}

#[tokio::test]
async fn s3_list_objects_v2_pages_in_key_order() {
    let k = start();
    let s3 = client(&k.endpoint).await;
    s3.create_bucket().bucket("e2e-list").send().await.unwrap();
    let mut keys: Vec<String> = (0..25).map(|i| format!("k/{i:03}")).collect();
    for key in &keys {
        s3.put_object().bucket("e2e-list").key(key).body(ByteStream::from_static(b"x")).send().await.unwrap();
    }
    keys.sort();
    let mut pages = s3
        .list_objects_v2()
        .bucket("e2e-list")
        .prefix("k/")
        .max_keys(10)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        page_count += 1;
        listed.extend(page.contents().iter().filter_map(|o| o.key.clone()));
    }
    assert_eq!(page_count, 3);
    assert_eq!(listed, keys);
}

#[tokio::test]
async fn s3_multipart_upload_joins_parts_with_a_composite_etag() {
    let k = start();
    let s3 = client(&k.endpoint).await;
    s3.create_bucket().bucket("e2e-mpu").send().await.unwrap();
    let upload = s3.create_multipart_upload().bucket("e2e-mpu").key("big").send().await.unwrap();
    let upload_id = upload.upload_id.unwrap();
    let part_size = 5 * 1024 * 1024;
    let parts: Vec<Vec<u8>> = vec![vec![b'a'; part_size], vec![b'b'; 1024]];
    let mut completed = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let number = i as i32 + 1;
        let out = s3
            .upload_part()
            .bucket("e2e-mpu")
            .key("big")
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(part.clone()))
            .send()
            .await
            .unwrap();
        completed.push(CompletedPart::builder().part_number(number).set_e_tag(out.e_tag).build());
    }
    let done = s3
        .complete_multipart_upload()
        .bucket("e2e-mpu")
        .key("big")
        .upload_id(&upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build())
        .send()
        .await
        .unwrap();
    assert!(done.e_tag.unwrap().ends_with("-2\""));
    let got = s3.get_object().bucket("e2e-mpu").key("big").send().await.unwrap();
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.len(), part_size + 1024);
    assert_eq!(bytes[part_size - 1], b'a');
    assert_eq!(bytes[part_size], b'b');
}
