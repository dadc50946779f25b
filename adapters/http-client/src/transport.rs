//! The calling end: a pool of keep-alive TLS connections to the next tier.

use std::time::Duration;

use anyhow::Context as _;
use arcana_adapter_internal::{CallMeta, Encoding, MessageStream, RemoteError, Transport};
use arcana_ports::health::{Health, HealthCheck};
use async_trait::async_trait;
use http::{HeaderMap, HeaderValue, header};

use crate::credential::CREDENTIAL_HEADER;
use crate::status::into_remote_error;
use crate::{ndjson, tls};

/// A link to one remote tier. Cloning shares the connection pool.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    /// The pool of streaming calls: no overall timeout (a feed lasts as long as it lasts), but
    /// a read must come at least every [`ndjson::IDLE_LIMIT`] (the callee sends heartbeats far
    /// more often), and long-lived feeds never hold connections the unary calls wait for.
    streams: reqwest::Client,
    /// Bounds a unary call, and the opening of a streaming one.
    timeout: Duration,
    /// `https://host:port`, without a trailing slash; RPC paths start with one.
    base_url: String,
    /// The tier on the other end: the name its certificate must carry.
    tier: &'static str,
    /// The link's credential, marked sensitive so that no header dump shows it.
    credential: HeaderValue,
}

impl HttpTransport {
    /// A link to `url` (`https://host:port`), trusting only the deployment's CA (`ca_pem`) and
    /// expecting the server's certificate to name `tier`; every call presents `credential` and
    /// is bounded by `timeout`, connecting and reading the answer included, so a dead tier costs
    /// at most that. Connects lazily, on the first call.
    ///
    /// # Errors
    /// The URL is not `https://`, the CA is unusable, or the credential is empty or not a valid
    /// header value (the message never shows it).
    pub fn new(
        url: &str,
        tier: &'static str,
        ca_pem: &[u8],
        credential: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url).with_context(|| format!("tiers URL {url:?}"))?;
        anyhow::ensure!(
            parsed.scheme() == "https",
            "tiers URL {url:?}: internal links are TLS only (https://)"
        );
        anyhow::ensure!(
            !credential.is_empty(),
            "the {tier} link's service credential is empty"
        );
        let mut credential = HeaderValue::from_str(credential).map_err(|_| {
            anyhow::anyhow!("the {tier} link's service credential is not a valid header value")
        })?;
        credential.set_sensitive(true);
        let builder = || -> anyhow::Result<reqwest::ClientBuilder> {
            Ok(reqwest::Client::builder()
                .tls_backend_preconfigured(tls::client_config(ca_pem, tier)?)
                .https_only(true)
                // Internal hops go straight to the next tier, whatever HTTP(S)_PROXY says.
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                // Connecting (TCP and TLS) gets half the call's budget: a tier that cannot be
                // connected to in that time then reports "never reached" (nothing was sent)
                // rather than racing the call's own timeout, which means "outcome unknown".
                .connect_timeout(timeout / 2)
                .tcp_nodelay(true))
        };
        let client = builder()?
            .timeout(timeout)
            .build()
            .context("building the internal HTTP client")?;
        let streams = builder()?
            .read_timeout(ndjson::IDLE_LIMIT)
            .build()
            .context("building the internal HTTP client of streams")?;
        Ok(Self {
            client,
            streams,
            timeout,
            base_url: url.trim_end_matches('/').to_owned(),
            tier,
            credential,
        })
    }

    /// The readiness check of the tier on the other end, as its `/health/ready` reports it.
    pub fn health(&self) -> HttpHealth {
        HttpHealth {
            client: self.client.clone(),
            url: format!("{}/health/ready", self.base_url),
            tier: self.tier,
        }
    }

    fn headers(&self, meta: &CallMeta) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(6);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(CREDENTIAL_HEADER, self.credential.clone());
        for (name, value) in meta.entries() {
            if let Ok(mut value) = HeaderValue::from_str(&value) {
                // Keeps the bearer token out of any debug output of the request.
                value.set_sensitive(name == "authorization");
                headers.insert(name, value);
            }
        }
        headers
    }
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("base_url", &self.base_url)
            .field("tier", &self.tier)
            .finish_non_exhaustive()
    }
}

/// Whatever kept the call from producing an answer: no connection (refused, TLS) means the
/// callee was never reached; a timeout or a cut answer leaves the outcome unknown.
fn unreachable(err: reqwest::Error, tier: &str) -> RemoteError {
    let connect = err.is_connect();
    let cause = anyhow::Error::new(err).context(format!("calling the {tier} tier"));
    if connect {
        RemoteError::Unreachable(cause)
    } else {
        RemoteError::NoAnswer(cause)
    }
}

#[async_trait]
impl Transport for HttpTransport {
    fn encoding(&self) -> Encoding {
        Encoding::Json
    }

    async fn call(
        &self,
        path: &'static str,
        body: Vec<u8>,
        meta: &CallMeta,
    ) -> Result<Vec<u8>, RemoteError> {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .headers(self.headers(meta))
            .body(body)
            .send()
            .await
            .map_err(|err| unreachable(err, self.tier))?;
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let answer = response
            .bytes()
            .await
            .map_err(|err| unreachable(err, self.tier))?;
        if status.is_success() {
            return Ok(answer.into());
        }
        Err(into_remote_error(
            status,
            content_type.as_ref(),
            &answer,
            self.tier,
        ))
    }

    /// `POST {url}{path}` on the streams pool; the answer is newline-delimited JSON
    /// ([`ndjson`]). Dropping the stream drops the connection, which ends the call on the
    /// callee.
    async fn open_stream(
        &self,
        path: &'static str,
        body: Vec<u8>,
        meta: &CallMeta,
    ) -> Result<MessageStream, RemoteError> {
        let request = self
            .streams
            .post(format!("{}{path}", self.base_url))
            .headers(self.headers(meta))
            .header(header::ACCEPT, ndjson::MEDIA_TYPE)
            .body(body)
            .send();
        let response = tokio::time::timeout(self.timeout, request)
            .await
            .map_err(|_| {
                RemoteError::NoAnswer(anyhow::anyhow!(
                    "the {} tier did not answer within {:?}",
                    self.tier,
                    self.timeout
                ))
            })?
            .map_err(|err| unreachable(err, self.tier))?;
        let status = response.status();
        if status.is_success() {
            return Ok(ndjson::read(response, self.tier));
        }
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let answer = tokio::time::timeout(self.timeout, response.bytes())
            .await
            .map_err(|_| {
                RemoteError::NoAnswer(anyhow::anyhow!(
                    "the {} tier's refusal did not arrive in time",
                    self.tier
                ))
            })?
            .map_err(|err| unreachable(err, self.tier))?;
        Err(into_remote_error(
            status,
            content_type.as_ref(),
            &answer,
            self.tier,
        ))
    }
}

/// How a tier that is up but not ready is reported, naming what it lacks.
fn not_ready(tier: &str, down: &[&str]) -> String {
    if down.is_empty() {
        format!("the {tier} tier is not ready")
    } else {
        format!("the {tier} tier is not ready: {} down", down.join(", "))
    }
}

/// Readiness of the next tier: its internal listener's `/health/ready`, which in turn covers
/// the tier behind it. Sent without the credential: the probes are open, and a secret not sent
/// cannot leak.
pub struct HttpHealth {
    client: reqwest::Client,
    url: String,
    tier: &'static str,
}

#[async_trait]
impl HealthCheck for HttpHealth {
    fn name(&self) -> &'static str {
        self.tier
    }

    async fn check(&self) -> Health {
        match self.client.get(&self.url).send().await {
            Ok(answer) if answer.status().is_success() => Health::Up {
                detail: format!("{} tier ready (HTTP)", self.tier),
            },
            Ok(answer) => {
                // The tier's own report names what it is missing (the tier behind it, say).
                let report: serde_json::Value = answer.json().await.unwrap_or_default();
                let down: Vec<&str> = report["checks"]
                    .as_object()
                    .map(|checks| {
                        checks
                            .iter()
                            .filter(|(_, check)| check["status"] == "down")
                            .map(|(name, _)| name.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                Health::Down {
                    reason: not_ready(self.tier, &down),
                }
            }
            Err(err) => Health::Down {
                reason: format!(
                    "the {} tier is unreachable ({})",
                    self.tier,
                    if err.is_timeout() {
                        "timed out"
                    } else {
                        "no connection"
                    }
                ),
            },
        }
    }
}
