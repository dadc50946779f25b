//! The generated document describes every route, its errors and its security.

use serde_json::Value;

pub(super) fn document() -> Value {
    serde_json::to_value(crate::openapi()).expect("the document serializes")
}

const ROUTES: &[(&str, &[&str])] = &[
    ("/health", &["get"]),
    ("/health/live", &["get"]),
    ("/health/ready", &["get"]),
    ("/metrics", &["get"]),
    ("/api/v1/auth/register", &["post"]),
    ("/api/v1/auth/login", &["post"]),
    ("/api/v1/auth/refresh", &["post"]),
    ("/api/v1/auth/logout", &["post"]),
    ("/api/v1/auth/me", &["get"]),
    ("/api/v1/auth/sessions", &["get"]),
    ("/api/v1/auth/sessions/{id}", &["delete"]),
    ("/api/v1/auth/password", &["put"]),
    ("/api/v1/users", &["get", "post"]),
    ("/api/v1/users/{id}", &["get", "patch", "delete"]),
    ("/api/v1/users/{id}/role", &["put"]),
    ("/api/v1/users/{id}/status", &["put"]),
    ("/api/v1/audit", &["get"]),
    ("/api/v1/jobs", &["get", "post"]),
    ("/api/v1/jobs/{id}", &["get"]),
    ("/api/v1/jobs/{id}/cancel", &["post"]),
    ("/api/v1/jobs/{id}/retry", &["post"]),
    ("/api/v1/jobs/queues", &["get"]),
    ("/api/v1/jobs/queues/{name}", &["get"]),
    ("/api/v1/jobs/queues/{name}/dead-letters", &["delete"]),
    ("/api/v1/jobs/dashboard", &["get"]),
    ("/api/v1/jobs/dead-letters", &["get"]),
    ("/api/v1/jobs/dead-letters/{id}/retry", &["post"]),
    ("/api/v1/jobs/schedules", &["get"]),
    ("/api/v1/jobs/workers", &["get"]),
    ("/api/v1/jobs/schedules/{name}/pause", &["post"]),
    ("/api/v1/jobs/schedules/{name}/resume", &["post"]),
    ("/api/v1/jobs/schedules/{name}/trigger", &["post"]),
    ("/api/v1/plugins", &["get"]),
    ("/api/v1/plugins/{name}", &["put", "delete"]),
    ("/api/v1/plugins/{name}/enable", &["post"]),
    ("/api/v1/plugins/{name}/disable", &["post"]),
    ("/api/v1/ext/{plugin}/{path}", &["get"]),
];

const PUBLIC: &[&str] = &[
    "/health",
    "/health/live",
    "/health/ready",
    "/metrics",
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    // The host does not authenticate extension routes; a plugin decides what it serves.
    "/api/v1/ext/{plugin}/{path}",
];

#[test]
fn the_document_is_openapi_3_1_and_lists_every_route_with_its_methods() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is missing"));
        for method in *methods {
            assert!(item.get(*method).is_some(), "{method} {path} is missing");
        }
    }
    assert_eq!(
        paths.len(),
        ROUTES.len(),
        "undocumented or unexpected paths: {:?}",
        paths.keys()
    );
}

#[test]
fn protected_routes_require_the_bearer_scheme_and_document_401() {
    let doc = document();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, methods) in ROUTES {
        for method in *methods {
            let operation = &doc["paths"][path][method];
            let protected = operation["security"][0].get("bearer").is_some();
            assert_eq!(protected, !PUBLIC.contains(path), "{method} {path}");
            if protected {
                assert!(
                    operation["responses"].get("401").is_some(),
                    "{method} {path} lacks 401"
                );
            }
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}"
            );
        }
    }
}

#[test]
fn errors_reference_the_problem_schema_as_problem_json() {
    let doc = document();
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for field in [
        "type",
        "title",
        "status",
        "detail",
        "code",
        "request_id",
        "errors",
    ] {
        assert!(problem.get(field).is_some(), "Problem.{field}");
    }
    let validation =
        &doc["components"]["responses"]["ValidationFailed"]["content"]["application/problem+json"];
    assert_eq!(validation["schema"]["$ref"], "#/components/schemas/Problem");
    let login = &doc["paths"]["/api/v1/auth/login"]["post"];
    for status in ["400", "401", "415", "422", "429", "500", "503"] {
        assert!(
            login["responses"].get(status).is_some(),
            "login lacks {status}"
        );
    }
    assert!(
        login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .is_some_and(|r| r.ends_with("/LoginRequest"))
    );
}

#[test]
fn every_path_parameter_of_every_operation_is_declared() {
    let doc = document();
    for (path, methods) in ROUTES {
        let templated: Vec<&str> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for method in *methods {
            let operation = &doc["paths"][path][method];
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .map(|params| {
                    params
                        .iter()
                        .filter(|param| param["in"] == "path")
                        .filter_map(|param| param["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            for name in &templated {
                assert!(
                    declared.contains(name),
                    "{method} {path} does not declare its path parameter {name}"
                );
            }
        }
    }
}

#[test]
fn every_api_operation_documents_the_rate_limit_and_overload_refusals() {
    let doc = document();
    for (path, methods) in ROUTES.iter().filter(|(path, _)| path.starts_with("/api/")) {
        for method in *methods {
            let responses = &doc["paths"][path][method]["responses"];
            for status in ["429", "503"] {
                assert!(
                    responses.get(status).is_some(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
}

/// The query parameter `name` of `GET path`.
fn query_param(doc: &Value, path: &str, name: &str) -> Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .and_then(|params| {
            params
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == name)
        })
        .cloned()
        .unwrap_or_else(|| panic!("GET {path} has no query parameter {name}"))
}

#[test]
fn list_parameters_declare_the_bounds_and_values_the_server_enforces() {
    let doc = document();
    for (path, max) in [
        ("/api/v1/users", 100),
        ("/api/v1/audit", 100),
        ("/api/v1/jobs", 500),
        ("/api/v1/jobs/dead-letters", 500),
    ] {
        let limit = query_param(&doc, path, "limit");
        assert_eq!(limit["schema"]["minimum"], 1, "{path}: {limit}");
        assert_eq!(limit["schema"]["maximum"], max, "{path}: {limit}");
        assert_ne!(limit["required"], true);
    }
    let names = |param: Value| -> Vec<String> {
        assert_ne!(param["required"], true, "{param}");
        param["schema"]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum: {param}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let roles = names(query_param(&doc, "/api/v1/users", "role"));
    assert_eq!(roles, ["user", "moderator", "admin", "superadmin"]);
    for role in &roles {
        arcana_domain::Role::parse(role).expect("every documented role parses");
    }
    for status in names(query_param(&doc, "/api/v1/users", "status")) {
        arcana_domain::Status::parse(&status).expect("every documented status parses");
    }
    for state in names(query_param(&doc, "/api/v1/jobs", "state")) {
        arcana_domain::jobs::JobState::parse(&state).expect("every documented state parses");
    }
    for action in names(query_param(&doc, "/api/v1/audit", "action")) {
        assert!(
            arcana_domain::event::EventKind::parse(&action).is_some(),
            "{action}"
        );
    }
    for (path, name) in [
        ("/api/v1/users", "cursor"),
        ("/api/v1/audit", "cursor"),
        ("/api/v1/audit", "actor"),
    ] {
        assert_eq!(query_param(&doc, path, name)["schema"]["format"], "uuid");
    }
}
