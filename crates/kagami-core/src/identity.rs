//! Credentials kagami knows: the default `test`/`test` key, and temporary keys that STS
//! issued. The gateway resolves each request's access key here to its account and
//! principal (and, when verifying signatures, its secret).

use crate::context::Principal;
use crate::store::{Store, StoreOp};
use crate::{DEFAULT_ACCOUNT_ID, clock};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

const TABLE: &str = "core/credentials";

/// A key pair with what it acts as.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub account_id: String,
    pub principal: StoredPrincipal,
    /// Emulated-clock milliseconds; `None` for long-term keys.
    pub expires_at_millis: Option<i64>,
}

/// [`Principal`] in a form the store can keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind")]
pub enum StoredPrincipal {
    Root,
    User { arn: String, user_id: String },
    AssumedRole { arn: String, role_id: String, session_name: String },
    FederatedUser { arn: String, user_id: String },
}

impl From<&StoredPrincipal> for Principal {
    fn from(p: &StoredPrincipal) -> Self {
        match p.clone() {
            StoredPrincipal::Root => Principal::Root,
            StoredPrincipal::User { arn, user_id } => Principal::User { arn, user_id },
            StoredPrincipal::AssumedRole { arn, role_id, session_name } => {
                Principal::AssumedRole { arn, role_id, session_name }
            }
            StoredPrincipal::FederatedUser { arn, user_id } => Principal::FederatedUser { arn, user_id },
        }
    }
}

/// How a request's access key resolves.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub account_id: String,
    pub principal: Principal,
    /// Known secret (for signature verification); `None` for unknown keys.
    pub secret_access_key: Option<String>,
    pub expired: bool,
}

#[derive(Clone)]
pub struct Identities {
    inner: Arc<Inner>,
}

struct Inner {
    keys: RwLock<HashMap<String, Credential>>,
    default_account: String,
    store: Store,
}

/// The key pair every emulator accepts out of the box.
pub const DEFAULT_ACCESS_KEY: &str = "test";
pub const DEFAULT_SECRET_KEY: &str = "test";

impl Identities {
    /// The credentials issued before a restart, from the store.
    pub fn load(store: &Store, default_account: &str) -> Result<Self, crate::StoreError> {
        let keys = store.scan_json::<Credential>(TABLE)?.into_iter().map(|(_, c)| (c.access_key_id.clone(), c)).collect();
        Ok(Identities::with_keys(keys, store.clone(), default_account))
    }

    /// No issued credentials, nothing kept: for tests and ephemeral runs.
    pub fn ephemeral() -> Self {
        Identities::with_keys(HashMap::new(), Store::ephemeral(), DEFAULT_ACCOUNT_ID)
    }

    fn with_keys(keys: HashMap<String, Credential>, store: Store, default_account: &str) -> Self {
        Identities { inner: Arc::new(Inner { keys: RwLock::new(keys), default_account: default_account.into(), store }) }
    }

    pub fn default_account(&self) -> &str {
        &self.inner.default_account
    }

    /// Resolves an access key. Unknown keys act as the root user of an account: the
    /// key itself when it is 12 digits (LocalStack's convention), else the default.
    pub fn resolve(&self, access_key_id: &str) -> Resolved {
        if let Some(c) = self.inner.keys.read().get(access_key_id) {
            let expired = c.expires_at_millis.is_some_and(|t| t <= clock::now_millis());
            return Resolved {
                account_id: c.account_id.clone(),
                principal: Principal::from(&c.principal),
                secret_access_key: Some(c.secret_access_key.clone()),
                expired,
            };
        }
        let account_id = if access_key_id.len() == 12 && access_key_id.bytes().all(|b| b.is_ascii_digit()) {
            access_key_id.to_string()
        } else {
            self.inner.default_account.clone()
        };
        let secret = (access_key_id == DEFAULT_ACCESS_KEY || account_id == access_key_id)
            .then(|| DEFAULT_SECRET_KEY.to_string());
        Resolved { account_id, principal: Principal::Root, secret_access_key: secret, expired: false }
    }

    pub fn get(&self, access_key_id: &str) -> Option<Credential> {
        self.inner.keys.read().get(access_key_id).cloned()
    }

    /// Registers issued credentials; durable before the returned future resolves.
    pub async fn insert(&self, c: Credential) -> Result<(), crate::StoreError> {
        let commit = {
            let mut keys = self.inner.keys.write();
            let commit = self.inner.store.submit(vec![StoreOp::put_json(TABLE, c.access_key_id.clone(), &c)]);
            keys.insert(c.access_key_id.clone(), c);
            commit
        };
        commit.wait().await
    }

    pub async fn reset(&self) -> Result<(), crate::StoreError> {
        let commit = {
            let mut keys = self.inner.keys.write();
            keys.clear();
            self.inner.store.submit(vec![StoreOp::delete_prefix(TABLE, "")])
        };
        commit.wait().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(key: &str, expires_at_millis: Option<i64>) -> Credential {
        Credential {
            access_key_id: key.into(),
            secret_access_key: format!("{key}-secret"),
            session_token: Some("token".into()),
            account_id: "111111111111".into(),
            principal: StoredPrincipal::AssumedRole {
                arn: "arn:aws:sts::111111111111:assumed-role/r/s".into(),
                role_id: "AROAEXAMPLE".into(),
                session_name: "s".into(),
            },
            expires_at_millis,
        }
    }

    // Expiry is checked against the emulated clock, which other tests may advance
    // while this one runs: the live key is given years, the expired one the past.
    #[tokio::test]
    async fn issued_keys_act_as_their_principal_and_report_expiry() {
        let ids = Identities::ephemeral();
        let now = clock::now_millis();
        let ten_years = 10 * 365 * 86_400_000;
        ids.insert(session("ASIALIVE", Some(now + ten_years))).await.unwrap();
        ids.insert(session("ASIAGONE", Some(now - 1))).await.unwrap();
        ids.insert(session("AKIALONGTERM", None)).await.unwrap();
        let live = ids.resolve("ASIALIVE");
        assert_eq!(live.account_id, "111111111111");
        assert_eq!(live.secret_access_key.as_deref(), Some("ASIALIVE-secret"));
        assert!(matches!(live.principal, Principal::AssumedRole { ref session_name, .. } if session_name == "s"));
        assert!(!live.expired);
        let gone = ids.resolve("ASIAGONE");
        assert!(gone.expired, "an expired key still resolves, so the gateway can answer ExpiredToken");
        assert_eq!(gone.account_id, "111111111111");
        assert!(!ids.resolve("AKIALONGTERM").expired, "long-term keys never expire");

        ids.reset().await.unwrap();
        let forgotten = ids.resolve("ASIALIVE");
        assert_eq!((forgotten.account_id.as_str(), forgotten.principal), (DEFAULT_ACCOUNT_ID, Principal::Root));
        assert_eq!(forgotten.secret_access_key, None);
    }

    #[tokio::test]
    async fn issued_keys_survive_a_restart_and_a_reset_forgets_them_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let credential = session("ASIADURABLE", Some(i64::MAX));
        {
            let store = Store::open(dir.path()).unwrap();
            Identities::load(&store, "222222222222").unwrap().insert(credential.clone()).await.unwrap();
        }
        {
            let store = Store::open(dir.path()).unwrap();
            let ids = Identities::load(&store, "222222222222").unwrap();
            assert_eq!(ids.get("ASIADURABLE"), Some(credential));
            assert_eq!(ids.resolve("AKIAUNKNOWN").account_id, "222222222222");
            ids.reset().await.unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(Identities::load(&store, "222222222222").unwrap().get("ASIADURABLE"), None);
    }

    #[test]
    fn twelve_digit_keys_are_accounts_and_others_use_the_default() {
        let ids = Identities::ephemeral();
        assert_eq!(ids.resolve("111122223333").account_id, "111122223333");
        assert_eq!(ids.resolve("test").account_id, DEFAULT_ACCOUNT_ID);
        assert_eq!(ids.resolve("AKIAEXAMPLE").account_id, DEFAULT_ACCOUNT_ID);
        assert_eq!(ids.resolve("test").secret_access_key.as_deref(), Some("test"));
    }
}
