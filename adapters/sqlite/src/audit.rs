//! `AuditLog` on SQLite: append-only rows, read newest first by (time-ordered) id.

use arcana_domain::UserId;
use arcana_domain::audit::AuditEntry;
use arcana_domain::event::EventKind;
use arcana_domain::ids::EventId;
use arcana_ports::StoreError;
use arcana_ports::audit::{AuditLog, AuditQuery};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqlitePool};
use uuid::Uuid;

use crate::codec::{limit, micros, time};
use crate::error::{invalid_row, store_error};

const APPEND: &str = "INSERT INTO audit_log (id, at, action, actor, subject, detail, ip) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// `before` is always bound (the max UUID for the first page) so that the id condition stays an
/// index range.
const QUERY: &str = "SELECT id, at, action, actor, subject, detail, ip FROM audit_log \
    WHERE id < ?1 AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3) \
    AND (?4 IS NULL OR subject = ?4) \
    ORDER BY id DESC LIMIT ?5";

#[derive(Debug, Clone)]
pub struct SqliteAuditLog {
    pool: SqlitePool,
}

impl SqliteAuditLog {
    pub(crate) fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl AuditLog for SqliteAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(APPEND)
            .bind(*entry.id.as_uuid())
            .bind(micros(entry.at))
            .bind(entry.action.name())
            .bind(entry.actor.map(|id| *id.as_uuid()))
            .bind(entry.subject.clone())
            .bind(entry.detail.clone())
            .bind(entry.ip.clone())
            .execute(&self.pool)
            .await
            .map_err(|err| store_error(err, "appending to the audit log"))?;
        Ok(())
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(QUERY)
            .bind(query.before.map_or(Uuid::max(), |id| *id.as_uuid()))
            .bind(query.actor.map(|id| *id.as_uuid()))
            .bind(query.action.map(EventKind::name))
            .bind(query.subject.clone())
            .bind(limit(query.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|err| store_error(err, "querying the audit log"))?;
        rows.iter().map(entry_from_row).collect()
    }
}

fn entry_from_row(row: &SqliteRow) -> Result<AuditEntry, StoreError> {
    let decode = |err: sqlx::Error| store_error(err, "decoding an audit row");
    let action = row.try_get::<String, _>("action").map_err(decode)?;
    Ok(AuditEntry {
        id: EventId::from_uuid(row.try_get::<Uuid, _>("id").map_err(decode)?),
        at: time("audit_log.at", row.try_get("at").map_err(decode)?)?,
        action: EventKind::parse(&action)
            .ok_or_else(|| invalid_row("audit_log.action", "unknown event kind"))?,
        actor: row
            .try_get::<Option<Uuid>, _>("actor")
            .map_err(decode)?
            .map(UserId::from_uuid),
        subject: row.try_get("subject").map_err(decode)?,
        detail: row.try_get("detail").map_err(decode)?,
        ip: row.try_get("ip").map_err(decode)?,
    })
}
