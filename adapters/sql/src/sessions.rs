//! `SessionStore` over any [`Dialect`]: refresh-token families, rotated by a single conditional
//! UPDATE, and the access-token deny list.

use std::marker::PhantomData;

use arcana_domain::session::{ClientInfo, Session, SessionParts, TokenHash};
use arcana_domain::{SessionId, UserId};
use arcana_ports::StoreError;
use arcana_ports::sessions::SessionStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Database, Pool};
use uuid::Uuid;

use crate::Dialect;
use crate::codec::{Columns, opt_time};
use crate::database::{Args as _, SqlDatabase, Statement};
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
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// The compare-and-swap: one statement tests the current hash and writes, so of concurrent
/// rotations with one token exactly one changes the row (SQLite has a single writer; PostgreSQL
/// queues them on the row lock and re-checks the condition against the committed row).
const ROTATE: &str = "UPDATE sessions SET user_id = $2, created_at = $3, last_used_at = $4, \
    expires_at = $5, idle_expires_at = $6, revoked_at = $7, user_agent = $8, ip = $9, \
    refresh_hash = $10, previous_hash = $11, rotated_at = $12 \
    WHERE id = $1 AND refresh_hash = $13 AND revoked_at IS NULL";

const FIND: &str = select_sessions!("WHERE id = $1");

const LIST_LIVE: &str = select_sessions!(
    "WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND idle_expires_at > $2 \
     ORDER BY last_used_at DESC, id DESC"
);

const REVOKE: &str = "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";

const REVOKE_ALL: &str = "UPDATE sessions SET revoked_at = $3 \
    WHERE user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2) RETURNING id";

const DENY: &str = "INSERT INTO access_denylist (token_id, expires_at) VALUES ($1, $2) \
    ON CONFLICT (token_id) DO UPDATE SET expires_at = excluded.expires_at";

const IS_DENIED: &str = "SELECT EXISTS (SELECT 1 FROM access_denylist \
    WHERE token_id = $1 AND expires_at > $2) AS denied";

const PURGE_SESSIONS: &str = "DELETE FROM sessions \
    WHERE revoked_at IS NOT NULL OR expires_at <= $1 OR idle_expires_at <= $1";

const PURGE_DENIALS: &str = "DELETE FROM access_denylist WHERE expires_at <= $1";

/// The sessions and deny-list tables of one database; cheap to clone (it holds the pool's
/// handle).
#[derive(Debug)]
pub struct SqlSessionStore<D: Dialect> {
    pool: Pool<D::Db>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> Clone for SqlSessionStore<D> {
    fn clone(&self) -> Self {
        Self::new(self.pool.clone())
    }
}

impl<D: Dialect> SqlSessionStore<D> {
    pub(crate) fn new(pool: Pool<D::Db>) -> Self {
        Self {
            pool,
            dialect: PhantomData,
        }
    }

    async fn execute(
        &self,
        statement: Statement<D::Db>,
        doing: &'static str,
    ) -> Result<u64, StoreError> {
        let done = D::Db::execute(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, doing))?;
        Ok(D::rows_affected(&done))
    }

    async fn fetch_all(
        &self,
        statement: Statement<D::Db>,
        doing: &'static str,
    ) -> Result<Vec<<D::Db as Database>::Row>, StoreError> {
        D::Db::fetch_all(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, doing))
    }
}

#[async_trait]
impl<D: Dialect> SessionStore for SqlSessionStore<D> {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let statement = bind_session::<D>(sqlx::query(INSERT), session);
        self.execute(statement, "creating a session").await?;
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let row = D::Db::fetch_optional(&self.pool, sqlx::query(FIND).arg(*id.as_uuid()))
            .await
            .map_err(|err| store_error::<D>(err, "reading a session"))?;
        row.as_ref().map(session_from_row::<D>).transpose()
    }

    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError> {
        let statement =
            bind_session::<D>(sqlx::query(ROTATE), next).arg(expected.as_str().to_owned());
        Ok(self.execute(statement, "rotating a session").await? == 1)
    }

    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let statement = sqlx::query(REVOKE)
            .arg(*id.as_uuid())
            .arg(D::encode_time(now));
        Ok(self.execute(statement, "revoking a session").await? == 1)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let statement = sqlx::query(REVOKE_ALL)
            .arg(*user.as_uuid())
            .arg(keep.map(|id| *id.as_uuid()))
            .arg(D::encode_time(now));
        let doing = "revoking a user's sessions";
        let rows = self.fetch_all(statement, doing).await?;
        rows.iter()
            .map(|row| {
                Columns::<D>::new(row, "sessions", doing)
                    .get::<Uuid>("id")
                    .map(SessionId::from_uuid)
            })
            .collect()
    }

    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let statement = sqlx::query(LIST_LIVE)
            .arg(*user.as_uuid())
            .arg(D::encode_time(now));
        let rows = self
            .fetch_all(statement, "listing a user's sessions")
            .await?;
        rows.iter().map(session_from_row::<D>).collect()
    }

    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let statement = sqlx::query(DENY)
            .arg(token_id.to_owned())
            .arg(D::encode_time(until));
        self.execute(statement, "denying an access token").await?;
        Ok(())
    }

    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let statement = sqlx::query(IS_DENIED)
            .arg(token_id.to_owned())
            .arg(D::encode_time(now));
        let doing = "checking the access-token deny list";
        let row = D::Db::fetch_optional(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, doing))?;
        match &row {
            Some(row) => Columns::<D>::new(row, "access_denylist", doing).get::<bool>("denied"),
            None => Ok(false),
        }
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let sessions = sqlx::query(PURGE_SESSIONS).arg(D::encode_time(now));
        let sessions = self.execute(sessions, "purging sessions").await?;
        let denials = sqlx::query(PURGE_DENIALS).arg(D::encode_time(now));
        let denials = self.execute(denials, "purging the deny list").await?;
        Ok(sessions + denials)
    }
}

/// Binds every column of `session` as `$1`..`$12`, in the order of `INSERT` and `ROTATE`.
fn bind_session<D: Dialect>(statement: Statement<D::Db>, session: &Session) -> Statement<D::Db> {
    statement
        .arg(*session.id().as_uuid())
        .arg(*session.user_id().as_uuid())
        .arg(D::encode_time(session.created_at()))
        .arg(D::encode_time(session.last_used_at()))
        .arg(D::encode_time(session.expires_at()))
        .arg(D::encode_time(session.idle_expires_at()))
        .arg(opt_time::<D>(session.revoked_at()))
        .arg(session.client().user_agent.clone())
        .arg(session.client().ip.clone())
        .arg(session.refresh_hash().as_str().to_owned())
        .arg(session.previous_hash().map(|h| h.as_str().to_owned()))
        .arg(opt_time::<D>(session.rotated_at()))
}

fn session_from_row<D: Dialect>(row: &<D::Db as Database>::Row) -> Result<Session, StoreError> {
    let row = Columns::<D>::new(row, "sessions", "decoding a session row");
    let opt_text = |column: &str| row.get::<Option<String>>(column);
    let hash = |column: &'static str, raw: &str| {
        TokenHash::parse(raw).map_err(|err| invalid_row(column, err))
    };
    let parts = SessionParts {
        id: SessionId::from_uuid(row.get::<Uuid>("id")?),
        user_id: UserId::from_uuid(row.get::<Uuid>("user_id")?),
        created_at: row.time("created_at")?,
        last_used_at: row.time("last_used_at")?,
        expires_at: row.time("expires_at")?,
        idle_expires_at: row.time("idle_expires_at")?,
        revoked_at: row.opt_time("revoked_at")?,
        client: ClientInfo {
            user_agent: opt_text("user_agent")?,
            ip: opt_text("ip")?,
        },
        refresh_hash: hash("sessions.refresh_hash", &row.get::<String>("refresh_hash")?)?,
        previous_hash: opt_text("previous_hash")?
            .map(|raw| hash("sessions.previous_hash", &raw))
            .transpose()?,
        rotated_at: row.opt_time("rotated_at")?,
    };
    Session::restore(parts).map_err(|err| invalid_row("sessions", err))
}
