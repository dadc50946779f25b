//! The HTTP load client: keep-alive HTTP/1.1 connections, one request in flight on each, every
//! response read to its end; latencies recorded per request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What one load run measured.
#[derive(Debug, Default)]
pub struct Sample {
    pub ok: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Microseconds per successful request, unsorted.
    pub latencies_us: Vec<u32>,
}

impl Sample {
    #[expect(
        clippy::cast_precision_loss,
        reason = "request counts are far below 2^52"
    )]
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }

    pub fn merge(&mut self, other: Sample) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.seconds += other.seconds;
        self.latencies_us.extend(other.latencies_us);
    }
}

/// Builds the request each connection sends, again and again.
pub type MakeRequest = Arc<dyn Fn() -> Request<Full<Bytes>> + Send + Sync>;

pub fn address(url: &str) -> anyhow::Result<SocketAddr> {
    let authority = url
        .strip_prefix("http://")
        .context("an http:// URL")?
        .trim_end_matches('/');
    authority.parse().context("a host:port address")
}

pub fn get(path: &str, token: Option<&str>) -> Request<Full<Bytes>> {
    let mut request = Request::builder().method(Method::GET).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request
        .header(header::HOST, "127.0.0.1")
        .body(Full::new(Bytes::new()))
        .expect("a valid request")
}

pub fn post_json(path: &str, body: &serde_json::Value) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid request")
}

pub(crate) async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends one request on a fresh connection; the status and the body.
pub async fn send(addr: SocketAddr, request: Request<Full<Bytes>>) -> anyhow::Result<(u16, Bytes)> {
    let mut sender = connect(addr).await?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

pub async fn health_ok(addr: SocketAddr) -> bool {
    matches!(send(addr, get("/health", None)).await, Ok((200, _)))
}

/// Drives `connections` connections for `warm_up + measure`, counting only the measured part;
/// a 2xx answer is a success.
pub async fn run(
    addr: SocketAddr,
    make: MakeRequest,
    connections: usize,
    warm_up: Duration,
    measure: Duration,
) -> anyhow::Result<Sample> {
    run_expecting(addr, make, connections, (warm_up, measure), |status| {
        (200..300).contains(&status)
    })
    .await
}

/// [`run`], where an answer whose status satisfies `expected` is a success (its latency is
/// recorded) and any other an error.
pub async fn run_expecting(
    addr: SocketAddr,
    make: MakeRequest,
    connections: usize,
    (warm_up, measure): (Duration, Duration),
    expected: fn(u16) -> bool,
) -> anyhow::Result<Sample> {
    let start = Instant::now();
    let (from, until) = (start + warm_up, start + warm_up + measure);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let mut sender = connect(addr).await?;
        let make = make.clone();
        tasks.spawn(async move {
            let mut sample = Sample::default();
            loop {
                let sent = Instant::now();
                if sent >= until || sender.ready().await.is_err() {
                    break;
                }
                let outcome = match sender.send_request(make()).await {
                    Ok(response) => {
                        let ok = expected(response.status().as_u16());
                        response.into_body().collect().await.is_ok() && ok
                    }
                    Err(_) => false,
                };
                let done = Instant::now();
                if done < from || done >= until {
                    continue;
                }
                if outcome {
                    sample.ok += 1;
                    let micros = (done - sent).as_micros();
                    sample
                        .latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                } else {
                    sample.errors += 1;
                }
            }
            sample
        });
    }
    let mut total = Sample {
        seconds: measure.as_secs_f64(),
        ..Sample::default()
    };
    while let Some(sample) = tasks.join_next().await {
        let sample = sample?;
        total.ok += sample.ok;
        total.errors += sample.errors;
        total.latencies_us.extend(sample.latencies_us);
    }
    Ok(total)
}

/// The `q` quantile (0..=1) of `latencies`, in milliseconds.
pub fn quantile_ms(latencies: &mut [u32], q: f64) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    latencies.sort_unstable();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a slice far shorter than 2^52"
    )]
    let index = ((latencies.len() - 1) as f64 * q).round() as usize;
    f64::from(latencies[index]) / 1000.0
}
