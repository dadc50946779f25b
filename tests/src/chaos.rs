//! A TCP proxy between a server and its database that a test can cut and restore, to prove
//! what happens when the database goes away and comes back.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

pub struct ChaosProxy {
    addr: SocketAddr,
    target: String,
    /// Accept loop and every forwarding task; aborting them closes every connection.
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl ChaosProxy {
    /// Listens on a free loopback port and forwards every connection to `target` (`host:port`).
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a proxy port");
        let addr = listener.local_addr().expect("proxy address");
        let proxy = Self {
            addr,
            target: target.to_owned(),
            tasks: Arc::new(Mutex::new(JoinSet::new())),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every open connection and refuses new ones.
    pub fn cut(&self) {
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .abort_all();
    }

    /// Accepts connections again, on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("rebind the proxy port");
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target.clone();
        let tasks = self.tasks.clone();
        let mut set = self
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let forward = async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                };
                tasks
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .spawn(forward);
            }
        });
    }
}

/// `url` with its `host:port` replaced by `addr` (credentials, database and query kept).
pub fn redirect(url: &str, addr: SocketAddr) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    format!(
        "{}{}{addr}{}",
        &url[..scheme_end],
        &authority[..host_start],
        &rest[authority_end..]
    )
}

/// The `host:port` a database URL points at (default ports filled in).
pub fn target_of(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host = &authority[authority.rfind('@').map_or(0, |i| i + 1)..];
    if host.contains(':') {
        host.to_owned()
    } else if url.starts_with("postgres") {
        format!("{host}:5432")
    } else {
        format!("{host}:3306")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_redirected_through_the_proxy() {
        let addr = "127.0.0.1:4000".parse().unwrap();
        assert_eq!(
            super::redirect("postgres://postgres@127.0.0.1:5432/db?x=1", addr),
            "postgres://postgres@127.0.0.1:4000/db?x=1"
        );
        assert_eq!(
            super::redirect("mysql://root@localhost/db", addr),
            "mysql://root@127.0.0.1:4000/db"
        );
        assert_eq!(
            super::target_of("mysql://root@localhost/db"),
            "localhost:3306"
        );
        assert_eq!(
            super::target_of("postgres://u:p@10.0.0.1:6543/db"),
            "10.0.0.1:6543"
        );
    }
}
