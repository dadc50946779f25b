//! What a plugin declared about itself (its `describe` answer), checked once at load time so
//! that the hot paths only compare strings.

use arcana_domain::plugin::PluginName;

use crate::bindings::arcana::plugin::types::Descriptor;

/// An event-name pattern: `*`, `user.*` (a dotted prefix) or an exact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    All,
    Prefix(String),
    Exact(String),
}

impl Pattern {
    fn parse(raw: &str) -> Result<Self, String> {
        let valid_part = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        };
        match raw {
            "*" => Ok(Self::All),
            _ if raw.ends_with(".*") && valid_part(&raw[..raw.len() - 2]) => {
                Ok(Self::Prefix(raw[..raw.len() - 1].to_owned()))
            }
            _ if valid_part(raw) => Ok(Self::Exact(raw.to_owned())),
            _ => Err(format!(
                "subscription `{raw}` is not `*`, `name.*` or an event name"
            )),
        }
    }

    pub fn matches(&self, event: &str) -> bool {
        match self {
            Self::All => true,
            Self::Prefix(prefix) => event.starts_with(prefix.as_str()),
            Self::Exact(name) => name == event,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    /// Without the trailing `*` for a subtree route.
    pub path: String,
    pub subtree: bool,
}

impl Route {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method == method
            && if self.subtree {
                path.starts_with(&self.path)
            } else {
                path == self.path
            }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interception {
    pub order: i32,
    pub paths: Vec<String>,
    pub required: bool,
}

impl Interception {
    pub fn applies_to(&self, path: &str) -> bool {
        self.paths.is_empty()
            || self
                .paths
                .iter()
                .any(|prefix| path.starts_with(prefix.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: PluginName,
    pub version: String,
    pub subscriptions: Vec<Pattern>,
    pub subscription_text: Vec<String>,
    pub routes: Vec<Route>,
    pub interceptor: Option<Interception>,
    pub capabilities: Vec<String>,
    /// Job kinds: the plugin runs the jobs named `<plugin>.<kind>`.
    pub jobs: Vec<String>,
}

impl Manifest {
    /// What is known of a module before its `describe` ran: its name, and no hook at all, so
    /// nothing can reach it until the real manifest replaces this one.
    pub fn undescribed(name: &PluginName) -> Self {
        Self {
            name: name.clone(),
            version: String::new(),
            subscriptions: Vec::new(),
            subscription_text: Vec::new(),
            routes: Vec::new(),
            interceptor: None,
            capabilities: Vec::new(),
            jobs: Vec::new(),
        }
    }

    /// Checks a descriptor against the file it came from and the hooks the module exports.
    pub fn check(
        descriptor: Descriptor,
        expected: &PluginName,
        exports: Exports,
    ) -> Result<Self, String> {
        if descriptor.name != expected.as_str() {
            return Err(format!(
                "the module describes itself as `{}`, but is installed as `{expected}`",
                descriptor.name
            ));
        }
        if descriptor.version.is_empty() || descriptor.version.len() > 64 {
            return Err("the version must be 1-64 characters".to_owned());
        }
        let subscriptions = descriptor
            .subscriptions
            .iter()
            .map(|raw| Pattern::parse(raw))
            .collect::<Result<Vec<_>, _>>()?;
        let routes = descriptor
            .routes
            .iter()
            .map(|route| parse_route(&route.method, &route.path))
            .collect::<Result<Vec<_>, _>>()?;
        descriptor
            .jobs
            .iter()
            .try_for_each(|kind| check_job_kind(kind))?;
        let declared = Exports {
            events: !subscriptions.is_empty(),
            interceptor: descriptor.interceptor.is_some(),
            routes: !routes.is_empty(),
            jobs: !descriptor.jobs.is_empty(),
        };
        declared.provided_by(exports)?;
        Ok(Self {
            name: expected.clone(),
            version: descriptor.version,
            subscriptions,
            subscription_text: descriptor.subscriptions,
            routes,
            interceptor: descriptor.interceptor.map(|decl| Interception {
                order: decl.order,
                paths: decl.paths,
                required: decl.required,
            }),
            capabilities: descriptor.capabilities,
            jobs: descriptor.jobs,
        })
    }

    /// The kind of job `name` when it is one of this plugin's (`<plugin>.<kind>`).
    pub fn job_kind<'n>(&self, name: &'n str) -> Option<&'n str> {
        let kind = name.strip_prefix(self.name.as_str())?.strip_prefix('.')?;
        self.jobs.iter().any(|k| k == kind).then_some(kind)
    }

    pub fn subscribes_to(&self, event: &str) -> bool {
        self.subscriptions
            .iter()
            .any(|pattern| pattern.matches(event))
    }

    pub fn route(&self, method: &str, path: &str) -> Option<&Route> {
        self.routes.iter().find(|route| route.matches(method, path))
    }
}

/// Which optional interfaces the module exports.
#[derive(Debug, Clone, Copy, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one independent flag per optional WIT interface, not a state machine"
)]
pub struct Exports {
    pub events: bool,
    pub interceptor: bool,
    pub routes: bool,
    pub jobs: bool,
}

impl Exports {
    /// Every hook the descriptor declares (`self`) is one the module exports.
    fn provided_by(self, exports: Self) -> Result<(), String> {
        require(self.jobs, exports.jobs, "declares jobs", "jobs")?;
        require(
            self.events,
            exports.events,
            "subscribes to events",
            "events",
        )?;
        require(self.routes, exports.routes, "declares routes", "routes")?;
        require(
            self.interceptor,
            exports.interceptor,
            "declares an interceptor",
            "http-interceptor",
        )
    }
}

/// A plugin's job kind: 1-31 of `[a-z0-9_-]`, so `<plugin>.<kind>` stays a valid job name.
fn check_job_kind(kind: &str) -> Result<(), String> {
    let valid = !kind.is_empty()
        && kind.len() <= 31
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!("job kind `{kind}` must be 1-31 of [a-z0-9_-]"))
    }
}

fn require(declared: bool, exported: bool, what: &str, interface: &str) -> Result<(), String> {
    if declared && !exported {
        Err(format!(
            "the plugin {what} but does not export `arcana:plugin/{interface}`"
        ))
    } else {
        Ok(())
    }
}

fn parse_route(method: &str, path: &str) -> Result<Route, String> {
    const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    if !METHODS.contains(&method) {
        return Err(format!("route method `{method}` is not one of {METHODS:?}"));
    }
    if !path.starts_with('/') || path.contains("..") || path.contains('?') {
        return Err(format!(
            "route path `{path}` must start with `/`, without `..` or `?`"
        ));
    }
    Ok(match path.strip_suffix('*') {
        Some(prefix) => Route {
            method: method.to_owned(),
            path: prefix.to_owned(),
            subtree: true,
        },
        None => Route {
            method: method.to_owned(),
            path: path.to_owned(),
            subtree: false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::arcana::plugin::types::{InterceptorDecl, RouteDecl};

    fn descriptor() -> Descriptor {
        Descriptor {
            name: "audit".to_owned(),
            version: "1.0.0".to_owned(),
            subscriptions: vec!["user.*".to_owned(), "session.revoked".to_owned()],
            routes: vec![RouteDecl {
                method: "GET".to_owned(),
                path: "/stats".to_owned(),
            }],
            interceptor: None,
            capabilities: vec![],
            jobs: vec!["snapshot".to_owned()],
        }
    }

    fn all() -> Exports {
        Exports {
            events: true,
            interceptor: true,
            routes: true,
            jobs: true,
        }
    }

    #[test]
    fn job_names_are_the_plugin_name_and_a_declared_kind() {
        let name = PluginName::parse("audit").unwrap();
        let manifest = Manifest::check(descriptor(), &name, all()).unwrap();
        assert_eq!(manifest.job_kind("audit.snapshot"), Some("snapshot"));
        assert_eq!(manifest.job_kind("audit.other"), None);
        assert_eq!(manifest.job_kind("auditx.snapshot"), None);
        assert_eq!(manifest.job_kind("audit"), None);
        let no_jobs = Exports {
            jobs: false,
            ..all()
        };
        assert!(Manifest::check(descriptor(), &name, no_jobs).is_err());
    }

    #[test]
    fn patterns_match_prefixes_exact_names_and_everything() {
        let name = PluginName::parse("audit").unwrap();
        let manifest = Manifest::check(descriptor(), &name, all()).unwrap();
        assert!(manifest.subscribes_to("user.registered"));
        assert!(manifest.subscribes_to("session.revoked"));
        assert!(!manifest.subscribes_to("session.refreshed"));
        assert!(!manifest.subscribes_to("users.x"));
        assert!(Pattern::parse("*").unwrap().matches("job.dead_lettered"));
        assert!(Pattern::parse("user.*.x").is_err());
        assert!(Pattern::parse("").is_err());
    }

    #[test]
    fn a_descriptor_must_name_its_file_and_export_what_it_declares() {
        let other = PluginName::parse("other").unwrap();
        assert!(
            Manifest::check(descriptor(), &other, all())
                .unwrap_err()
                .contains("installed as")
        );
        let name = PluginName::parse("audit").unwrap();
        let no_routes = Exports {
            routes: false,
            ..all()
        };
        assert!(
            Manifest::check(descriptor(), &name, no_routes)
                .unwrap_err()
                .contains("routes")
        );
        let mut intercepting = descriptor();
        intercepting.interceptor = Some(InterceptorDecl {
            order: 0,
            paths: vec![],
            required: false,
        });
        let no_interceptor = Exports {
            interceptor: false,
            ..all()
        };
        assert!(Manifest::check(intercepting, &name, no_interceptor).is_err());
    }

    #[test]
    fn routes_match_exactly_or_by_subtree() {
        let exact = parse_route("GET", "/stats").unwrap();
        assert!(exact.matches("GET", "/stats"));
        assert!(!exact.matches("GET", "/stats/x"));
        assert!(!exact.matches("POST", "/stats"));
        let tree = parse_route("GET", "/files/*").unwrap();
        assert!(tree.matches("GET", "/files/a/b"));
        assert!(parse_route("TRACE", "/x").is_err());
        assert!(parse_route("GET", "/../x").is_err());
    }
}
