//! `PluginKv` contract cases.

use std::sync::Arc;

use arcana_domain::plugin::{PLUGIN_VALUE_MAX_BYTES, PluginKey, PluginName};
use arcana_ports::StoreError;

use crate::cases;
use crate::harness::{Case, Stores};

pub fn cases() -> Vec<Case> {
    cases![
        a_missing_key_reads_as_none,
        values_round_trip_byte_for_byte,
        a_put_replaces_the_earlier_value,
        delete_reports_whether_the_key_existed,
        keys_are_listed_by_prefix_in_byte_order_up_to_the_limit,
        wildcards_in_a_prefix_match_literally,
        plugins_never_see_each_others_keys,
        values_over_the_limit_are_refused_and_change_nothing,
    ]
}

fn plugin(name: &str) -> PluginName {
    PluginName::parse(name).unwrap()
}

fn key(raw: &str) -> PluginKey {
    PluginKey::parse(raw).unwrap()
}

fn texts(keys: &[PluginKey]) -> Vec<&str> {
    keys.iter().map(PluginKey::as_str).collect()
}

async fn a_missing_key_reads_as_none(s: Arc<Stores>) {
    let counter = plugin("counter");
    assert_eq!(
        s.plugin_kv.get(&counter, &key("nothing")).await.unwrap(),
        None
    );
    assert!(s.plugin_kv.keys(&counter, "", 10).await.unwrap().is_empty());
}

async fn values_round_trip_byte_for_byte(s: Arc<Stores>) {
    let counter = plugin("counter");
    let every_byte: Vec<u8> = (0..=255).rev().collect();
    let largest: Vec<u8> = (0..PLUGIN_VALUE_MAX_BYTES)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    for (name, value) in [
        ("every-byte", every_byte),
        ("empty", Vec::new()),
        ("nul-and-invalid-utf8", vec![0, 0xC3, 0x28, 0xFF, 0]),
        ("largest", largest),
    ] {
        s.plugin_kv.put(&counter, &key(name), &value).await.unwrap();
        let read = s.plugin_kv.get(&counter, &key(name)).await.unwrap();
        assert_eq!(read.as_deref(), Some(value.as_slice()), "{name}");
    }
}

async fn a_put_replaces_the_earlier_value(s: Arc<Stores>) {
    let counter = plugin("counter");
    let total = key("total");
    s.plugin_kv.put(&counter, &total, b"1").await.unwrap();
    s.plugin_kv.put(&counter, &total, b"two").await.unwrap();
    assert_eq!(
        s.plugin_kv.get(&counter, &total).await.unwrap(),
        Some(b"two".to_vec())
    );
    assert_eq!(
        texts(&s.plugin_kv.keys(&counter, "", 10).await.unwrap()),
        ["total"]
    );
}

async fn delete_reports_whether_the_key_existed(s: Arc<Stores>) {
    let counter = plugin("counter");
    let total = key("total");
    assert!(!s.plugin_kv.delete(&counter, &total).await.unwrap());
    s.plugin_kv.put(&counter, &total, b"1").await.unwrap();
    assert!(s.plugin_kv.delete(&counter, &total).await.unwrap());
    assert_eq!(s.plugin_kv.get(&counter, &total).await.unwrap(), None);
    assert!(!s.plugin_kv.delete(&counter, &total).await.unwrap());
}

async fn keys_are_listed_by_prefix_in_byte_order_up_to_the_limit(s: Arc<Stores>) {
    let counter = plugin("counter");
    // Written out of order; `é` (0xC3 0xA9) sorts after `z`, `B` before `a`, and a key equal
    // to the prefix belongs to it.
    for raw in [
        "user/é", "user/b", "user/", "user/B", "user/a", "users", "user", "audit",
    ] {
        s.plugin_kv.put(&counter, &key(raw), b"x").await.unwrap();
    }
    let listed = s.plugin_kv.keys(&counter, "user/", 10).await.unwrap();
    assert_eq!(
        texts(&listed),
        ["user/", "user/B", "user/a", "user/b", "user/é"]
    );
    let first = s.plugin_kv.keys(&counter, "user/", 2).await.unwrap();
    assert_eq!(texts(&first), ["user/", "user/B"]);
    let all = s.plugin_kv.keys(&counter, "", 100).await.unwrap();
    assert_eq!(
        texts(&all),
        [
            "audit", "user", "user/", "user/B", "user/a", "user/b", "user/é", "users"
        ]
    );
    // Prefixes are case-sensitive (SQLite's LIKE is not).
    assert!(
        s.plugin_kv
            .keys(&counter, "USER", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.plugin_kv
            .keys(&counter, "user/c", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.plugin_kv
            .keys(&counter, "user/", 0)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn wildcards_in_a_prefix_match_literally(s: Arc<Stores>) {
    let counter = plugin("counter");
    for raw in ["50%off", "50xoff", "500", "a_b", "axb", "a\\b", "a\\\\b"] {
        s.plugin_kv.put(&counter, &key(raw), b"x").await.unwrap();
    }
    let listed = |prefix: &'static str| {
        let s = s.clone();
        let counter = counter.clone();
        async move { s.plugin_kv.keys(&counter, prefix, 10).await.unwrap() }
    };
    assert_eq!(texts(&listed("50%").await), ["50%off"]);
    assert_eq!(texts(&listed("a_").await), ["a_b"]);
    assert_eq!(texts(&listed("a\\").await), ["a\\\\b", "a\\b"]);
    assert_eq!(texts(&listed("a\\\\").await), ["a\\\\b"]);
    assert!(listed("%").await.is_empty());
    assert!(listed("_").await.is_empty());
}

async fn plugins_never_see_each_others_keys(s: Arc<Stores>) {
    let (counter, audit) = (plugin("counter"), plugin("audit"));
    let shared = key("state");
    s.plugin_kv
        .put(&counter, &shared, b"counter's")
        .await
        .unwrap();
    s.plugin_kv.put(&audit, &shared, b"audit's").await.unwrap();
    s.plugin_kv
        .put(&audit, &key("state/extra"), b"x")
        .await
        .unwrap();
    assert_eq!(
        s.plugin_kv.get(&counter, &shared).await.unwrap(),
        Some(b"counter's".to_vec())
    );
    assert_eq!(
        texts(&s.plugin_kv.keys(&counter, "state", 10).await.unwrap()),
        ["state"]
    );
    assert!(s.plugin_kv.delete(&counter, &shared).await.unwrap());
    assert_eq!(
        s.plugin_kv.get(&audit, &shared).await.unwrap(),
        Some(b"audit's".to_vec())
    );
    assert_eq!(s.plugin_kv.get(&counter, &shared).await.unwrap(), None);
    let stranger = plugin("stranger");
    assert_eq!(s.plugin_kv.get(&stranger, &shared).await.unwrap(), None);
    assert!(
        s.plugin_kv
            .keys(&stranger, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn values_over_the_limit_are_refused_and_change_nothing(s: Arc<Stores>) {
    let counter = plugin("counter");
    let total = key("total");
    s.plugin_kv.put(&counter, &total, b"kept").await.unwrap();
    let too_large = vec![7; PLUGIN_VALUE_MAX_BYTES + 1];
    let refused = s.plugin_kv.put(&counter, &total, &too_large).await;
    assert!(matches!(refused, Err(StoreError::TooLarge)), "{refused:?}");
    let fresh = s.plugin_kv.put(&counter, &key("fresh"), &too_large).await;
    assert!(matches!(fresh, Err(StoreError::TooLarge)), "{fresh:?}");
    assert_eq!(
        s.plugin_kv.get(&counter, &total).await.unwrap(),
        Some(b"kept".to_vec())
    );
    assert_eq!(
        s.plugin_kv.get(&counter, &key("fresh")).await.unwrap(),
        None
    );
}
