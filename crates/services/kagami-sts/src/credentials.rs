//! Temporary credentials in AWS's formats. Each issued key pair is registered with
//! the gateway's [`Identities`](kagami_core::identity::Identities), so later requests
//! signed with it act as the principal it was issued for, in that principal's account.

use crate::arn::RoleArn;
use kagami_core::identity::{Credential, StoredPrincipal};
use kagami_core::{Timestamp, clock, ids};
use sha2::{Digest, Sha256};

/// Temporary (STS-issued) access key ids start with `ASIA`, long-term ones with `AKIA`.
pub(crate) const TEMPORARY_KEY_PREFIX: &str = "ASIA";
/// Unique ids of IAM roles start with `AROA`.
pub(crate) const ROLE_ID_PREFIX: &str = "AROA";
#[cfg(test)]
const KEY_ID_SUFFIX_LEN: usize = 16;
const ROLE_ID_SUFFIX_LEN: usize = 17;
const SECRET_ACCESS_KEY_LEN: usize = 40;
/// AWS's session tokens are base64 of a binary structure; this is how they begin today.
const SESSION_TOKEN_PREFIX: &str = "IQoJb3JpZ2luX2Vj";
const DEFAULT_SESSION_TOKEN_LEN: usize = 448;
/// "As of this writing, the typical size is less than 4096 bytes" (Credentials docs);
/// also the largest MinimumSessionTokenSize the model allows.
pub(crate) const MAX_SESSION_TOKEN_SIZE: usize = 4096;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A key pair as the response's `Credentials` element shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: Timestamp,
}

impl Issued {
    pub fn session_token_size(&self) -> usize {
        self.session_token.len()
    }

    /// Percentage (0-100) of the largest session token the token uses.
    pub fn session_token_utilization(&self) -> usize {
        (self.session_token.len() * 100).div_ceil(MAX_SESSION_TOKEN_SIZE).min(100)
    }
}

/// New temporary credentials for `principal` of `account_id`, valid for `duration_secs`
/// from now on the emulated clock.
pub(crate) fn issue(
    account_id: &str,
    principal: StoredPrincipal,
    duration_secs: i64,
    min_token_size: usize,
) -> (Credential, Issued) {
    let (expires_secs, expires_at_millis) = expiry(clock::now_secs(), duration_secs);
    let issued = Issued {
        access_key_id: access_key_id(account_id),
        secret_access_key: ids::secret(SECRET_ACCESS_KEY_LEN),
        session_token: session_token(min_token_size.max(DEFAULT_SESSION_TOKEN_LEN)),
        expiration: Timestamp::from_secs(expires_secs),
    };
    let credential = Credential {
        access_key_id: issued.access_key_id.clone(),
        secret_access_key: issued.secret_access_key.clone(),
        session_token: Some(issued.session_token.clone()),
        account_id: account_id.to_string(),
        principal,
        expires_at_millis: Some(expires_at_millis),
    };
    (credential, issued)
}

/// When credentials issued at `now_secs` expire, in whole seconds (as AWS reports
/// expirations) and in milliseconds. Saturating: a test may have advanced the
/// emulated clock to the end of time.
fn expiry(now_secs: i64, duration_secs: i64) -> (i64, i64) {
    let secs = now_secs.saturating_add(duration_secs);
    (secs, secs.saturating_mul(1000))
}

/// `ASIA` and 16 base32 characters that carry the account id the way AWS's own key ids
/// do (bits 1..41 of the first six decoded bytes), so tools that derive the account
/// from a key id agree with GetAccessKeyInfo.
pub(crate) fn access_key_id(account_id: &str) -> String {
    let mut bytes = [0u8; 10];
    for b in &mut bytes {
        *b = fastrand::u8(..);
    }
    if let Some(account) = account_id.parse::<u64>().ok().filter(|a| *a < (1 << 40)) {
        let head = (u64::from(fastrand::bool()) << 47) | (account << 7) | u64::from(fastrand::u8(..0x80));
        bytes[..6].copy_from_slice(&head.to_be_bytes()[2..]);
    }
    format!("{TEMPORARY_KEY_PREFIX}{}", base32(&bytes))
}

/// The account id encoded in an AWS-format access key id (how tools read it; kagami
/// itself resolves keys through its identities) (`AKIA`/`ASIA` + 16 base32
/// characters), or `None` for keys in any other format.
#[cfg(test)]
pub(crate) fn account_in_access_key_id(access_key_id: &str) -> Option<String> {
    let rest = access_key_id.strip_prefix("AKIA").or_else(|| access_key_id.strip_prefix("ASIA"))?;
    if rest.len() != KEY_ID_SUFFIX_LEN {
        return None;
    }
    let bytes = base32_decode(rest)?;
    let mut head = [0u8; 8];
    head[2..].copy_from_slice(bytes.get(..6)?);
    let account = (u64::from_be_bytes(head) & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

/// A role's unique id (`AROA` + 17 characters), stable for the role's ARN so that every
/// session of one role reports the same AssumedRoleId prefix.
pub(crate) fn role_id(role: &RoleArn) -> String {
    let digest = Sha256::digest(format!("{}:{}:{}", role.partition, role.account_id, role.name).as_bytes());
    let suffix: String = base32(&digest).chars().take(ROLE_ID_SUFFIX_LEN).collect();
    format!("{ROLE_ID_PREFIX}{suffix}")
}

fn session_token(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut token = String::with_capacity(len);
    token.push_str(SESSION_TOKEN_PREFIX);
    while token.len() < len {
        token.push(char::from(CHARS[fastrand::usize(..CHARS.len())]));
    }
    token
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = BASE32.iter().position(|&b| b == c)? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_ids_are_asia_and_sixteen_base32_characters() {
        let key = access_key_id("111122223333");
        assert_eq!(key.len(), 20);
        assert!(key.starts_with("ASIA"));
        assert!(key[4..].bytes().all(|b| BASE32.contains(&b)), "{key}");
    }

    #[test]
    fn access_key_ids_carry_their_account() {
        for account in ["111122223333", "000000000000", "999999999999", "123456789012"] {
            let key = access_key_id(account);
            assert_eq!(account_in_access_key_id(&key).as_deref(), Some(account), "{key}");
        }
    }

    #[test]
    fn account_is_decoded_from_aws_documentation_key() {
        // The key id from AWS's documentation examples decodes like any other AKIA key:
        // the result is whatever account its bits name, twelve digits long.
        let account = account_in_access_key_id("AKIAIOSFODNN7EXAMPLE");
        assert_eq!(account.map(|a| a.len()), Some(12));
        assert_eq!(account_in_access_key_id("test"), None);
        assert_eq!(account_in_access_key_id("AKIA0000000000000000"), None);
    }

    #[test]
    fn secrets_and_tokens_have_aws_shapes() {
        let (credential, issued) = issue("111122223333", StoredPrincipal::Root, 900, 0);
        assert_eq!(issued.secret_access_key.len(), 40);
        assert!(issued.session_token.starts_with(SESSION_TOKEN_PREFIX));
        assert_eq!(issued.session_token.len(), DEFAULT_SESSION_TOKEN_LEN);
        assert_eq!(credential.session_token.as_deref(), Some(issued.session_token.as_str()));
        assert_eq!(credential.account_id, "111122223333");
    }

    #[test]
    fn expiration_is_duration_from_now_in_whole_seconds() {
        let before = clock::now_secs();
        let (credential, issued) = issue("111122223333", StoredPrincipal::Root, 3600, 0);
        assert_eq!(issued.expiration.nanos, 0);
        assert!(issued.expiration.secs >= before + 3600 && issued.expiration.secs <= clock::now_secs() + 3600);
        assert_eq!(credential.expires_at_millis, Some(issued.expiration.secs * 1000));
    }

    #[test]
    fn expiry_saturates_at_the_end_of_the_emulated_clock() {
        assert_eq!(expiry(1_700_000_000, 900), (1_700_000_900, 1_700_000_900_000));
        let end = i64::MAX / 1000;
        assert_eq!(expiry(end, 43_200), (end + 43_200, i64::MAX));
        assert_eq!(expiry(i64::MAX, 43_200), (i64::MAX, i64::MAX));
    }

    #[test]
    fn minimum_session_token_size_grows_the_token() {
        let (_, issued) = issue("111122223333", StoredPrincipal::Root, 900, 2048);
        assert_eq!(issued.session_token_size(), 2048);
        assert_eq!(issued.session_token_utilization(), 50);
    }

    #[test]
    fn role_ids_are_stable_per_role() {
        let a = RoleArn::parse("arn:aws:iam::111122223333:role/a").unwrap_or_else(|| panic!("rejected"));
        let b = RoleArn::parse("arn:aws:iam::111122223333:role/b").unwrap_or_else(|| panic!("rejected"));
        assert_eq!(role_id(&a), role_id(&a));
        assert_ne!(role_id(&a), role_id(&b));
        assert_eq!(role_id(&a).len(), 21);
        assert!(role_id(&a).starts_with("AROA"));
    }

    #[test]
    fn base32_round_trips() {
        let bytes = [0u8, 1, 2, 250, 255, 17, 42, 99, 128, 7];
        assert_eq!(base32_decode(&base32(&bytes)), Some(bytes.to_vec()));
    }
}
