//! The sample plugin (`audit`): counts every `user.*` and `session.*` event in its key-value
//! store, writes an audit entry for role and status changes, and serves
//! `GET /api/v1/ext/audit/stats` → `{"counts": {"user.registered": N, …}}`, and runs the job
//! `audit.snapshot`, which records the counts in the audit log.

use arcana_plugin_sdk::{Descriptor, Event, JobError, Plugin, RequestHead, Response, host};
use serde_json::{Map, Value};

const COUNT_PREFIX: &str = "count:";

struct Audit;

impl Plugin for Audit {
    fn describe() -> Descriptor {
        Descriptor::new("audit", env!("CARGO_PKG_VERSION"))
            .subscribe("user.*")
            .subscribe("session.*")
            .route("GET", "/stats")
            .job("snapshot")
    }

    fn on_event(event: Event) -> Result<(), String> {
        increment(&event.name)?;
        if event.name == "user.role_changed" || event.name == "user.status_changed" {
            host::audit(&summary(&event))?;
        }
        Ok(())
    }

    /// `audit.snapshot`: writes the current counts to the audit log (schedule it with cron).
    fn handle_job(kind: String, _payload: String) -> Result<(), JobError> {
        if kind != "snapshot" {
            return Err(JobError {
                retryable: false,
                message: format!("no job kind {kind}"),
            });
        }
        let retry = |message: String| JobError {
            retryable: true,
            message,
        };
        let counts = counts().map_err(retry)?;
        host::audit(&format!("snapshot {}", Value::Object(counts))).map_err(retry)
    }

    fn handle(request: RequestHead, _body: Vec<u8>) -> Response {
        if request.method != "GET" || request.path != "/stats" {
            return Response::text(404, "no such route");
        }
        match counts() {
            Ok(counts) => {
                let body = serde_json::json!({ "counts": counts });
                Response::json(200, body.to_string())
            }
            Err(err) => {
                arcana_plugin_sdk::warn!("reading counts failed: {err}");
                Response::text(503, "counts are unavailable, try again")
            }
        }
    }
}

/// One event handler runs at a time per plugin and process, so read-then-write is enough here;
/// across processes two increments may race and one be lost, which a statistic can afford.
fn increment(event: &str) -> Result<(), String> {
    let key = format!("{COUNT_PREFIX}{event}");
    let current = host::kv::get(&key)?
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0);
    host::kv::set(&key, (current + 1).to_string().as_bytes())
}

fn counts() -> Result<Map<String, Value>, String> {
    let mut counts = Map::new();
    for key in host::kv::keys(COUNT_PREFIX)? {
        let value = host::kv::get(&key)?
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| text.parse::<u64>().ok())
            .unwrap_or(0);
        counts.insert(key[COUNT_PREFIX.len()..].to_owned(), Value::from(value));
    }
    Ok(counts)
}

/// `user.role_changed user:<id> by user:<actor>: moderator`, from the event's JSON payload.
fn summary(event: &Event) -> String {
    let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    let field = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned()
    };
    format!(
        "{} {} by {}: {}",
        event.name,
        field("subject"),
        payload
            .get("actor")
            .and_then(Value::as_str)
            .map_or_else(|| "-".to_owned(), |actor| format!("user:{actor}")),
        field("detail"),
    )
}

arcana_plugin_sdk::export!(Audit);
