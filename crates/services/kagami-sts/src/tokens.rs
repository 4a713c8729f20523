//! What STS reads from the identity tokens of federated callers: the claims of an
//! OpenID Connect JWT (AssumeRoleWithWebIdentity) and the subject, issuer, audience
//! and AWS attributes of a SAML 2.0 response (AssumeRoleWithSAML).
//!
//! Signatures are not verified: kagami has no identity providers to fetch keys from,
//! so a well-formed token is trusted as if its issuer had signed it.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha1::{Digest, Sha1};

/// Padding is optional in JWT segments (never present) and in SAML responses (some IdPs strip it).
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const ROLE_SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SESSION_DURATION_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";
const SOURCE_IDENTITY_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SourceIdentity";
const SOURCE_IDENTITY_CLAIM: &str = "https://aws.amazon.com/source_identity";
const NAME_ID_FORMAT_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:";

/// The claims of an OpenID Connect ID token that AssumeRoleWithWebIdentity reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct JwtClaims {
    /// `sub`.
    pub subject: Option<String>,
    /// `aud` (the first one when it is a list).
    pub audience: Option<String>,
    /// `iss`.
    pub issuer: Option<String>,
    /// `exp`, epoch seconds.
    pub expires_at: Option<i64>,
    /// The `https://aws.amazon.com/source_identity` claim.
    pub source_identity: Option<String>,
}

/// The claims of `token` when it is a JWT (`header.payload.signature`, both JSON
/// objects in base64url), else `None` (an OAuth 2.0 access token, or garbage).
pub(crate) fn parse_jwt(token: &str) -> Option<JwtClaims> {
    let mut parts = token.trim().split('.');
    let (header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_LENIENT.decode(header).ok()?).ok()?;
    header.get("alg")?;
    let payload: serde_json::Value = serde_json::from_slice(&URL_SAFE_LENIENT.decode(payload).ok()?).ok()?;
    let claims = payload.as_object()?;
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str).map(str::to_string);
    let audience = match claims.get("aud") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Array(items)) => items.first().and_then(|a| a.as_str()).map(str::to_string),
        _ => None,
    };
    let expires_at = claims.get("exp").and_then(|e| e.as_i64().or_else(|| e.as_f64().map(|f| f as i64)));
    Some(JwtClaims {
        subject: text("sub"),
        audience,
        issuer: text("iss"),
        expires_at,
        source_identity: text(SOURCE_IDENTITY_CLAIM),
    })
}

/// What AssumeRoleWithSAML takes from an assertion.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SamlAssertion {
    pub issuer: Option<String>,
    /// The NameID of the assertion's Subject.
    pub subject: Option<String>,
    /// The NameID Format: `persistent`, `transient`, or the full URI of another format.
    pub subject_type: Option<String>,
    /// The Recipient of the SubjectConfirmationData.
    pub audience: Option<String>,
    pub role_session_name: Option<String>,
    pub session_duration: Option<i64>,
    pub source_identity: Option<String>,
}

impl SamlAssertion {
    /// `BASE64(SHA1(Issuer + AccountId + "/" + ProviderName))`, as AWS documents NameQualifier.
    pub fn name_qualifier(&self, account_id: &str, provider_name: &str) -> Option<String> {
        let issuer = self.issuer.as_deref()?;
        let digest = Sha1::digest(format!("{issuer}{account_id}/{provider_name}").as_bytes());
        Some(base64::engine::general_purpose::STANDARD.encode(digest))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SamlError {
    NotBase64,
    NotXml(String),
}

impl std::fmt::Display for SamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SamlError::NotBase64 => f.write_str("Invalid base64 SAMLResponse"),
            SamlError::NotXml(e) => write!(f, "Invalid SAMLResponse: the decoded assertion is not XML ({e})"),
        }
    }
}

/// Decodes a base64 SAML response (line breaks allowed) and reads what STS reports.
pub(crate) fn parse_saml(encoded: &str) -> Result<SamlAssertion, SamlError> {
    let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let xml = STANDARD_LENIENT.decode(compact.as_bytes()).map_err(|_| SamlError::NotBase64)?;
    // The protocol engine's parser refuses DTDs and nesting deep enough to exhaust the stack.
    let doc = kagami_protocol::parse_untrusted_xml(&xml).map_err(SamlError::NotXml)?;
    let root = doc.root_element();
    // The assertion's own elements win over the enclosing Response's.
    let assertion = root.descendants().find(|n| n.has_tag_name_local("Assertion")).unwrap_or(root);

    let issuer = child_text(assertion, "Issuer").or_else(|| child_text(root, "Issuer"));
    let subject = assertion.children().find(|n| n.has_tag_name_local("Subject"));
    let name_id = subject.and_then(|s| s.children().find(|n| n.has_tag_name_local("NameID")));
    let subject_type = name_id
        .and_then(|n| n.attribute("Format"))
        .map(|format| format.strip_prefix(NAME_ID_FORMAT_PREFIX).unwrap_or(format).to_string());
    let audience = subject
        .and_then(|s| s.descendants().find(|n| n.has_tag_name_local("SubjectConfirmationData")))
        .and_then(|d| d.attribute("Recipient"))
        .map(str::to_string);
    let attribute = |name: &str| {
        assertion
            .descendants()
            .find(|n| n.has_tag_name_local("Attribute") && n.attribute("Name") == Some(name))
            .and_then(|a| a.children().find(|v| v.has_tag_name_local("AttributeValue")))
            .and_then(|v| v.text())
            .map(|t| t.trim().to_string())
    };
    Ok(SamlAssertion {
        issuer,
        subject: name_id.and_then(|n| n.text()).map(|t| t.trim().to_string()),
        subject_type,
        audience,
        role_session_name: attribute(ROLE_SESSION_NAME_ATTRIBUTE),
        session_duration: attribute(SESSION_DURATION_ATTRIBUTE).and_then(|d| d.parse().ok()),
        source_identity: attribute(SOURCE_IDENTITY_ATTRIBUTE),
    })
}

fn child_text(node: roxmltree::Node<'_, '_>, local: &str) -> Option<String> {
    node.children().find(|n| n.has_tag_name_local(local)).and_then(|n| n.text()).map(|t| t.trim().to_string())
}

trait LocalName {
    fn has_tag_name_local(&self, local: &str) -> bool;
}

impl LocalName for roxmltree::Node<'_, '_> {
    fn has_tag_name_local(&self, local: &str) -> bool {
        self.is_element() && self.tag_name().name() == local
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2ln", enc(r#"{"alg":"RS256","typ":"JWT"}"#), enc(payload))
    }

    #[test]
    fn jwt_claims_are_read() {
        let token = jwt(
            r#"{"sub":"user-123456","aud":["client-a","client-b"],"iss":"https://idp.example.com","exp":1700000000}"#,
        );
        let claims = parse_jwt(&token).unwrap_or_default();
        assert_eq!(claims.subject.as_deref(), Some("user-123456"));
        assert_eq!(claims.audience.as_deref(), Some("client-a"));
        assert_eq!(claims.issuer.as_deref(), Some("https://idp.example.com"));
        assert_eq!(claims.expires_at, Some(1_700_000_000));
    }

    #[test]
    fn tokens_that_are_not_jwts_have_no_claims() {
        assert_eq!(parse_jwt("Atza|IQEBLjAsAhRFiXuWpUXuRvQ9PZL3GMFcYevydwIUFAHZwXZ"), None);
        assert_eq!(parse_jwt("a.b.c"), None);
        assert_eq!(parse_jwt("a.b.c.d"), None);
    }

    const SAML: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">
  <Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">https://outer.example.com</Issuer>
  <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">
    <saml:Issuer>https://idp.example.com/saml</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice@example.com</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData Recipient="https://signin.aws.amazon.com/saml"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName">
        <saml:AttributeValue>alice</saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration">
        <saml:AttributeValue>1800</saml:AttributeValue>
      </saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"#;

    #[test]
    fn saml_assertion_fields_are_read() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(SAML);
        let a = parse_saml(&encoded).unwrap_or_default();
        assert_eq!(a.issuer.as_deref(), Some("https://idp.example.com/saml"));
        assert_eq!(a.subject.as_deref(), Some("alice@example.com"));
        assert_eq!(a.subject_type.as_deref(), Some("persistent"));
        assert_eq!(a.audience.as_deref(), Some("https://signin.aws.amazon.com/saml"));
        assert_eq!(a.role_session_name.as_deref(), Some("alice"));
        assert_eq!(a.session_duration, Some(1800));
    }

    #[test]
    fn saml_with_line_breaks_decodes() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(SAML);
        let wrapped: Vec<String> =
            encoded.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        assert_eq!(parse_saml(&wrapped.join("\r\n")), parse_saml(&encoded));
        let a = parse_saml(&wrapped.join("\r\n")).unwrap_or_default();
        assert_eq!(a.role_session_name.as_deref(), Some("alice"));
    }

    /// An assertion may be 100,000 characters; nested that deep, its elements would
    /// overflow the parser's stack (a crash of the whole server) if it reached them.
    #[test]
    fn deeply_nested_saml_is_refused_not_a_crash() {
        // The parser recurses on the way in, before it could notice the missing end tags.
        let xml = "<a>".repeat(24_000);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&xml);
        assert!(encoded.len() <= 100_000, "within the SAMLAssertion length limit");
        assert_eq!(parse_saml(&encoded), Err(SamlError::NotXml("elements nest deeper than 128 levels".into())));
    }

    #[test]
    fn saml_with_a_dtd_is_refused() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>"#;
        let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
        assert!(matches!(parse_saml(&encoded), Err(SamlError::NotXml(_))));
    }

    #[test]
    fn saml_errors_name_the_problem() {
        assert_eq!(parse_saml("!!!not base64!!!"), Err(SamlError::NotBase64));
        let not_xml = base64::engine::general_purpose::STANDARD.encode("hello <");
        assert!(matches!(parse_saml(&not_xml), Err(SamlError::NotXml(_))));
        let not_utf8 = base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, b'<']);
        assert_eq!(parse_saml(&not_utf8), Err(SamlError::NotXml("body is not UTF-8".into())));
    }

    #[test]
    fn name_qualifier_follows_aws_formula() {
        let a = SamlAssertion { issuer: Some("https://example.com/saml".into()), ..Default::default() };
        let expected = base64::engine::general_purpose::STANDARD
            .encode(Sha1::digest(b"https://example.com/saml123456789012/MySAMLIdP"));
        assert_eq!(a.name_qualifier("123456789012", "MySAMLIdP"), Some(expected));
    }
}
