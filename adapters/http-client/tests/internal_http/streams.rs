//! Server-streaming RPCs on internal HTTP: answers arrive as the callee sends them, a refusal
//! before the first answer comes back as the callee's failure, the callee's feed ends when the
//! caller drops its stream, and shutting the listener down ends open feeds rather than waiting
//! on them for ever.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcana_adapter_internal::server::{AnswerStream, Call, InternalApi, Refusal};
use arcana_adapter_internal::wire::{Failure, FailureKind};
use arcana_adapter_internal::{CallMeta, RemoteError, Transport as _};
use async_trait::async_trait;
use futures_util::StreamExt as _;
use tokio::sync::mpsc;

use crate::support::{CREDENTIAL, TestListener};

const WATCH: &str = "/arcana.test.v1.Feed/Watch";

/// One feed, handed to the first caller; the test holds its sending end.
struct Feed(Mutex<Option<mpsc::Receiver<Vec<u8>>>>);

#[async_trait]
impl InternalApi for Feed {
    fn services(&self) -> &'static [&'static str] {
        &["arcana.test.v1.Feed"]
    }

    fn streams(&self) -> &'static [&'static str] {
        &[WATCH]
    }

    async fn handle(&self, _service: &str, _method: &str, _call: Call) -> Result<Vec<u8>, Refusal> {
        Err(Refusal::UnknownMethod)
    }

    async fn open_stream(
        &self,
        _service: &str,
        _method: &str,
        _call: Call,
    ) -> Result<AnswerStream, Refusal> {
        let taken = self.0.lock().unwrap().take();
        let Some(receiver) = taken else {
            return Err(Refusal::Failed(Failure {
                kind: FailureKind::Forbidden.into(),
                ..Failure::default()
            }));
        };
        Ok(Box::pin(futures_util::stream::unfold(
            receiver,
            |mut receiver| async move { receiver.recv().await.map(|answer| (answer, receiver)) },
        )))
    }
}

async fn feed() -> (TestListener, mpsc::Sender<Vec<u8>>) {
    let (send, receive) = mpsc::channel(8);
    let api = Arc::new(Feed(Mutex::new(Some(receive))));
    (TestListener::spawn(api, vec![]).await, send)
}

#[tokio::test]
async fn answers_flow_as_sent_and_the_callee_s_feed_ends_when_the_caller_leaves() {
    let (listener, send) = feed().await;
    let transport = listener.transport(CREDENTIAL);
    let mut stream = transport
        .open_stream(WATCH, b"{}".to_vec(), &CallMeta::default())
        .await
        .unwrap();
    for n in 1..=3 {
        let answer = format!(r#"{{"n":{n},"text":"two\nlines"}}"#);
        send.send(answer.clone().into_bytes()).await.unwrap();
        let received = stream.next().await.unwrap().unwrap();
        assert_eq!(String::from_utf8(received).unwrap(), answer);
    }

    let second = transport
        .open_stream(WATCH, b"{}".to_vec(), &CallMeta::default())
        .await;
    assert!(
        matches!(&second, Err(RemoteError::Refused(failure)) if failure.kind() == FailureKind::Forbidden),
        "a refusal before the first answer is the callee's failure"
    );

    drop(stream);
    tokio::time::timeout(Duration::from_secs(5), send.closed())
        .await
        .expect("the callee drops its feed once the caller has gone");
}

#[tokio::test]
async fn shutting_the_listener_down_ends_open_feeds_and_finishes() {
    let (mut listener, send) = feed().await;
    let transport = listener.transport(CREDENTIAL);
    let mut stream = transport
        .open_stream(WATCH, b"{}".to_vec(), &CallMeta::default())
        .await
        .unwrap();
    send.send(b"{}".to_vec()).await.unwrap();
    assert!(stream.next().await.unwrap().is_ok());

    listener.shut_down();
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the feed ends with the listener");
    assert!(end.is_none(), "a clean end, not a broken link: {end:?}");
    tokio::time::timeout(Duration::from_secs(5), &mut listener.task)
        .await
        .expect("the listener finishes draining")
        .unwrap()
        .unwrap();
    drop(send);
}
