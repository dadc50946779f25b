//! `arcana dev layered`: what a newcomer runs to try the layered modes.

use std::time::Duration;

use arcana_tests::{Deployment, TempFile, TestApp};

use crate::BINS;

/// Whether something still accepts connections at `https://ADDR` or `http://ADDR`.
async fn accepts(url: &str) -> bool {
    let address = url.rsplit("//").next().unwrap_or_default();
    tokio::net::TcpStream::connect(address).await.is_ok()
}

async fn stops_every_tier_on_sigterm(deployment: Deployment) {
    let file = TempFile::new("arcana-dev");
    let url = file.sqlite_url();
    let app = TestApp::deploy(BINS.arcana, deployment, &[("ARCANA_DATABASE__URL", &url)]).await;
    let listeners: Vec<String> = app
        .announced
        .iter()
        .filter_map(|line| {
            line.split_once(" listening on ")
                .map(|(_, url)| url.to_owned())
        })
        .collect();
    assert_eq!(
        listeners.len(),
        4,
        "repository, service, controller gRPC and REST: {listeners:?}"
    );
    assert!(
        app.announced
            .iter()
            .any(|l| l.starts_with("arcana: repository internal listening on https://"))
    );
    assert!(
        app.announced
            .iter()
            .any(|l| l.starts_with("arcana: service internal listening on https://"))
    );
    app.register("newcomer", crate::PASSWORD).await;
    for listener in &listeners {
        assert!(accepts(listener).await, "{listener} is up");
    }
    assert_eq!(app.terminate().await, Some(0), "a clean exit");
    for listener in &listeners {
        let mut closed = false;
        for _ in 0..50 {
            if !accepts(listener).await {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(closed, "{listener} is gone after SIGTERM");
    }
}

#[tokio::test]
async fn dev_layered_over_grpc_announces_every_listener_and_stops_every_tier_on_sigterm() {
    stops_every_tier_on_sigterm(Deployment::LayeredGrpc).await;
}

#[tokio::test]
async fn dev_layered_over_http_announces_every_listener_and_stops_every_tier_on_sigterm() {
    stops_every_tier_on_sigterm(Deployment::LayeredHttp).await;
}
