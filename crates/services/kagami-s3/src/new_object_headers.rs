//! Checks S3 makes on the headers that describe a new object, before its body is read:
//! the storage class (InvalidStorageClass), the size of the user metadata
//! (MetadataTooLarge) and the website redirect location (InvalidRedirectLocation).
//! PutObject, CopyObject (with what it writes), CreateMultipartUpload and PostObject
//! share them.

use indexmap::IndexMap;
use kagami_core::ServiceError;
use std::sync::LazyLock;

/// User metadata is at most 2 KB: the UTF-8 bytes of every key (without `x-amz-meta-`)
/// and value together.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html>
pub const MAX_METADATA_BYTES: usize = 2048;
/// A redirect location is at most 2 KB.
const MAX_REDIRECT_BYTES: usize = 2048;

/// The storage classes of the model's `StorageClass` enum.
static STORAGE_CLASSES: LazyLock<Vec<String>> = LazyLock::new(|| {
    kagami_model::service("s3")
        .and_then(|s| s.model().shape("StorageClass"))
        .and_then(|s| s.enum_values.clone())
        .unwrap_or_default()
});

/// What a write says about the object it creates.
#[derive(Debug, Default, Clone, Copy)]
pub struct NewObjectHeaders<'a> {
    pub storage_class: Option<&'a str>,
    pub metadata: Option<&'a IndexMap<String, String>>,
    pub website_redirect_location: Option<&'a str>,
}

impl NewObjectHeaders<'_> {
    pub fn check(&self) -> Result<(), ServiceError> {
        if let Some(class) = self.storage_class
            && !STORAGE_CLASSES.iter().any(|c| c == class)
        {
            return Err(ServiceError::new(
                "InvalidStorageClass",
                400,
                "The storage class you specified is not valid",
            )
            .with_field("StorageClassRequested", class));
        }
        if let Some(metadata) = self.metadata {
            let size: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
            if size > MAX_METADATA_BYTES {
                return Err(ServiceError::new(
                    "MetadataTooLarge",
                    400,
                    "Your metadata headers exceed the maximum allowed metadata size",
                )
                .with_field("Size", size.to_string())
                .with_field("MaxSizeAllowed", MAX_METADATA_BYTES.to_string()));
            }
        }
        if let Some(location) = self.website_redirect_location
            && (!["/", "http://", "https://"].iter().any(|p| location.starts_with(p))
                || location.len() > MAX_REDIRECT_BYTES)
        {
            return Err(ServiceError::new(
                "InvalidRedirectLocation",
                400,
                "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_names_the_storage_classes() {
        for class in ["STANDARD", "GLACIER_IR", "DEEP_ARCHIVE", "INTELLIGENT_TIERING"] {
            let headers = NewObjectHeaders { storage_class: Some(class), ..Default::default() };
            assert!(headers.check().is_ok(), "{class}");
        }
        let e = NewObjectHeaders { storage_class: Some("standard"), ..Default::default() }
            .check()
            .err();
        assert_eq!(e.map(|e| e.code), Some("InvalidStorageClass".to_string()));
    }

    #[test]
    fn metadata_counts_keys_and_values_up_to_two_kilobytes() {
        let at_limit = IndexMap::from([("k".to_string(), "v".repeat(MAX_METADATA_BYTES - 1))]);
        let headers = NewObjectHeaders { metadata: Some(&at_limit), ..Default::default() };
        assert!(headers.check().is_ok());
        let over = IndexMap::from([("kk".to_string(), "v".repeat(MAX_METADATA_BYTES - 1))]);
        let e = NewObjectHeaders { metadata: Some(&over), ..Default::default() }.check().err();
        assert_eq!(e.map(|e| e.code), Some("MetadataTooLarge".to_string()));
    }

    #[test]
    fn a_redirect_is_a_path_or_an_http_url() {
        for ok in ["/other.html", "http://example.com", "https://example.com/x"] {
            let headers = NewObjectHeaders { website_redirect_location: Some(ok), ..Default::default() };
            assert!(headers.check().is_ok(), "{ok}");
        }
        let e = NewObjectHeaders { website_redirect_location: Some("other.html"), ..Default::default() }
            .check()
            .err();
        assert_eq!(e.map(|e| e.code), Some("InvalidRedirectLocation".to_string()));
    }
}
