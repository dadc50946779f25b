//! A bounded queue in front of tokio's blocking threads: at most `max_concurrent` jobs run, at
//! most `max_waiting` callers queue, and the rest are shed at once.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arcana_ports::security::HashError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

pub(crate) struct BlockingPool {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl BlockingPool {
    /// `max_concurrent` must be at least 1, or every job would wait forever.
    pub(crate) fn new(max_concurrent: usize, max_waiting: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Runs `job` on a blocking thread, inside the caller's span, once a slot is free.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, HashError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.acquire().await?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            // The permit is released when the work ends, not when the caller stops waiting for
            // it: a cancelled request still occupies a core until its job finishes.
            let _permit = permit;
            span.in_scope(job)
        })
        .await
        .map_err(|error| {
            HashError::Internal(anyhow::Error::new(error).context("running a hashing job"))
        })
    }

    async fn acquire(&self) -> Result<OwnedSemaphorePermit, HashError> {
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => return Err(closed()),
            Err(TryAcquireError::NoPermits) => {}
        }
        let _queued = Queued::join(&self.waiting, self.max_waiting).ok_or(HashError::Saturated)?;
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| closed())
    }

    /// Takes a slot as a job would, so that tests can fill the pool deterministically.
    #[cfg(test)]
    pub(crate) fn occupy(&self) -> OwnedSemaphorePermit {
        Arc::clone(&self.permits).try_acquire_owned().unwrap()
    }

    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("available", &self.permits.available_permits())
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .field("max_waiting", &self.max_waiting)
            .finish()
    }
}

/// The semaphore is never closed; this only keeps the impossible case from panicking.
fn closed() -> HashError {
    HashError::Internal(anyhow::anyhow!("the hashing pool's semaphore was closed"))
}

/// A place in the queue for a slot, given up on drop, so that callers that are cancelled while
/// waiting stop counting.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    /// `None` when `max` callers are already waiting. The count only ever grows up to `max`, so
    /// refused callers never make others look saturated.
    fn join(waiting: &'a AtomicUsize, max: usize) -> Option<Self> {
        // Relaxed: the count guards no other data, and the semaphore orders the real work.
        waiting
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(waiting))
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_runs_and_returns_its_value() {
        let pool = BlockingPool::new(1, 0);
        assert_eq!(pool.run(|| 6 * 7).await.unwrap(), 42);
    }

    #[tokio::test]
    async fn callers_beyond_the_queue_limit_are_shed_while_queued_ones_proceed() {
        let pool = Arc::new(BlockingPool::new(1, 1));
        let busy = pool.occupy();

        let queued = tokio::spawn({
            let pool = Arc::clone(&pool);
            async move { pool.run(|| "ran").await }
        });
        for _ in 0..10_000 {
            if pool.waiting() == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.waiting(), 1, "the first caller never queued");

        assert!(matches!(
            pool.run(|| "ran").await,
            Err(HashError::Saturated)
        ));
        assert_eq!(
            pool.waiting(),
            1,
            "a refused caller must not count as waiting"
        );

        drop(busy);
        assert_eq!(queued.await.unwrap().unwrap(), "ran");
        assert_eq!(pool.waiting(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_gives_its_place_back() {
        let pool = BlockingPool::new(1, 1);
        let busy = pool.occupy();
        {
            let waiter = std::pin::pin!(pool.run(|| ()));
            // One poll queues the caller; dropping the future then cancels it.
            assert!(poll_once(waiter).await.is_none());
            assert_eq!(pool.waiting(), 1);
        }
        assert_eq!(pool.waiting(), 0);
        drop(busy);
        assert!(pool.run(|| ()).await.is_ok());
    }

    /// Polls `future` once and reports whether it finished.
    async fn poll_once<F: Future + Unpin>(mut future: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
                std::task::Poll::Ready(output) => Some(output),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
