//! The storage API over the repository tier's local storage adapters.

use std::sync::Arc;

use arcana_domain::plugin::PluginKey;
use arcana_domain::{Email, UserId, Username};
use arcana_ports::StoreError;
use arcana_ports::audit::AuditLog;
use arcana_ports::plugins::PluginKv;
use arcana_ports::sessions::SessionStore;
use arcana_ports::users::UserRepository;
use async_trait::async_trait;

use super::{Call, InternalApi, Refusal};
use crate::convert::{self, parsed, time};
use crate::failure;
use crate::wire;

const STORAGE: &str = "arcana.internal.v1.Storage";

/// What the repository tier serves: its storage adapters, nothing else.
pub struct StorageApi {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionStore>,
    pub audit: Arc<dyn AuditLog>,
    pub plugin_kv: Arc<dyn PluginKv>,
}

fn store(error: &StoreError) -> Refusal {
    Refusal::Failed(failure::from_store(error))
}

fn malformed(err: &anyhow::Error) -> Refusal {
    Refusal::Failed(failure::malformed(err))
}

#[async_trait]
impl InternalApi for StorageApi {
    fn services(&self) -> &'static [&'static str] {
        &[STORAGE]
    }

    async fn handle(&self, _service: &str, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        match method {
            "InsertUser" | "UpdateUser" | "FindUserById" | "FindUserByUsername"
            | "FindUserByEmail" | "ListUsers" => self.users(method, call).await,
            "CreateSession" | "FindSession" | "RotateSession" | "RevokeSession"
            | "RevokeUserSessions" => self.sessions(method, call).await,
            "ListLiveSessions" | "DenyAccessToken" | "IsAccessTokenDenied" | "PurgeExpired" => {
                self.session_queries(method, call).await
            }
            "AppendAudit" | "QueryAudit" => self.audit(method, call).await,
            "GetPluginValue" | "PutPluginValue" | "DeletePluginValue" | "ListPluginKeys" => {
                self.plugin_kv(method, call).await
            }
            _ => Err(Refusal::UnknownMethod),
        }
    }
}

impl StorageApi {
    async fn users(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let users = &self.users;
        let found = |user: Option<arcana_domain::User>| wire::MaybeUser {
            user: user.as_ref().map(convert::user_record),
        };
        match method {
            "InsertUser" => {
                let user = convert::user(call.decode()?).map_err(|e| malformed(&e))?;
                users.insert(&user).await.map_err(|e| store(&e))?;
                call.reply(&wire::Empty {})
            }
            "UpdateUser" => {
                let user = convert::user(call.decode()?).map_err(|e| malformed(&e))?;
                let stored = users.update(&user).await.map_err(|e| store(&e))?;
                call.reply(&convert::user_record(&stored))
            }
            "FindUserById" => {
                let key: wire::Id = call.decode()?;
                let id = parsed("value", UserId::parse(&key.value)).map_err(|e| malformed(&e))?;
                let user = users.find_by_id(id).await.map_err(|e| store(&e))?;
                call.reply(&found(user))
            }
            "FindUserByUsername" => {
                let key: wire::Text = call.decode()?;
                let name =
                    parsed("value", Username::parse(&key.value)).map_err(|e| malformed(&e))?;
                let user = users.find_by_username(&name).await.map_err(|e| store(&e))?;
                call.reply(&found(user))
            }
            "FindUserByEmail" => {
                let key: wire::Text = call.decode()?;
                let email = parsed("value", Email::parse(&key.value)).map_err(|e| malformed(&e))?;
                let user = users.find_by_email(&email).await.map_err(|e| store(&e))?;
                call.reply(&found(user))
            }
            _ => {
                let query = convert::query(call.decode()?).map_err(|e| malformed(&e))?;
                let page = users.list(&query).await.map_err(|e| store(&e))?;
                call.reply(&wire::UserRecords {
                    items: page.iter().map(convert::user_record).collect(),
                })
            }
        }
    }

    async fn sessions(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let sessions = &self.sessions;
        let bad = |e: anyhow::Error| malformed(&e);
        match method {
            "CreateSession" => {
                let session = convert::session(call.decode()?).map_err(bad)?;
                sessions.create(&session).await.map_err(|e| store(&e))?;
                call.reply(&wire::Empty {})
            }
            "FindSession" => {
                let key: wire::Id = call.decode()?;
                let id = convert::session_id("value", &key.value).map_err(bad)?;
                let session = sessions.find(id).await.map_err(|e| store(&e))?;
                call.reply(&wire::MaybeSession {
                    session: session.as_ref().map(convert::session_record),
                })
            }
            "RotateSession" => {
                let request: wire::RotateSession = call.decode()?;
                let expected =
                    convert::token_hash("expected_hash", &request.expected_hash).map_err(bad)?;
                let next = request
                    .next
                    .ok_or_else(|| anyhow::anyhow!("next is missing"))
                    .and_then(convert::session)
                    .map_err(bad)?;
                let swapped = sessions
                    .rotate(&expected, &next)
                    .await
                    .map_err(|e| store(&e))?;
                call.reply(&wire::Flag { value: swapped })
            }
            "RevokeSession" => {
                let request: wire::RevokeSession = call.decode()?;
                let id = convert::session_id("id", &request.id).map_err(bad)?;
                let now = time("now_us", request.now_us).map_err(bad)?;
                let revoked = sessions.revoke(id, now).await.map_err(|e| store(&e))?;
                call.reply(&wire::Flag { value: revoked })
            }
            "RevokeUserSessions" => {
                let request: wire::RevokeUserSessions = call.decode()?;
                let user = parsed("user_id", UserId::parse(&request.user_id)).map_err(bad)?;
                let keep = request
                    .keep
                    .as_deref()
                    .map(|id| convert::session_id("keep", id))
                    .transpose()
                    .map_err(bad)?;
                let now = time("now_us", request.now_us).map_err(bad)?;
                let revoked = sessions
                    .revoke_all_for_user(user, keep, now)
                    .await
                    .map_err(|e| store(&e))?;
                call.reply(&wire::Ids {
                    values: revoked.iter().map(ToString::to_string).collect(),
                })
            }
            _ => Err(Refusal::UnknownMethod),
        }
    }

    /// Live-session listings, the access-token deny-list and the expiry sweep.
    async fn session_queries(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let sessions = &self.sessions;
        let bad = |e: anyhow::Error| malformed(&e);
        match method {
            "ListLiveSessions" => {
                let request: wire::LiveSessions = call.decode()?;
                let user = parsed("user_id", UserId::parse(&request.user_id)).map_err(bad)?;
                let now = time("now_us", request.now_us).map_err(bad)?;
                let live = sessions
                    .list_live_for_user(user, now)
                    .await
                    .map_err(|e| store(&e))?;
                call.reply(&wire::SessionRecords {
                    items: live.iter().map(convert::session_record).collect(),
                })
            }
            "DenyAccessToken" => {
                let request: wire::DenyAccessToken = call.decode()?;
                let until = time("until_us", request.until_us).map_err(bad)?;
                sessions
                    .deny_access_token(&request.token_id, until)
                    .await
                    .map_err(|e| store(&e))?;
                call.reply(&wire::Empty {})
            }
            "IsAccessTokenDenied" => {
                let request: wire::AccessTokenCheck = call.decode()?;
                let now = time("now_us", request.now_us).map_err(bad)?;
                let denied = sessions
                    .is_access_token_denied(&request.token_id, now)
                    .await
                    .map_err(|e| store(&e))?;
                call.reply(&wire::Flag { value: denied })
            }
            _ => {
                let request: wire::At = call.decode()?;
                let now = time("now_us", request.now_us).map_err(bad)?;
                let purged = sessions.purge_expired(now).await.map_err(|e| store(&e))?;
                call.reply(&wire::Count { value: purged })
            }
        }
    }

    async fn audit(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let bad = |e: anyhow::Error| malformed(&e);
        if method == "AppendAudit" {
            let entry = convert::audit_entry(call.decode()?).map_err(bad)?;
            self.audit.append(&entry).await.map_err(|e| store(&e))?;
            return call.reply(&wire::Empty {});
        }
        let query = convert::query_of_audit(call.decode()?).map_err(bad)?;
        let entries = self.audit.query(&query).await.map_err(|e| store(&e))?;
        call.reply(&wire::AuditRecords {
            items: entries.iter().map(convert::audit_record).collect(),
        })
    }

    async fn plugin_kv(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let kv = &self.plugin_kv;
        let bad = |e: anyhow::Error| malformed(&e);
        match method {
            "GetPluginValue" => {
                let (plugin, key) = convert::plugin_and_key(&call.decode()?).map_err(bad)?;
                let value = kv.get(&plugin, &key).await.map_err(|e| store(&e))?;
                call.reply(&wire::MaybePluginValue { value })
            }
            "PutPluginValue" => {
                let request: wire::PluginValue = call.decode()?;
                let plugin = convert::plugin_name("plugin", &request.plugin).map_err(bad)?;
                let key = parsed("key", PluginKey::parse(&request.key)).map_err(bad)?;
                kv.put(&plugin, &key, &request.value)
                    .await
                    .map_err(|e| store(&e))?;
                call.reply(&wire::Empty {})
            }
            "DeletePluginValue" => {
                let (plugin, key) = convert::plugin_and_key(&call.decode()?).map_err(bad)?;
                let deleted = kv.delete(&plugin, &key).await.map_err(|e| store(&e))?;
                call.reply(&wire::Flag { value: deleted })
            }
            _ => {
                let request: wire::PluginKeyQuery = call.decode()?;
                let plugin = convert::plugin_name("plugin", &request.plugin).map_err(bad)?;
                let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
                let keys = kv
                    .keys(&plugin, &request.prefix, limit)
                    .await
                    .map_err(|e| store(&e))?;
                call.reply(&convert::plugin_keys(&keys))
            }
        }
    }
}
