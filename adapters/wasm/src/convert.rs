//! Between the port's types and the WIT types.

use arcana_domain::event::DomainEvent;
use arcana_ports::plugins::{HeaderOp, HttpHead, PluginResponse};

use crate::bindings::arcana::plugin::types;

/// Response headers a plugin may not set: framing and connection handling belong to the server,
/// and cookies to the account service.
const RESERVED_HEADERS: [&str; 6] = [
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "set-cookie",
];

pub fn event(event: &DomainEvent) -> types::Event {
    let payload = serde_json::json!({
        "id": event.id.to_string(),
        "occurred_at": event.occurred_at.to_rfc3339(),
        "actor": event.actor.map(|actor| actor.to_string()),
        "subject": event.subject.render(),
        "detail": event.detail,
    });
    types::Event {
        name: event.kind.name().to_owned(),
        payload: payload.to_string(),
    }
}

pub fn head(head: &HttpHead) -> types::RequestHead {
    types::RequestHead {
        method: head.method.clone(),
        path: head.path.clone(),
        query: head.query.clone(),
        headers: head
            .headers
            .iter()
            .map(|(name, value)| types::Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
    }
}

fn allowed(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !RESERVED_HEADERS.contains(&name.as_str()) && name != "authorization" && name != "cookie"
}

pub fn header_ops(ops: Vec<types::HeaderOp>) -> Vec<HeaderOp> {
    ops.into_iter()
        .filter_map(|op| match op {
            types::HeaderOp::Set(header) if allowed(&header.name) => Some(HeaderOp::Set {
                name: header.name.to_ascii_lowercase(),
                value: header.value,
            }),
            types::HeaderOp::Remove(name) if allowed(&name) => Some(HeaderOp::Remove {
                name: name.to_ascii_lowercase(),
            }),
            types::HeaderOp::Set(_) | types::HeaderOp::Remove(_) => None,
        })
        .collect()
}

/// A plugin's answer, or why it cannot be sent.
pub fn response(response: types::Response) -> Result<PluginResponse, String> {
    if !(200..=599).contains(&response.status) {
        return Err(format!("answered with status {}", response.status));
    }
    Ok(PluginResponse {
        status: response.status,
        headers: response
            .headers
            .into_iter()
            .filter(|header| allowed(&header.name))
            .map(|header| (header.name.to_ascii_lowercase(), header.value))
            .collect(),
        body: response.body,
    })
}
