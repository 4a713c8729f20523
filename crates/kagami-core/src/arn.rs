//! The parts of ARNs that depend on where a request is made.

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`, ...), for ARNs of the
/// caller's own account.
pub fn partition_of_region(region: &str) -> &'static str {
    // Longest prefixes first: us-isob- before us-iso-.
    const PARTITIONS: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
    ];
    PARTITIONS.iter().find(|(prefix, _)| region.starts_with(prefix)).map_or("aws", |(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_region_prefixes() {
        assert_eq!(partition_of_region("us-east-1"), "aws");
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition_of_region("us-iso-east-1"), "aws-iso");
        assert_eq!(partition_of_region("eu-isoe-west-1"), "aws-iso-e");
        assert_eq!(partition_of_region(""), "aws");
    }
}
