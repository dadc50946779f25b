//! TLS in front of axum's server: an [`axum::serve::Listener`] that yields connections only
//! once their TLS handshake has completed.
//!
//! Handshakes run in their own tasks, bounded in time, so a slow or silent client (or one
//! speaking plain HTTP) never holds up the connections behind it; axum keeps the rest: HTTP/1.1,
//! keep-alive, and graceful shutdown (stop accepting, finish in-flight requests).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::Instrument as _;

/// Connections handed to axum but not yet taken; more wait in their handshake tasks.
const READY_BACKLOG: usize = 64;
/// Pause after a failed `accept` (typically out of file descriptors) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

type Established = (TlsStream<TcpStream>, SocketAddr);

pub(crate) struct TlsListener {
    established: mpsc::Receiver<Established>,
    local: SocketAddr,
    /// The accept loop; stopped when axum drops the listener at shutdown, which closes the
    /// socket so that new connections are refused while in-flight ones finish.
    accepting: JoinHandle<()>,
}

impl TlsListener {
    pub(crate) fn new(
        tcp: TcpListener,
        config: Arc<ServerConfig>,
        handshake_timeout: Duration,
    ) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (ready, established) = mpsc::channel(READY_BACKLOG);
        let acceptor = TlsAcceptor::from(config);
        let accepting =
            tokio::spawn(accept_loop(tcp, acceptor, ready, handshake_timeout).in_current_span());
        Ok(Self {
            established,
            local,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> Established {
        match self.established.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<Established>,
    handshake_timeout: Duration,
) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "internal listener: accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // Small request/response pairs: do not wait to coalesce segments.
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                // Plain HTTP, a client distrusting our certificate, a scanner: not ours to
                // answer, and no log line per probe for a noisy client to flood.
                Ok(Err(err)) => tracing::debug!(%peer, error = %err, "TLS handshake refused"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}
