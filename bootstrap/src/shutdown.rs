//! One shutdown signal per process: SIGINT or SIGTERM stops every listener and task, which then
//! drain within the configured grace.

use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use tokio::sync::watch;

/// Set by a supervisor (`arcana dev layered`) that holds this process's standard input open:
/// end of input then means the supervisor is gone, and the process stops as if signalled.
pub(crate) const STOP_ON_STDIN_EOF: &str = "ARCANA_STOP_ON_STDIN_EOF";

/// Resolves every [`Shutdown::requested`] future once a signal arrives. Cloning is cheap.
#[derive(Clone)]
pub(crate) struct Shutdown {
    stopping: watch::Receiver<bool>,
}

impl Shutdown {
    /// Starts listening for SIGINT and SIGTERM (must run inside the runtime).
    pub(crate) fn listen() -> Self {
        let (stop, stopping) = watch::channel(false);
        tokio::spawn(async move {
            tokio::select! {
                () = signal() => {}
                () = supervisor_gone() => {}
            }
            tracing::info!("shutdown requested; finishing in-flight work");
            stop.send_replace(true);
        });
        Self { stopping }
    }

    /// Resolves once shutdown has been requested.
    pub(crate) fn requested(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopping = self.stopping.clone();
        async move {
            // An error means the sender is gone, which only happens as the process ends.
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    }

    /// Resolves `grace` after shutdown was requested: the bound on draining.
    pub(crate) fn deadline(&self, grace: Duration) -> impl Future<Output = ()> + Send + 'static {
        let requested = self.requested();
        async move {
            requested.await;
            tokio::time::sleep(grace).await;
        }
    }
}

async fn supervisor_gone() {
    if std::env::var_os(STOP_ON_STDIN_EOF).is_none() {
        return std::future::pending().await;
    }
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0_u8; 64];
    // Anything read is ignored; only the end of input matters.
    while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
}

async fn signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
