//! What a guest writes to stdout or stderr: kept as the last few hundred bytes per instance, so
//! a panic message ("trapper fails on …") can be attached to the failure it explains without a
//! chatty plugin filling memory or the server's log.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

const KEEP: usize = 1024;

#[derive(Clone, Default)]
pub struct OutputTail(Arc<Mutex<VecDeque<u8>>>);

impl OutputTail {
    /// The last meaningful line written since the previous call, and forgets the rest: for a
    /// Rust guest's panic that is the panic message.
    pub fn take_last_line(&self) -> Option<String> {
        let mut tail = self.0.lock().ok()?;
        if tail.is_empty() {
            return None;
        }
        let bytes: Vec<u8> = tail.drain(..).collect();
        drop(tail);
        let text = String::from_utf8_lossy(&bytes);
        text.lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty() && !line.starts_with("note: "))
            .map(|line| line.chars().take(300).collect())
    }
}

impl IsTerminal for OutputTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for OutputTail {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for OutputTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if let Ok(mut tail) = self.0.lock() {
            tail.extend(buf.iter().copied());
            let excess = tail.len().saturating_sub(KEEP);
            tail.drain(..excess);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    #[tokio::test]
    async fn the_panic_message_is_the_last_meaningful_line_and_the_tail_stays_bounded() {
        let tail = OutputTail::default();
        let mut writer = tail.clone();
        writer.write_all(&vec![b'x'; 5 * KEEP]).await.unwrap();
        writer
            .write_all(b"\nthread '<unnamed>' panicked at src/lib.rs:19:9:\ntrapper fails on user.registered\nnote: run with `RUST_BACKTRACE=1`\n")
            .await
            .unwrap();
        assert!(tail.0.lock().unwrap().len() <= KEEP);
        assert_eq!(
            tail.take_last_line().as_deref(),
            Some("trapper fails on user.registered")
        );
        assert_eq!(tail.take_last_line(), None, "taken");
    }
}
