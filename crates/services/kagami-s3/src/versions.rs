//! The versions of one key, and how a write or a delete changes them under each
//! versioning state: unversioned and suspended buckets overwrite the `null` version;
//! enabled buckets stack a new version; a delete without a version id adds a delete
//! marker where versioning is (or was) on.

use crate::persistence::ObjectRecord;

/// What `versionId=null` and record keys call the version unversioned writes make.
pub const NULL_VERSION: &str = "null";

/// The bucket's versioning state as it governs writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    Unversioned,
    Enabled,
    Suspended,
}

impl Versioning {
    pub fn of(status: Option<&str>) -> Versioning {
        match status {
            Some("Enabled") => Versioning::Enabled,
            Some("Suspended") => Versioning::Suspended,
            _ => Versioning::Unversioned,
        }
    }
}

/// A new version id: 32 characters of the URL-safe alphabet AWS's ids use.
pub fn new_version_id() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    (0..32)
        .map(|_| CHARS[fastrand::usize(..CHARS.len())] as char)
        .collect()
}

/// Whether `id` could name a version: `null`, or an id of `new_version_id`'s form. S3
/// answers any other id with InvalidArgument before it looks for the object.
pub fn is_well_formed_version_id(id: &str) -> bool {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    id == NULL_VERSION || (id.len() == 32 && id.bytes().all(|b| CHARS.contains(&b)))
}

/// Whether `id` names `record`'s version (`null` names the null version).
pub fn is_version(record: &ObjectRecord, id: &str) -> bool {
    match &record.version_id {
        Some(v) => v == id,
        None => id == NULL_VERSION,
    }
}

/// The version id as S3 reports it: the null version is reported as `null` only in
/// buckets that have had versioning; callers decide whether to show it.
pub fn reported_id(record: &ObjectRecord) -> String {
    record
        .version_id
        .clone()
        .unwrap_or_else(|| NULL_VERSION.to_string())
}

/// The versions of one key, oldest first.
#[derive(Debug, Clone, Default)]
pub struct ObjectVersions {
    pub versions: Vec<ObjectRecord>,
}

impl ObjectVersions {
    /// The newest version, which may be a delete marker.
    pub fn latest(&self) -> Option<&ObjectRecord> {
        self.versions.last()
    }

    /// The object a plain GET sees: the newest version unless it is a delete marker.
    pub fn current(&self) -> Option<&ObjectRecord> {
        self.latest().filter(|r| !r.delete_marker)
    }

    pub fn find(&self, version_id: &str) -> Option<&ObjectRecord> {
        self.versions.iter().find(|r| is_version(r, version_id))
    }

    pub fn find_mut(&mut self, version_id: &str) -> Option<&mut ObjectRecord> {
        self.versions.iter_mut().find(|r| is_version(r, version_id))
    }

    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// Adds `record` as the newest version, giving it the version id the bucket's state
    /// calls for. Returns the version it displaces (the old `null` version), if any.
    pub fn push(&mut self, mut record: ObjectRecord, versioning: Versioning) -> Option<ObjectRecord> {
        let displaced = match versioning {
            Versioning::Enabled => {
                record.version_id = Some(new_version_id());
                None
            }
            Versioning::Unversioned | Versioning::Suspended => {
                record.version_id = None;
                self.remove(NULL_VERSION)
            }
        };
        self.versions.push(record);
        displaced
    }

    /// Removes the version `version_id` for good.
    pub fn remove(&mut self, version_id: &str) -> Option<ObjectRecord> {
        let at = self.versions.iter().position(|r| is_version(r, version_id))?;
        Some(self.versions.remove(at))
    }

    /// Versions newest first, as ListObjectVersions reports them.
    pub fn newest_first(&self) -> impl Iterator<Item = &ObjectRecord> {
        self.versions.iter().rev()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(etag: &str) -> ObjectRecord {
        ObjectRecord {
            etag: etag.into(),
            ..Default::default()
        }
    }

    #[test]
    fn unversioned_writes_replace_the_null_version() {
        let mut v = ObjectVersions::default();
        assert!(v.push(object("a"), Versioning::Unversioned).is_none());
        let displaced = v.push(object("b"), Versioning::Unversioned);
        assert_eq!(displaced.map(|r| r.etag), Some("a".into()));
        assert_eq!(v.versions.len(), 1);
        assert_eq!(v.current().map(|r| r.etag.as_str()), Some("b"));
    }

    #[test]
    fn enabled_writes_stack_versions_and_suspended_ones_replace_only_null() {
        let mut v = ObjectVersions::default();
        v.push(object("null-1"), Versioning::Unversioned);
        v.push(object("v1"), Versioning::Enabled);
        let id = v.latest().and_then(|r| r.version_id.clone()).unwrap();
        assert_eq!(id.len(), 32);
        assert_eq!(v.versions.len(), 2);
        let displaced = v.push(object("null-2"), Versioning::Suspended);
        assert_eq!(displaced.map(|r| r.etag), Some("null-1".into()));
        let etags: Vec<_> = v.newest_first().map(|r| r.etag.as_str()).collect();
        assert_eq!(etags, ["null-2", "v1"]);
        assert_eq!(v.find(&id).map(|r| r.etag.as_str()), Some("v1"));
        assert_eq!(v.find("null").map(|r| r.etag.as_str()), Some("null-2"));
    }

    #[test]
    fn a_delete_marker_hides_the_object_from_plain_reads() {
        let mut v = ObjectVersions::default();
        v.push(object("v1"), Versioning::Enabled);
        v.push(
            ObjectRecord {
                delete_marker: true,
                ..Default::default()
            },
            Versioning::Enabled,
        );
        assert!(v.current().is_none());
        assert!(v.latest().is_some_and(|r| r.delete_marker));
    }
}
