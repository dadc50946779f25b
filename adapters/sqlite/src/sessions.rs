//! `SessionStore` on SQLite: refresh-token families, rotated by a single conditional UPDATE, and
//! the access-token deny list.

use arcana_domain::session::{ClientInfo, Session, TokenHash};
use arcana_domain::{SessionId, UserId};
use arcana_ports::StoreError;
use arcana_ports::sessions::SessionStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqlitePool};
use uuid::Uuid;

use crate::codec::{micros, opt_micros, opt_time, time};
use crate::error::{invalid_row, store_error};

/// Every column of `sessions`, followed by the rest of the statement.
macro_rules! select_sessions {
    ($rest:literal) => {
        concat!(
            "SELECT id, user_id, created_at, last_used_at, expires_at, idle_expires_at, ",
            "revoked_at, user_agent, ip, refresh_hash, previous_hash, rotated_at FROM sessions ",
            $rest
        )
    };
}

const INSERT: &str = "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, \
    idle_expires_at, revoked_at, user_agent, ip, refresh_hash, previous_hash, rotated_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/// The compare-and-swap: one statement tests the current hash and writes, so SQLite's single
/// writer makes it atomic — of concurrent rotations with one token exactly one changes the row.
const ROTATE: &str = "UPDATE sessions SET user_id = ?2, created_at = ?3, last_used_at = ?4, \
    expires_at = ?5, idle_expires_at = ?6, revoked_at = ?7, user_agent = ?8, ip = ?9, \
    refresh_hash = ?10, previous_hash = ?11, rotated_at = ?12 \
    WHERE id = ?1 AND refresh_hash = ?13 AND revoked_at IS NULL";

const FIND: &str = select_sessions!("WHERE id = ?1");

const LIST_LIVE: &str = select_sessions!(
    "WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 AND idle_expires_at > ?2 \
     ORDER BY last_used_at DESC, id DESC"
);

const REVOKE: &str = "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";

const REVOKE_ALL: &str = "UPDATE sessions SET revoked_at = ?3 \
    WHERE user_id = ?1 AND revoked_at IS NULL AND (?2 IS NULL OR id <> ?2) RETURNING id";

const DENY: &str = "INSERT INTO access_denylist (token_id, expires_at) VALUES (?1, ?2) \
    ON CONFLICT (token_id) DO UPDATE SET expires_at = excluded.expires_at";

const IS_DENIED: &str =
    "SELECT EXISTS (SELECT 1 FROM access_denylist WHERE token_id = ?1 AND expires_at > ?2)";

const PURGE_SESSIONS: &str = "DELETE FROM sessions \
    WHERE revoked_at IS NOT NULL OR expires_at <= ?1 OR idle_expires_at <= ?1";

const PURGE_DENIALS: &str = "DELETE FROM access_denylist WHERE expires_at <= ?1";

#[derive(Debug, Clone)]
pub struct SqliteSessionStore {
    pool: SqlitePool,
}

impl SqliteSessionStore {
    pub(crate) fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    async fn execute(
        &self,
        query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
        doing: &'static str,
    ) -> Result<u64, StoreError> {
        let done = query
            .execute(&self.pool)
            .await
            .map_err(|err| store_error(err, doing))?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let query = sqlx::query(INSERT)
            .bind(*session.id.as_uuid())
            .bind(*session.user_id.as_uuid())
            .bind(micros(session.created_at))
            .bind(micros(session.last_used_at))
            .bind(micros(session.expires_at))
            .bind(micros(session.idle_expires_at))
            .bind(opt_micros(session.revoked_at))
            .bind(session.client.user_agent.clone())
            .bind(session.client.ip.clone())
            .bind(session.refresh_hash.as_str().to_owned())
            .bind(
                session
                    .previous_hash
                    .as_ref()
                    .map(|h| h.as_str().to_owned()),
            )
            .bind(opt_micros(session.rotated_at));
        self.execute(query, "creating a session").await?;
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(FIND)
            .bind(*id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| store_error(err, "reading a session"))?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError> {
        let query = sqlx::query(ROTATE)
            .bind(*next.id.as_uuid())
            .bind(*next.user_id.as_uuid())
            .bind(micros(next.created_at))
            .bind(micros(next.last_used_at))
            .bind(micros(next.expires_at))
            .bind(micros(next.idle_expires_at))
            .bind(opt_micros(next.revoked_at))
            .bind(next.client.user_agent.clone())
            .bind(next.client.ip.clone())
            .bind(next.refresh_hash.as_str().to_owned())
            .bind(next.previous_hash.as_ref().map(|h| h.as_str().to_owned()))
            .bind(opt_micros(next.rotated_at))
            .bind(expected.as_str().to_owned());
        Ok(self.execute(query, "rotating a session").await? == 1)
    }

    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let query = sqlx::query(REVOKE).bind(*id.as_uuid()).bind(micros(now));
        Ok(self.execute(query, "revoking a session").await? == 1)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let query = sqlx::query(REVOKE_ALL)
            .bind(*user.as_uuid())
            .bind(keep.map(|id| *id.as_uuid()))
            .bind(micros(now));
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|err| store_error(err, "revoking a user's sessions"))?;
        rows.iter()
            .map(|row| {
                row.try_get::<Uuid, _>("id")
                    .map(SessionId::from_uuid)
                    .map_err(|err| store_error(err, "decoding a revoked session id"))
            })
            .collect()
    }

    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let rows = sqlx::query(LIST_LIVE)
            .bind(*user.as_uuid())
            .bind(micros(now))
            .fetch_all(&self.pool)
            .await
            .map_err(|err| store_error(err, "listing a user's sessions"))?;
        rows.iter().map(session_from_row).collect()
    }

    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = sqlx::query(DENY)
            .bind(token_id.to_owned())
            .bind(micros(until));
        self.execute(query, "denying an access token").await?;
        Ok(())
    }

    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        sqlx::query_scalar(IS_DENIED)
            .bind(token_id.to_owned())
            .bind(micros(now))
            .fetch_one(&self.pool)
            .await
            .map_err(|err| store_error(err, "checking the access-token deny list"))
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let sessions = sqlx::query(PURGE_SESSIONS).bind(micros(now));
        let sessions = self.execute(sessions, "purging sessions").await?;
        let denials = sqlx::query(PURGE_DENIALS).bind(micros(now));
        let denials = self.execute(denials, "purging the deny list").await?;
        Ok(sessions + denials)
    }
}

fn session_from_row(row: &SqliteRow) -> Result<Session, StoreError> {
    let decode = |err: sqlx::Error| store_error(err, "decoding a session row");
    let uuid = |column: &str| row.try_get::<Uuid, _>(column).map_err(decode);
    let at = |column: &'static str| {
        let stored = row.try_get::<i64, _>(column).map_err(decode)?;
        time(column, stored)
    };
    let opt_at = |column: &'static str| {
        let stored = row.try_get::<Option<i64>, _>(column).map_err(decode)?;
        opt_time(column, stored)
    };
    let opt_text = |column: &str| row.try_get::<Option<String>, _>(column).map_err(decode);
    let hash = |column: &'static str, raw: &str| {
        TokenHash::parse(raw).map_err(|err| invalid_row(column, err))
    };
    let refresh_hash = row.try_get::<String, _>("refresh_hash").map_err(decode)?;
    Ok(Session {
        id: SessionId::from_uuid(uuid("id")?),
        user_id: UserId::from_uuid(uuid("user_id")?),
        created_at: at("created_at")?,
        last_used_at: at("last_used_at")?,
        expires_at: at("expires_at")?,
        idle_expires_at: at("idle_expires_at")?,
        revoked_at: opt_at("revoked_at")?,
        client: ClientInfo {
            user_agent: opt_text("user_agent")?,
            ip: opt_text("ip")?,
        },
        refresh_hash: hash("sessions.refresh_hash", &refresh_hash)?,
        previous_hash: opt_text("previous_hash")?
            .map(|raw| hash("sessions.previous_hash", &raw))
            .transpose()?,
        rotated_at: opt_at("rotated_at")?,
    })
}
