//! The document's values are the server's: every pattern, bound and enum it declares allows
//! only what the handlers accept.

use serde_json::Value;

use super::openapi::document;

/// The pattern of property `field` of request schema `schema`.
fn pattern(doc: &Value, schema: &str, field: &str) -> regex::Regex {
    let raw = doc["components"]["schemas"][schema]["properties"][field]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema}.{field} declares no pattern"));
    regex::Regex::new(raw).expect("a valid pattern")
}

/// Soundness of the documented patterns: a value the document allows is one the server
/// accepts (the reverse need not hold: the server also takes non-ASCII addresses).
#[test]
fn documented_username_and_email_patterns_only_allow_values_the_server_accepts() {
    let doc = document();
    let long = "a".repeat(33);
    let usernames = [
        "",
        "ab",
        "abc",
        "Mixed_Case.1-2",
        "a b c",
        "ab@c",
        long.as_str(),
    ];
    let local = "l".repeat(65);
    let label = "d".repeat(64);
    let too_long_local = format!("{local}@example.com");
    let too_long_label = format!("a@{label}.com");
    let emails = [
        "",
        "a@b",
        "a@b.c",
        "first.last+tag@sub.example.org",
        ".a@b.c",
        "a.@b.c",
        "a@-b.c",
        "a@b-.c",
        "a@b..c",
        "a b@c.d",
        "a@b.c.",
        too_long_local.as_str(),
        too_long_label.as_str(),
    ];
    for schema in ["RegisterRequest", "CreateUserRequest", "UpdateUserRequest"] {
        let username = pattern(&doc, schema, "username");
        for sample in usernames {
            if username.is_match(sample) {
                arcana_domain::Username::parse(sample)
                    .unwrap_or_else(|e| panic!("{schema}: {sample:?} documented but refused: {e}"));
            }
        }
        assert!(
            !username.is_match(""),
            "{schema}: empty username documented"
        );
        let email = pattern(&doc, schema, "email");
        for sample in emails {
            if email.is_match(sample) {
                arcana_domain::Email::parse(sample)
                    .unwrap_or_else(|e| panic!("{schema}: {sample:?} documented but refused: {e}"));
            }
        }
        assert!(email.is_match("first.last+tag@sub.example.org"), "{schema}");
    }
}

#[test]
fn body_fields_declare_the_values_the_server_accepts() {
    let doc = document();
    let names = |schema: &str, field: &str| -> Vec<String> {
        doc["components"]["schemas"][schema]["properties"][field]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}.{field} has no enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    for schema in ["SetRoleRequest", "CreateUserRequest"] {
        for role in names(schema, "role") {
            arcana_domain::Role::parse(&role).expect("a documented role parses");
        }
    }
    let statuses = names("SetStatusRequest", "status");
    assert!(
        !statuses.contains(&"deleted".to_owned()),
        "deleting has its own route"
    );
    for status in statuses {
        arcana_domain::Status::parse(&status).expect("a documented status parses");
    }
    let samples = [
        "",
        " ",
        "Ada",
        " Ada Lovelace ",
        "tab\there",
        &"x".repeat(64),
    ];
    for schema in ["RegisterRequest", "CreateUserRequest", "UpdateUserRequest"] {
        let display = pattern(&doc, schema, "display_name");
        for sample in samples {
            if display.is_match(sample) && sample.chars().count() <= 64 {
                arcana_domain::DisplayName::parse(sample)
                    .unwrap_or_else(|e| panic!("{schema}: {sample:?} documented but refused: {e}"));
            }
        }
        assert!(
            !display.is_match(" "),
            "{schema}: blank display name documented"
        );
    }
    let avatar = pattern(&doc, "UpdateUserRequest", "avatar_url");
    for sample in [
        "",
        "https://",
        "http:///path",
        "HTTPS://example.com/a.png?x=1#f",
        "javascript:alert(1)",
        "https://exa mple.com",
        "http://[::1]:8080/",
    ] {
        if avatar.is_match(sample) {
            arcana_domain::ProfileUrl::parse(sample).expect("a documented URL parses");
        }
    }
    assert!(avatar.is_match("https://example.com/a.png"));
    for schema in ["EnqueueJobRequest"] {
        for field in ["name", "queue"] {
            let rule = pattern(&doc, schema, field);
            for sample in ["", "noop", "mail.out:v2", "sp ace", &"n".repeat(65)] {
                if rule.is_match(sample) {
                    arcana_domain::jobs::JobName::parse(sample).expect("a documented name parses");
                }
            }
        }
    }
    let key = pattern(&doc, "EnqueueJobRequest", "unique_key");
    for sample in ["", "k", "a:b.c-d_e", "sp ace", &"k".repeat(65)] {
        if key.is_match(sample) {
            arcana_domain::jobs::parse_unique_key(sample).expect("a documented key parses");
        }
    }
    let enqueue = &doc["paths"]["/api/v1/jobs"]["post"]["responses"];
    assert!(enqueue.get("415").is_some() && enqueue.get("413").is_some());
}

/// What the `IfMatch` extractor makes of `value`.
async fn read_if_match(value: &str) -> Option<Option<u64>> {
    use axum::extract::FromRequestParts as _;
    let request = axum::http::Request::builder()
        .header("if-match", value)
        .body(())
        .expect("a request");
    let (mut parts, ()) = request.into_parts();
    crate::extract::IfMatch::from_request_parts(&mut parts, &())
        .await
        .ok()
        .map(|tag| tag.0)
}

#[tokio::test]
async fn the_documented_if_match_pattern_only_allows_tags_the_server_reads() {
    let doc = document();
    let header = doc["paths"]["/api/v1/users/{id}"]["patch"]["parameters"]
        .as_array()
        .and_then(|params| params.iter().find(|p| p["name"] == "If-Match"))
        .cloned()
        .expect("If-Match is declared");
    assert_eq!(
        header["schema"]["type"], "string",
        "a header is never null: {header}"
    );
    let raw = header["schema"]["pattern"].as_str().expect("a pattern");
    let pattern = regex::Regex::new(raw).expect("a valid pattern");
    for (sample, version) in [
        ("*", None),
        (" \"7\" ", Some(7)),
        ("W/\"12\"", Some(12)),
        ("42", Some(42)),
        ("+3", Some(3)),
        ("9999999999999999999", Some(9_999_999_999_999_999_999)),
    ] {
        assert!(pattern.is_match(sample), "{sample:?}");
        assert_eq!(read_if_match(sample).await, Some(version), "{sample:?}");
    }
    for refused in ["", "\"7", "abc", "W/", "\"-1\""] {
        assert!(!pattern.is_match(refused), "{refused:?} documented");
        assert_eq!(read_if_match(refused).await, None, "{refused:?} read");
    }
}
