//! Bucket naming rules and LocationConstraint rules of CreateBucket.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>

/// Bucket names are 3 to 63 characters long (general purpose buckets).
const MIN_NAME: usize = 3;
const MAX_NAME: usize = 63;
const RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Whether `name` is a valid general purpose bucket name.
pub fn is_valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.len() < MIN_NAME || b.len() > MAX_NAME {
        return false;
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
    {
        return false;
    }
    let edge_ok = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(b.first()) || !edge_ok(b.last()) {
        return false;
    }
    if name.contains("..") || name.parse::<std::net::Ipv4Addr>().is_ok() {
        return false;
    }
    !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        && !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Why a LocationConstraint is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum LocationError {
    /// `InvalidLocationConstraint`: not a constraint S3 accepts at all here.
    Invalid,
    /// `IllegalLocationConstraintException`: the constraint (or its absence, `None`)
    /// does not match the regional endpoint the request was sent to.
    Illegal(Option<String>),
}

/// Checks the LocationConstraint of a CreateBucket sent to `region`: us-east-1 takes
/// none; every other region requires its own name.
pub fn check_location(region: &str, constraint: Option<&str>) -> Result<(), LocationError> {
    match constraint.filter(|c| !c.is_empty()) {
        None if region == "us-east-1" => Ok(()),
        None => Err(LocationError::Illegal(None)),
        // us-east-1 is never named: buckets there have no constraint.
        Some("us-east-1") => Err(LocationError::Invalid),
        Some(c) if !looks_like_region(c) => Err(LocationError::Invalid),
        Some(c) if c == region => Ok(()),
        Some(c) => Err(LocationError::Illegal(Some(c.to_string()))),
    }
}

/// `EU` is S3's legacy name for eu-west-1; everything else is a region name.
fn looks_like_region(c: &str) -> bool {
    c == "EU"
        || (c.split('-').count() >= 3
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && c.bytes().last().is_some_and(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_the_general_purpose_rules() {
        for ok in ["abc", "my-bucket.logs", "a1-2.b3", &"a".repeat(63)] {
            assert!(is_valid_bucket_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "MyBucket",
            "my_bucket",
            "-bucket",
            "bucket-",
            ".bucket",
            "my..bucket",
            "192.168.5.4",
            "xn--bucket",
            "sthree-x",
            "bucket-s3alias",
            "bucket--ol-s3",
            "",
        ] {
            assert!(!is_valid_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn location_constraint_is_absent_in_us_east_1_and_matching_elsewhere() {
        assert_eq!(check_location("us-east-1", None), Ok(()));
        assert_eq!(check_location("us-east-1", Some("")), Ok(()));
        assert_eq!(
            check_location("us-east-1", Some("us-east-1")),
            Err(LocationError::Invalid)
        );
        assert_eq!(check_location("eu-west-1", Some("eu-west-1")), Ok(()));
        assert_eq!(
            check_location("eu-west-1", None),
            Err(LocationError::Illegal(None))
        );
        assert_eq!(
            check_location("eu-west-1", Some("us-west-2")),
            Err(LocationError::Illegal(Some("us-west-2".into())))
        );
        assert_eq!(
            check_location("us-east-1", Some("eu-west-1")),
            Err(LocationError::Illegal(Some("eu-west-1".into())))
        );
        assert_eq!(
            check_location("eu-west-1", Some("not a region")),
            Err(LocationError::Invalid)
        );
    }
}
