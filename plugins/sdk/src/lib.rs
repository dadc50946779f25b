//! The guest side of `arcana:plugin@0.1.0`.
//!
//! A plugin implements [`Plugin`] (only `describe` is required; every hook has a harmless
//! default) and calls [`export!`] once. The host only calls the hooks the descriptor announces:
//! subscriptions for `on_event`, routes for `handle`, an interceptor declaration for
//! `before`/`after`. Host functions are in [`host`].
//!
//! ```ignore
//! struct Hello;
//! impl arcana_plugin_sdk::Plugin for Hello {
//!     fn describe() -> Descriptor { Descriptor::new("hello", "1.0.0").subscribe("user.*") }
//!     fn on_event(event: Event) -> Result<(), String> {
//!         arcana_plugin_sdk::info!("saw {}", event.name);
//!         Ok(())
//!     }
//! }
//! arcana_plugin_sdk::export!(Hello);
//! ```

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "export_world",
        default_bindings_module: "arcana_plugin_sdk::bindings",
    });
}

pub use bindings::arcana::plugin::types::{
    Descriptor, Event, Header, HeaderOp, InterceptorDecl, RequestHead, Response, RouteDecl,
};
pub use bindings::exports::arcana::plugin::http_interceptor::BeforeAction;
pub use bindings::exports::arcana::plugin::jobs::JobError;

/// Host functions: the only way out of the sandbox.
pub mod host {
    pub use crate::bindings::arcana::plugin::audit::append as audit;
    pub use crate::bindings::arcana::plugin::clock::now_ms;
    pub use crate::bindings::arcana::plugin::kv;
    pub use crate::bindings::arcana::plugin::log::{Level, log};
    pub use crate::bindings::arcana::plugin::metrics::counter_add;
}

/// A plugin. Only `describe` must be written; the host never calls a hook the descriptor does
/// not announce, so the defaults are never reached by accident.
pub trait Plugin {
    fn describe() -> Descriptor;

    fn on_event(_event: Event) -> Result<(), String> {
        Ok(())
    }

    fn before(_request: RequestHead) -> BeforeAction {
        BeforeAction::Continue
    }

    fn after(_request: RequestHead, _status: u16) -> Vec<HeaderOp> {
        Vec::new()
    }

    fn handle(_request: RequestHead, _body: Vec<u8>) -> Response {
        Response::text(404, "no such route")
    }

    /// One attempt of job `kind` (declared with [`Descriptor::job`]); `payload` is JSON.
    fn handle_job(kind: String, _payload: String) -> Result<(), JobError> {
        Err(JobError {
            retryable: false,
            message: format!("no job kind {kind}"),
        })
    }
}

impl Descriptor {
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            subscriptions: Vec::new(),
            routes: Vec::new(),
            interceptor: None,
            capabilities: Vec::new(),
            jobs: Vec::new(),
        }
    }

    /// Runs jobs named `<plugin>.<kind>`.
    #[must_use]
    pub fn job(mut self, kind: &str) -> Self {
        self.jobs.push(kind.to_owned());
        self
    }

    #[must_use]
    pub fn subscribe(mut self, pattern: &str) -> Self {
        self.subscriptions.push(pattern.to_owned());
        self
    }

    #[must_use]
    pub fn route(mut self, method: &str, path: &str) -> Self {
        self.routes.push(RouteDecl {
            method: method.to_owned(),
            path: path.to_owned(),
        });
        self
    }

    /// Intercepts requests whose path starts with one of `paths` (every request when empty).
    #[must_use]
    pub fn intercept(mut self, order: i32, paths: &[&str], required: bool) -> Self {
        self.interceptor = Some(InterceptorDecl {
            order,
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            required,
        });
        self
    }

    /// Asks for a capability (`env:NAME`, `fs.read:/dir`, `net.connect:host:port`); it is given
    /// only if the operator grants it too.
    #[must_use]
    pub fn capability(mut self, capability: &str) -> Self {
        self.capabilities.push(capability.to_owned());
        self
    }
}

impl Response {
    pub fn text(status: u16, body: &str) -> Self {
        Self::with_type(
            status,
            "text/plain; charset=utf-8",
            body.as_bytes().to_vec(),
        )
    }

    pub fn json(status: u16, body: String) -> Self {
        Self::with_type(status, "application/json", body.into_bytes())
    }

    fn with_type(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![Header {
                name: "content-type".to_owned(),
                value: content_type.to_owned(),
            }],
            body,
        }
    }
}

/// Logs through the host at `info` level, `format!` style.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        $crate::host::log($crate::host::Level::Info, &format!($($arg)*))
    };
}

/// Logs through the host at `warn` level, `format!` style.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        $crate::host::log($crate::host::Level::Warn, &format!($($arg)*))
    };
}

/// Exports a [`Plugin`] implementation as the component's hooks.
#[macro_export]
macro_rules! export {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __ArcanaExports;

        impl $crate::bindings::exports::arcana::plugin::meta::Guest for __ArcanaExports {
            fn describe() -> $crate::Descriptor {
                <$plugin as $crate::Plugin>::describe()
            }
        }

        impl $crate::bindings::exports::arcana::plugin::events::Guest for __ArcanaExports {
            fn on_event(event: $crate::Event) -> Result<(), String> {
                <$plugin as $crate::Plugin>::on_event(event)
            }
        }

        impl $crate::bindings::exports::arcana::plugin::http_interceptor::Guest for __ArcanaExports {
            fn before(request: $crate::RequestHead) -> $crate::BeforeAction {
                <$plugin as $crate::Plugin>::before(request)
            }

            fn after(request: $crate::RequestHead, status: u16) -> Vec<$crate::HeaderOp> {
                <$plugin as $crate::Plugin>::after(request, status)
            }
        }

        impl $crate::bindings::exports::arcana::plugin::routes::Guest for __ArcanaExports {
            fn handle(request: $crate::RequestHead, body: Vec<u8>) -> $crate::Response {
                <$plugin as $crate::Plugin>::handle(request, body)
            }
        }

        impl $crate::bindings::exports::arcana::plugin::jobs::Guest for __ArcanaExports {
            fn handle(kind: String, payload: String) -> Result<(), $crate::JobError> {
                <$plugin as $crate::Plugin>::handle_job(kind, payload)
            }
        }

        $crate::bindings::export_world!(__ArcanaExports with_types_in $crate::bindings);
    };
}
