//! What clients rely on but botocore's current models no longer say: the XML
//! namespaces of S3 and of SQS's query responses, and the query-protocol names of SQS
//! (`Attribute.1.Name`, `<Message>`), which vanished when SQS moved to JSON but which
//! older SDKs still send and expect.

use kagami_model::{ServiceModel, ShapeRef};
use std::sync::OnceLock;

/// The namespace of the root element of query, ec2 and restXml responses.
pub(crate) fn xml_namespace(model: &ServiceModel) -> Option<&str> {
    if let Some(ns) = model.metadata.xml_namespace.as_deref() {
        return Some(ns);
    }
    match model.name.as_str() {
        "sqs" => Some("http://queue.amazonaws.com/doc/2012-11-05/"),
        "s3" => Some("http://s3.amazonaws.com/doc/2006-03-01/"),
        // REST-XML services (Route 53, CloudFront) name their namespace on the inputs.
        "" => None,
        _ => model
            .operations
            .values()
            .find_map(|op| op.input.as_ref().and_then(|r| r.xml_namespace.as_ref()))
            .map(|ns| ns.uri()),
    }
}

/// S3 answers errors as a bare `<Error>`; other REST-XML services wrap them in
/// `<ErrorResponse>` like the query protocol.
pub(crate) fn bare_xml_errors(model: &ServiceModel) -> bool {
    model.name == "s3"
}

/// The root element of S3 responses whose output is a plain structure: AWS names it
/// after the XML schema (`ListBucketResult`), not after the model's shape.
const S3_ROOTS: &[(&str, &str)] = &[
    ("CompleteMultipartUpload", "CompleteMultipartUploadResult"),
    ("CreateMultipartUpload", "InitiateMultipartUploadResult"),
    ("CreateSession", "CreateSessionResult"),
    ("DeleteObjects", "DeleteResult"),
    ("GetBucketAccelerateConfiguration", "AccelerateConfiguration"),
    ("GetBucketAcl", "AccessControlPolicy"),
    ("GetBucketCors", "CORSConfiguration"),
    ("GetBucketLifecycle", "LifecycleConfiguration"),
    ("GetBucketLifecycleConfiguration", "LifecycleConfiguration"),
    ("GetBucketLocation", "LocationConstraint"),
    ("GetBucketLogging", "BucketLoggingStatus"),
    ("GetBucketNotification", "NotificationConfiguration"),
    ("GetBucketNotificationConfiguration", "NotificationConfiguration"),
    ("GetBucketRequestPayment", "RequestPaymentConfiguration"),
    ("GetBucketTagging", "Tagging"),
    ("GetBucketVersioning", "VersioningConfiguration"),
    ("GetBucketWebsite", "WebsiteConfiguration"),
    ("GetObjectAcl", "AccessControlPolicy"),
    ("GetObjectAttributes", "GetObjectAttributesResponse"),
    ("GetObjectTagging", "Tagging"),
    ("ListBucketAnalyticsConfigurations", "ListBucketAnalyticsConfigurationResult"),
    ("ListBucketIntelligentTieringConfigurations", "ListBucketIntelligentTieringConfigurationsOutput"),
    ("ListBucketInventoryConfigurations", "ListInventoryConfigurationsResult"),
    ("ListBucketMetricsConfigurations", "ListMetricsConfigurationsResult"),
    ("ListBuckets", "ListAllMyBucketsResult"),
    ("ListDirectoryBuckets", "ListAllMyDirectoryBucketsResult"),
    ("ListMultipartUploads", "ListMultipartUploadsResult"),
    ("ListObjectVersions", "ListVersionsResult"),
    ("ListObjects", "ListBucketResult"),
    ("ListObjectsV2", "ListBucketResult"),
    ("ListParts", "ListPartsResult"),
];

/// The root element name of a REST-XML output body, where the service's schema names
/// it differently from the model.
pub(crate) fn xml_root(model: &ServiceModel, operation: &str) -> Option<&'static str> {
    if model.name != "s3" {
        return None;
    }
    S3_ROOTS.iter().find(|(op, _)| *op == operation).map(|(_, root)| *root)
}

/// Operations whose single body member is the text of the root element itself:
/// `<LocationConstraint>eu-west-1</LocationConstraint>`, which SDKs special-case.
pub(crate) fn text_root_member(model: &ServiceModel, operation: &str) -> Option<&'static str> {
    (model.name == "s3" && operation == "GetBucketLocation").then_some("LocationConstraint")
}

/// The model to read and write query-protocol messages with: the service's own, or for
/// SQS a copy carrying its 2012-11-05 query names.
pub(crate) fn query_model(model: &ServiceModel) -> &ServiceModel {
    if model.name != "sqs" {
        return model;
    }
    static SQS: OnceLock<ServiceModel> = OnceLock::new();
    SQS.get_or_init(|| with_sqs_query_names(model))
}

/// List shape -> name of its items.
const SQS_LIST_ITEMS: &[(&str, &str)] = &[
    ("AWSAccountIdList", "AWSAccountId"),
    ("ActionNameList", "ActionName"),
    ("AttributeNameList", "AttributeName"),
    ("BatchResultErrorEntryList", "BatchResultErrorEntry"),
    ("BinaryList", "BinaryListValue"),
    ("ChangeMessageVisibilityBatchRequestEntryList", "ChangeMessageVisibilityBatchRequestEntry"),
    ("ChangeMessageVisibilityBatchResultEntryList", "ChangeMessageVisibilityBatchResultEntry"),
    ("DeleteMessageBatchRequestEntryList", "DeleteMessageBatchRequestEntry"),
    ("DeleteMessageBatchResultEntryList", "DeleteMessageBatchResultEntry"),
    ("ListMessageMoveTasksResultEntryList", "ListMessageMoveTasksResultEntry"),
    ("MessageAttributeNameList", "MessageAttributeName"),
    ("MessageList", "Message"),
    ("MessageSystemAttributeList", "MessageSystemAttributeName"),
    ("QueueUrlList", "QueueUrl"),
    ("SendMessageBatchRequestEntryList", "SendMessageBatchRequestEntry"),
    ("SendMessageBatchResultEntryList", "SendMessageBatchResultEntry"),
    ("StringList", "StringListValue"),
    ("TagKeyList", "TagKey"),
];

/// Map shape -> names of the key and value of its entries.
const SQS_MAP_ENTRIES: &[(&str, &str, &str)] = &[
    ("MessageBodyAttributeMap", "Name", "Value"),
    ("MessageBodySystemAttributeMap", "Name", "Value"),
    ("MessageSystemAttributeMap", "Name", "Value"),
    ("QueueAttributeMap", "Name", "Value"),
    ("TagMap", "Key", "Value"),
];

/// Structure, member -> the member's query name. Every list and map member of SQS is
/// flattened in the query protocol.
const SQS_MEMBERS: &[(&str, &str, &str)] = &[
    ("AddPermissionRequest", "AWSAccountIds", "AWSAccountId"),
    ("AddPermissionRequest", "Actions", "ActionName"),
    ("ChangeMessageVisibilityBatchRequest", "Entries", "ChangeMessageVisibilityBatchRequestEntry"),
    ("ChangeMessageVisibilityBatchResult", "Successful", "ChangeMessageVisibilityBatchResultEntry"),
    ("ChangeMessageVisibilityBatchResult", "Failed", "BatchResultErrorEntry"),
    ("CreateQueueRequest", "Attributes", "Attribute"),
    ("CreateQueueRequest", "tags", "Tag"),
    ("DeleteMessageBatchRequest", "Entries", "DeleteMessageBatchRequestEntry"),
    ("DeleteMessageBatchResult", "Successful", "DeleteMessageBatchResultEntry"),
    ("DeleteMessageBatchResult", "Failed", "BatchResultErrorEntry"),
    ("GetQueueAttributesRequest", "AttributeNames", "AttributeName"),
    ("GetQueueAttributesResult", "Attributes", "Attribute"),
    ("ListDeadLetterSourceQueuesResult", "queueUrls", "QueueUrl"),
    ("ListMessageMoveTasksResult", "Results", "ListMessageMoveTasksResultEntry"),
    ("ListQueueTagsResult", "Tags", "Tag"),
    ("ListQueuesResult", "QueueUrls", "QueueUrl"),
    ("Message", "Attributes", "Attribute"),
    ("Message", "MessageAttributes", "MessageAttribute"),
    ("MessageAttributeValue", "StringListValues", "StringListValue"),
    ("MessageAttributeValue", "BinaryListValues", "BinaryListValue"),
    ("MessageSystemAttributeValue", "StringListValues", "StringListValue"),
    ("MessageSystemAttributeValue", "BinaryListValues", "BinaryListValue"),
    ("ReceiveMessageRequest", "AttributeNames", "AttributeName"),
    ("ReceiveMessageRequest", "MessageSystemAttributeNames", "MessageSystemAttributeName"),
    ("ReceiveMessageRequest", "MessageAttributeNames", "MessageAttributeName"),
    ("ReceiveMessageResult", "Messages", "Message"),
    ("SendMessageBatchRequest", "Entries", "SendMessageBatchRequestEntry"),
    ("SendMessageBatchRequestEntry", "MessageAttributes", "MessageAttribute"),
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes", "MessageSystemAttribute"),
    ("SendMessageBatchResult", "Successful", "SendMessageBatchResultEntry"),
    ("SendMessageBatchResult", "Failed", "BatchResultErrorEntry"),
    ("SendMessageRequest", "MessageAttributes", "MessageAttribute"),
    ("SendMessageRequest", "MessageSystemAttributes", "MessageSystemAttribute"),
    ("SetQueueAttributesRequest", "Attributes", "Attribute"),
    ("TagQueueRequest", "Tags", "Tag"),
    ("UntagQueueRequest", "TagKeys", "TagKey"),
];

fn named(r: &mut ShapeRef, name: &str) {
    r.location_name = Some(name.to_string());
}

fn with_sqs_query_names(model: &ServiceModel) -> ServiceModel {
    let mut m = model.clone();
    for (list, item) in SQS_LIST_ITEMS {
        if let Some(member) = m.shapes.get_mut(*list).and_then(|s| s.member.as_mut()) {
            named(member, item);
        }
    }
    for (map, key, value) in SQS_MAP_ENTRIES {
        if let Some(s) = m.shapes.get_mut(*map) {
            if let Some(k) = s.key.as_mut() {
                named(k, key);
            }
            if let Some(v) = s.value.as_mut() {
                named(v, value);
            }
        }
    }
    for (structure, member, name) in SQS_MEMBERS {
        if let Some(r) = m.shapes.get_mut(*structure).and_then(|s| s.members.get_mut(*member)) {
            named(r, name);
            r.flattened = true;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_query_model_names_its_flattened_members_like_the_2012_query_api() {
        let Some(entry) = kagami_model::service("sqs") else { return };
        let m = query_model(entry.model());
        let attrs = &m.shapes["CreateQueueRequest"].members["Attributes"];
        assert_eq!(attrs.location_name.as_deref(), Some("Attribute"));
        assert_eq!(m.shapes["QueueAttributeMap"].key.as_ref().and_then(|k| k.location_name.as_deref()), Some("Name"));
        assert_eq!(m.shapes["MessageList"].member.as_ref().and_then(|k| k.location_name.as_deref()), Some("Message"));
        assert_eq!(xml_namespace(m), Some("http://queue.amazonaws.com/doc/2012-11-05/"));
        // Every name in the tables exists in the model, so a botocore update that
        // renames a shape fails here rather than silently.
        for (s, _) in SQS_LIST_ITEMS {
            assert!(m.shapes.contains_key(*s), "{s}");
        }
        for (s, ..) in SQS_MAP_ENTRIES {
            assert!(m.shapes.contains_key(*s), "{s}");
        }
        for (s, member, _) in SQS_MEMBERS {
            assert!(m.shapes.get(*s).is_some_and(|x| x.members.contains_key(*member)), "{s}.{member}");
        }
    }
}
