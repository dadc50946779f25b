//! `AuditLog` over any [`Dialect`]: append-only rows, read newest first by (time-ordered) id.

use std::marker::PhantomData;

use arcana_domain::UserId;
use arcana_domain::audit::AuditEntry;
use arcana_domain::event::EventKind;
use arcana_domain::ids::EventId;
use arcana_ports::StoreError;
use arcana_ports::audit::{AuditLog, AuditQuery};
use async_trait::async_trait;
use sqlx::{Database, Pool};
use uuid::Uuid;

use crate::Dialect;
use crate::codec::{Columns, limit};
use crate::database::{Args as _, SqlDatabase};
use crate::error::{invalid_row, store_error};

const APPEND: &str = "INSERT INTO audit_log (id, at, action, actor, subject, detail, ip) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// `before` is always bound (the max UUID for the first page) so that the id condition stays an
/// index range.
const QUERY: &str = "SELECT id, at, action, actor, subject, detail, ip FROM audit_log \
    WHERE id < $1 AND ($2 IS NULL OR actor = $2) AND ($3 IS NULL OR action = $3) \
    AND ($4 IS NULL OR subject = $4) \
    ORDER BY id DESC LIMIT $5";

/// The audit table of one database; cheap to clone (it holds the pool's handle).
#[derive(Debug)]
pub struct SqlAuditLog<D: Dialect> {
    pool: Pool<D::Db>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> Clone for SqlAuditLog<D> {
    fn clone(&self) -> Self {
        Self::new(self.pool.clone())
    }
}

impl<D: Dialect> SqlAuditLog<D> {
    pub(crate) fn new(pool: Pool<D::Db>) -> Self {
        Self {
            pool,
            dialect: PhantomData,
        }
    }
}

#[async_trait]
impl<D: Dialect> AuditLog for SqlAuditLog<D> {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let statement = sqlx::query(APPEND)
            .arg(*entry.id.as_uuid())
            .arg(D::encode_time(entry.at))
            .arg(entry.action.name())
            .arg(entry.actor.map(|id| *id.as_uuid()))
            .arg(entry.subject.clone())
            .arg(entry.detail.clone())
            .arg(entry.ip.clone());
        D::Db::execute(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, "appending to the audit log"))?;
        Ok(())
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let statement = sqlx::query(QUERY)
            .arg(query.before.map_or(Uuid::max(), |id| *id.as_uuid()))
            .arg(query.actor.map(|id| *id.as_uuid()))
            .arg(query.action.map(EventKind::name))
            .arg(query.subject.clone())
            .arg(limit(query.limit));
        let rows = D::Db::fetch_all(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, "querying the audit log"))?;
        rows.iter().map(entry_from_row::<D>).collect()
    }
}

fn entry_from_row<D: Dialect>(row: &<D::Db as Database>::Row) -> Result<AuditEntry, StoreError> {
    let row = Columns::<D>::new(row, "audit_log", "decoding an audit row");
    Ok(AuditEntry {
        id: EventId::from_uuid(row.get::<Uuid>("id")?),
        at: row.time("at")?,
        action: EventKind::parse(&row.get::<String>("action")?)
            .ok_or_else(|| invalid_row("audit_log.action", "unknown event kind"))?,
        actor: row.get::<Option<Uuid>>("actor")?.map(UserId::from_uuid),
        subject: row.get("subject")?,
        detail: row.get("detail")?,
        ip: row.get("ip")?,
    })
}
