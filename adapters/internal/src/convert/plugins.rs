//! Plugin names, keys and key queries; plugin descriptions and the request path's messages.

use anyhow::anyhow;
use arcana_domain::plugin::{PluginKey, PluginName};
use arcana_ports::plugins::{
    BeforeRequest, HeaderOp, HttpHead, PluginCounters, PluginInfo, PluginResponse, PluginState,
};

use super::{Invalid, micros, optional_time, parsed};
use crate::wire;

pub(crate) fn plugin_key_ref(plugin: &PluginName, key: &PluginKey) -> wire::PluginKeyRef {
    wire::PluginKeyRef {
        plugin: plugin.as_str().to_owned(),
        key: key.as_str().to_owned(),
    }
}

pub(crate) fn plugin_and_key(
    message: &wire::PluginKeyRef,
) -> Result<(PluginName, PluginKey), Invalid> {
    Ok((
        parsed("plugin", PluginName::parse(&message.plugin))?,
        parsed("key", PluginKey::parse(&message.key))?,
    ))
}

pub(crate) fn plugin_name(field: &str, raw: &str) -> Result<PluginName, Invalid> {
    parsed(field, PluginName::parse(raw))
}

pub(crate) fn plugin_keys(keys: &[PluginKey]) -> wire::PluginKeys {
    wire::PluginKeys {
        keys: keys.iter().map(|key| key.as_str().to_owned()).collect(),
    }
}

pub(crate) fn keys_of(message: &wire::PluginKeys) -> Result<Vec<PluginKey>, Invalid> {
    message
        .keys
        .iter()
        .map(|key| parsed("keys", PluginKey::parse(key)))
        .collect()
}

fn plugin_state(raw: &str) -> Result<PluginState, Invalid> {
    Ok(match raw {
        "enabled" => PluginState::Enabled,
        "disabled" => PluginState::Disabled,
        "quarantined" => PluginState::Quarantined,
        "rejected" => PluginState::Rejected,
        other => return Err(anyhow!("field state: unknown plugin state {other:?}")),
    })
}

pub(crate) fn plugin_info_message(info: &PluginInfo) -> wire::PluginInfo {
    let counters = &info.counters;
    wire::PluginInfo {
        name: info.name.as_str().to_owned(),
        version: info.version.clone(),
        state: info.state.as_str().to_owned(),
        sha256: info.sha256.clone(),
        subscriptions: info.subscriptions.clone(),
        routes: info.routes,
        interceptor: info.interceptor,
        counters: Some(wire::PluginCounters {
            calls: counters.calls,
            failures: counters.failures,
            timeouts: counters.timeouts,
            traps: counters.traps,
            dropped_events: counters.dropped_events,
            latency_p50_us: counters.latency_p50_us,
            latency_p99_us: counters.latency_p99_us,
        }),
        last_error: info.last_error.clone(),
        quarantined_until_us: info.quarantined_until.map(micros),
        loaded_at_us: info.loaded_at.map(micros),
    }
}

pub(crate) fn plugin_info(message: wire::PluginInfo) -> Result<PluginInfo, Invalid> {
    let counters = message.counters.unwrap_or_default();
    Ok(PluginInfo {
        name: plugin_name("name", &message.name)?,
        version: message.version,
        state: plugin_state(&message.state)?,
        sha256: message.sha256,
        subscriptions: message.subscriptions,
        routes: message.routes,
        interceptor: message.interceptor,
        counters: PluginCounters {
            calls: counters.calls,
            failures: counters.failures,
            timeouts: counters.timeouts,
            traps: counters.traps,
            dropped_events: counters.dropped_events,
            latency_p50_us: counters.latency_p50_us,
            latency_p99_us: counters.latency_p99_us,
        },
        last_error: message.last_error,
        quarantined_until: optional_time("quarantined_until_us", message.quarantined_until_us)?,
        loaded_at: optional_time("loaded_at_us", message.loaded_at_us)?,
    })
}

fn headers_message(headers: &[(String, String)]) -> Vec<wire::Header> {
    headers
        .iter()
        .map(|(name, value)| wire::Header {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

fn headers(headers: Vec<wire::Header>) -> Vec<(String, String)> {
    headers.into_iter().map(|h| (h.name, h.value)).collect()
}

pub(crate) fn http_head_message(head: &HttpHead) -> wire::HttpHead {
    wire::HttpHead {
        method: head.method.clone(),
        path: head.path.clone(),
        query: head.query.clone(),
        headers: headers_message(&head.headers),
    }
}

/// The head a plugin is shown; credentials are dropped again here, whatever the caller sent.
pub(crate) fn http_head(message: Option<wire::HttpHead>) -> HttpHead {
    let message = message.unwrap_or_default();
    HttpHead {
        method: message.method,
        path: message.path,
        query: message.query,
        headers: headers(message.headers)
            .into_iter()
            .filter(|(name, _)| {
                !name.eq_ignore_ascii_case("authorization") && !name.eq_ignore_ascii_case("cookie")
            })
            .collect(),
    }
}

pub(crate) fn header_ops_message(ops: &[HeaderOp]) -> Vec<wire::HeaderOp> {
    ops.iter()
        .map(|op| match op {
            HeaderOp::Set { name, value } => wire::HeaderOp {
                name: name.clone(),
                value: Some(value.clone()),
            },
            HeaderOp::Remove { name } => wire::HeaderOp {
                name: name.clone(),
                value: None,
            },
        })
        .collect()
}

pub(crate) fn header_ops(ops: Vec<wire::HeaderOp>) -> Vec<HeaderOp> {
    ops.into_iter()
        .map(|op| match op.value {
            Some(value) => HeaderOp::Set {
                name: op.name,
                value,
            },
            None => HeaderOp::Remove { name: op.name },
        })
        .collect()
}

pub(crate) fn plugin_answer_message(response: PluginResponse) -> wire::PluginAnswer {
    wire::PluginAnswer {
        status: u32::from(response.status),
        headers: headers_message(&response.headers),
        body: response.body,
    }
}

pub(crate) fn plugin_answer(message: wire::PluginAnswer) -> Result<PluginResponse, Invalid> {
    let status = u16::try_from(message.status)
        .ok()
        .filter(|status| (100..=999).contains(status))
        .ok_or_else(|| anyhow!("field status: {} is not an HTTP status", message.status))?;
    Ok(PluginResponse {
        status,
        headers: headers(message.headers),
        body: message.body,
    })
}

pub(crate) fn before_decision_message(decision: BeforeRequest) -> wire::BeforeDecision {
    match decision {
        BeforeRequest::Continue(ops) => wire::BeforeDecision {
            ops: header_ops_message(&ops),
            respond: None,
        },
        BeforeRequest::Respond(response) => wire::BeforeDecision {
            ops: Vec::new(),
            respond: Some(plugin_answer_message(response)),
        },
    }
}

pub(crate) fn before_decision(message: wire::BeforeDecision) -> Result<BeforeRequest, Invalid> {
    Ok(match message.respond {
        Some(answer) => BeforeRequest::Respond(plugin_answer(answer)?),
        None => BeforeRequest::Continue(header_ops(message.ops)),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::*;

    #[test]
    fn a_plugin_description_round_trips_with_every_field() {
        let info = PluginInfo {
            name: PluginName::parse("audit").unwrap(),
            version: "0.3.1".to_owned(),
            state: PluginState::Quarantined,
            sha256: "ab".repeat(32),
            subscriptions: vec!["user.*".to_owned(), "session.*".to_owned()],
            routes: true,
            interceptor: false,
            counters: PluginCounters {
                calls: 9,
                failures: 3,
                timeouts: 1,
                traps: 2,
                dropped_events: 4,
                latency_p50_us: 12,
                latency_p99_us: 340,
            },
            last_error: Some("trapped".to_owned()),
            quarantined_until: Some(Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()),
            loaded_at: Some(Utc.with_ymd_and_hms(2026, 11, 26, 11, 0, 0).unwrap()),
        };
        assert_eq!(plugin_info(plugin_info_message(&info)).unwrap(), info);
        let mut unknown = plugin_info_message(&info);
        unknown.state = "sleeping".to_owned();
        assert!(plugin_info(unknown).is_err(), "an unknown state is refused");
        let mut misnamed = plugin_info_message(&info);
        misnamed.name = "Not A Name".to_owned();
        assert!(
            plugin_info(misnamed).is_err(),
            "names go through the domain parser"
        );
    }

    #[test]
    fn the_request_path_messages_round_trip_and_never_carry_credentials() {
        let head = HttpHead {
            method: "GET".to_owned(),
            path: "/api/v1/auth/me".to_owned(),
            query: "a=1".to_owned(),
            headers: vec![
                ("x-request-id".to_owned(), "r-1".to_owned()),
                ("authorization".to_owned(), "Bearer secret".to_owned()),
                ("Cookie".to_owned(), "session=secret".to_owned()),
            ],
        };
        let shown = http_head(Some(http_head_message(&head)));
        assert_eq!(
            shown.headers,
            vec![("x-request-id".to_owned(), "r-1".to_owned())]
        );
        assert_eq!(
            (shown.method, shown.path, shown.query),
            (head.method, head.path, head.query)
        );

        let ops = vec![
            HeaderOp::Set {
                name: "x-stamped-by".to_owned(),
                value: "header-stamp".to_owned(),
            },
            HeaderOp::Remove {
                name: "server".to_owned(),
            },
        ];
        assert_eq!(header_ops(header_ops_message(&ops)), ops);
        let go_on = BeforeRequest::Continue(ops);
        assert_eq!(
            before_decision(before_decision_message(go_on.clone())).unwrap(),
            go_on
        );
        let answer = BeforeRequest::Respond(PluginResponse {
            status: 403,
            headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
            body: b"blocked".to_vec(),
        });
        assert_eq!(
            before_decision(before_decision_message(answer.clone())).unwrap(),
            answer
        );
        let nonsense = wire::PluginAnswer {
            status: 70_000,
            ..wire::PluginAnswer::default()
        };
        assert!(plugin_answer(nonsense).is_err(), "not an HTTP status");
    }
}
