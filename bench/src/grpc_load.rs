//! The gRPC load client: a fixed number of calls in flight over a few HTTP/2 connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcana_adapter_grpc::proto::auth::v1 as pb;
use arcana_adapter_grpc::proto::auth::v1::auth_service_client::AuthServiceClient;
use tokio::sync::Mutex;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::http_load::Sample;

pub const CONNECTIONS: usize = 4;
pub const IN_FLIGHT: usize = 64;

pub async fn connect(url: &str) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        channels.push(Endpoint::from_shared(url.to_owned())?.connect().await?);
    }
    Ok(channels)
}

#[derive(Clone, Copy)]
pub enum Rpc {
    HealthCheck,
    ValidateToken,
}

async fn call(rpc: Rpc, channel: Channel, token: &str) -> bool {
    match rpc {
        Rpc::HealthCheck => {
            let request = HealthCheckRequest {
                service: String::new(),
            };
            HealthClient::new(channel).check(request).await.is_ok()
        }
        Rpc::ValidateToken => {
            let request = pb::ValidateTokenRequest {
                access_token: token.to_owned(),
            };
            let answer = AuthServiceClient::new(channel)
                .validate_token(request)
                .await;
            answer.is_ok_and(|answer| answer.into_inner().valid)
        }
    }
}

/// `IN_FLIGHT` callers for `warm_up + measure`, counting only the measured part.
pub async fn run(
    channels: &[Channel],
    rpc: Rpc,
    token: &str,
    warm_up: Duration,
    measure: Duration,
) -> Sample {
    let start = Instant::now();
    let (from, until) = (start + warm_up, start + warm_up + measure);
    let total = Arc::new(Mutex::new(Sample {
        seconds: measure.as_secs_f64(),
        ..Sample::default()
    }));
    let mut callers = tokio::task::JoinSet::new();
    for index in 0..IN_FLIGHT {
        let channel = channels[index % channels.len()].clone();
        let (token, total) = (token.to_owned(), total.clone());
        callers.spawn(async move {
            let mut mine = Sample::default();
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let ok = call(rpc, channel.clone(), &token).await;
                let done = Instant::now();
                if done < from || done >= until {
                    continue;
                }
                if ok {
                    mine.ok += 1;
                    let micros = (done - sent).as_micros();
                    mine.latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                } else {
                    mine.errors += 1;
                }
            }
            let mut total = total.lock().await;
            total.ok += mine.ok;
            total.errors += mine.errors;
            total.latencies_us.extend(mine.latencies_us);
        });
    }
    while callers.join_next().await.is_some() {}
    let mut total = total.lock().await;
    std::mem::take(&mut *total)
}
