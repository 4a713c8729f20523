//! The ARNs STS reads (roles, SAML and OIDC providers) and writes (assumed roles,
//! federated users). The root user's ARN is the request context's (`caller_arn`).

/// Whether `arn` has the shape AWS requires of any ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`
/// with partition, service and resource present); STS answers `<arn> is invalid` otherwise.
pub(crate) fn is_well_formed(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, service, _, _, resource]
        if !partition.is_empty() && !service.is_empty() && !resource.is_empty())
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`, as AssumeRole* accept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleArn {
    pub partition: String,
    pub account_id: String,
    /// The role's name without its path: assumed-role ARNs carry only the name.
    pub name: String,
}

impl RoleArn {
    pub fn parse(arn: &str) -> Option<RoleArn> {
        // LocalStack accepts `arn:aws:sts::ACCOUNT:role/NAME` too; tests written for it keep working.
        let (partition, account_id, resource) = iam_resource(arn).or_else(|| resource_of(arn, "sts"))?;
        let path_and_name = resource.strip_prefix("role/")?;
        let name = path_and_name.rsplit('/').next().filter(|n| !n.is_empty())?;
        Some(RoleArn { partition: partition.to_string(), account_id: account_id.to_string(), name: name.to_string() })
    }

    /// `arn:aws:sts::111122223333:assumed-role/NAME/SESSION` (the role's path is dropped).
    pub fn assumed_role_arn(&self, session_name: &str) -> String {
        format!("arn:{}:sts::{}:assumed-role/{}/{session_name}", self.partition, self.account_id, self.name)
    }
}

/// `arn:PARTITION:iam::ACCOUNT:saml-provider/NAME`: AssumeRoleWithSAML's PrincipalArn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SamlProviderArn {
    pub account_id: String,
    pub name: String,
}

impl SamlProviderArn {
    pub fn parse(arn: &str) -> Option<SamlProviderArn> {
        let (_, account_id, resource) = iam_resource(arn)?;
        let name = resource.strip_prefix("saml-provider/").filter(|n| !n.is_empty())?;
        Some(SamlProviderArn { account_id: account_id.to_string(), name: name.to_string() })
    }
}

/// Splits an IAM ARN (`arn:P:iam::ACCOUNT:RESOURCE`) into partition, account and resource.
fn iam_resource(arn: &str) -> Option<(&str, &str, &str)> {
    resource_of(arn, "iam")
}

fn resource_of<'a>(arn: &'a str, wanted_service: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let ok = prefix == "arn"
        && !partition.is_empty()
        && service == wanted_service
        && region.is_empty()
        && is_account_id(account);
    ok.then_some((partition, account, resource))
}

pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account an ARN names in its fifth field, when that is an account id.
pub(crate) fn account_of(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let prefix = parts.next()?;
    let account = parts.nth(3)?;
    (prefix == "arn" && is_account_id(account)).then_some(account)
}

pub(crate) fn federated_user_arn(partition: &str, account_id: &str, name: &str) -> String {
    format!("arn:{partition}:sts::{account_id}:federated-user/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arn_keeps_the_name_and_drops_the_path() {
        let r = RoleArn::parse("arn:aws:iam::111122223333:role/service-role/app/Deployer");
        let r = r.unwrap_or_else(|| panic!("valid role ARN rejected"));
        assert_eq!(r.account_id, "111122223333");
        assert_eq!(r.name, "Deployer");
        assert_eq!(r.assumed_role_arn("ci"), "arn:aws:sts::111122223333:assumed-role/Deployer/ci");
    }

    #[test]
    fn role_arn_in_other_partitions_keeps_the_partition() {
        let r = RoleArn::parse("arn:aws-cn:iam::111122223333:role/x").unwrap_or_else(|| panic!("rejected"));
        assert_eq!(r.assumed_role_arn("s"), "arn:aws-cn:sts::111122223333:assumed-role/x/s");
    }

    #[test]
    fn malformed_role_arns_are_rejected() {
        for arn in [
            "arn:aws:iam::111122223333:user/x",
            "arn:aws:iam::1111:role/x",
            "arn:aws:s3:::bucket/role/x",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam:us-east-1:111122223333:role/x",
            "not-an-arn-at-all-really",
        ] {
            assert_eq!(RoleArn::parse(arn), None, "{arn}");
        }
    }

    #[test]
    fn well_formed_arns_have_partition_service_and_resource() {
        assert!(is_well_formed("arn:aws:iam::111122223333:user/x"));
        assert!(is_well_formed("arn:a:b:::c"));
        for arn in [
            "nothing-valid-in-here",
            "arn::b:::something/test-role",
            "arn:a::::something/test-role",
            "arn:a:::something/test-role",
            "arn:a:a::aaaaaaaaaa:",
        ] {
            assert!(!is_well_formed(arn), "{arn}");
        }
    }

    #[test]
    fn sts_role_arns_are_accepted_like_iam_ones() {
        let r = RoleArn::parse("arn:aws:sts::000000000000:role/rd_role").unwrap_or_else(|| panic!("rejected"));
        assert_eq!(r.assumed_role_arn("s"), "arn:aws:sts::000000000000:assumed-role/rd_role/s");
    }

    #[test]
    fn saml_provider_arn_names_account_and_provider() {
        let p = SamlProviderArn::parse("arn:aws:iam::111122223333:saml-provider/Okta");
        assert_eq!(p, Some(SamlProviderArn { account_id: "111122223333".into(), name: "Okta".into() }));
        assert_eq!(SamlProviderArn::parse("arn:aws:iam::111122223333:role/Okta"), None);
    }

    #[test]
    fn account_of_reads_the_account_field() {
        assert_eq!(account_of("arn:aws:iam::111122223333:root"), Some("111122223333"));
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
    }
}
