//! The framing of server-streaming RPCs on internal HTTP: newline-delimited JSON.
//!
//! One message per line (JSON never contains a raw newline: serde escapes it in strings), in a
//! chunked `200` answer. While the feed is quiet the callee writes an empty line every
//! [`HEARTBEAT`]: the caller, which gives up after [`IDLE_LIMIT`] without a byte, can tell a
//! quiet feed from a dead peer, and the callee's write to a caller that vanished without closing
//! its connection fails, which ends the feed there too. Lines are bounded by [`MAX_LINE`], so a
//! peer that never ends a line cannot grow the caller's buffer without limit.

use std::convert::Infallible;
use std::time::Duration;

use arcana_adapter_internal::server::AnswerStream;
use arcana_adapter_internal::{MessageStream, RemoteError};
use bytes::{Buf as _, Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _, stream};

pub(crate) const MEDIA_TYPE: &str = "application/x-ndjson";

/// How often a quiet feed says it is alive.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(10);

/// Silence after which the caller considers the callee gone: three missed heartbeats.
pub(crate) const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// The longest line accepted; a job event is a few hundred bytes.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// The callee's side: each answer as one line, and an empty line after [`HEARTBEAT`] of silence.
pub(crate) fn write(
    answers: AnswerStream,
    heartbeat: Duration,
) -> impl Stream<Item = Result<Vec<u8>, Infallible>> + Send {
    let quiet = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    stream::unfold((answers, quiet), |(mut answers, mut quiet)| async move {
        let line = tokio::select! {
            answer = answers.next() => {
                let mut line = answer?;
                line.push(b'\n');
                quiet.reset();
                line
            }
            _ = quiet.tick() => b"\n".to_vec(),
        };
        Some((Ok(line), (answers, quiet)))
    })
}

/// The caller's side over an answer's body.
pub(crate) fn read(response: reqwest::Response, tier: &'static str) -> MessageStream {
    let chunks = stream::unfold(Some(response), move |state| async move {
        let mut response = state?;
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
            Ok(None) => None,
            Err(err) => {
                let cause =
                    anyhow::Error::new(err).context(format!("reading the {tier} tier's feed"));
                Some((Err(cause), None))
            }
        }
    });
    lines(Box::pin(chunks), MAX_LINE)
}

struct Lines<S> {
    chunks: S,
    buffer: BytesMut,
    max_line: usize,
}

/// Splits `chunks` into messages, skipping heartbeats; a broken body, an over-long line or a body
/// cut in the middle of a line ends the stream with one `NoAnswer` item.
pub(crate) fn lines<S>(chunks: S, max_line: usize) -> MessageStream
where
    S: Stream<Item = Result<Bytes, anyhow::Error>> + Send + Unpin + 'static,
{
    let state = Lines {
        chunks,
        buffer: BytesMut::new(),
        max_line,
    };
    Box::pin(stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        match next_line(&mut state).await {
            Ok(Some(line)) => Some((Ok(line), Some(state))),
            Ok(None) => None,
            Err(cause) => Some((Err(RemoteError::NoAnswer(cause)), None)),
        }
    }))
}

async fn next_line<S>(state: &mut Lines<S>) -> Result<Option<Vec<u8>>, anyhow::Error>
where
    S: Stream<Item = Result<Bytes, anyhow::Error>> + Unpin,
{
    loop {
        while let Some(end) = state.buffer.iter().position(|byte| *byte == b'\n') {
            let line = state.buffer.split_to(end);
            state.buffer.advance(1);
            if !line.is_empty() {
                return Ok(Some(line.to_vec()));
            }
        }
        anyhow::ensure!(
            state.buffer.len() <= state.max_line,
            "a streamed message longer than {} bytes",
            state.max_line
        );
        match state.chunks.next().await {
            Some(chunk) => state.buffer.extend_from_slice(&chunk?),
            None if state.buffer.is_empty() => return Ok(None),
            None => anyhow::bail!("the feed ended in the middle of a message"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(
        parts: &[&'static str],
    ) -> impl Stream<Item = Result<Bytes, anyhow::Error>> + Send + Unpin + 'static {
        stream::iter(
            parts
                .iter()
                .map(|part| Ok(Bytes::from_static(part.as_bytes())))
                .collect::<Vec<_>>(),
        )
    }

    async fn all(stream: MessageStream) -> Vec<Result<String, String>> {
        stream
            .map(|item| {
                item.map(|line| String::from_utf8(line).unwrap())
                    .map_err(|err| match err {
                        RemoteError::Unreachable(cause) | RemoteError::NoAnswer(cause) => {
                            format!("{cause:#}")
                        }
                        RemoteError::Refused(failure) => format!("refused: {failure:?}"),
                    })
            })
            .collect()
            .await
    }

    #[tokio::test]
    async fn messages_split_across_chunks_come_out_whole_and_heartbeats_vanish() {
        let read = all(lines(
            chunked(&["\n{\"a\":", "1}\n\n{\"b\"", ":2}\n", "\n"]),
            64,
        ))
        .await;
        assert_eq!(
            read,
            [Ok(r#"{"a":1}"#.to_owned()), Ok(r#"{"b":2}"#.to_owned())]
        );
    }

    #[tokio::test]
    async fn a_line_over_the_bound_ends_the_stream_as_unreachable() {
        let read = all(lines(
            chunked(&["{\"a\":1}\n", "0123456789", "0123456789"]),
            16,
        ))
        .await;
        assert_eq!(read.len(), 2);
        assert!(read[1].as_ref().unwrap_err().contains("longer than 16"));
    }

    #[tokio::test]
    async fn a_feed_cut_mid_message_is_unreachable_not_a_message() {
        let read = all(lines(chunked(&["{\"a\":1}\n{\"b\""]), 64)).await;
        assert_eq!(read.len(), 2);
        assert!(
            read[1]
                .as_ref()
                .unwrap_err()
                .contains("middle of a message")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_feed_sends_heartbeats_and_ends_with_its_answers() {
        let (send, receive) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let answers: AnswerStream = Box::pin(stream::unfold(receive, |mut receive| async move {
            receive.recv().await.map(|answer| (answer, receive))
        }));
        let mut written = Box::pin(write(answers, HEARTBEAT));
        send.send(b"{\"a\":1}".to_vec()).await.unwrap();
        assert_eq!(written.next().await.unwrap().unwrap(), b"{\"a\":1}\n");
        // Nothing to say for longer than a heartbeat: an empty line, not silence.
        assert_eq!(written.next().await.unwrap().unwrap(), b"\n");
        drop(send);
        assert!(written.next().await.is_none());
    }
}
