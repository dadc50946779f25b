//! A bounded queue in front of a few dedicated hashing threads: at most `max_concurrent` jobs
//! run, at most `max_waiting` callers queue, and the rest are shed at once.
//!
//! Dedicated threads rather than tokio's blocking pool: every Argon2 call allocates its whole
//! memory cost (19 MiB by default), and the allocator keeps a per-thread arena of that size
//! around. On tokio's pool a login storm spreads hashes over dozens of short-lived threads and
//! resident memory grows to hundreds of MiB; on `max_concurrent` long-lived threads it stays at
//! `max_concurrent` × the memory cost.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use arcana_ports::security::HashError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct BlockingPool {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    /// Feeds the worker threads; they stop when the pool (and so this sender) is dropped.
    jobs: mpsc::Sender<Job>,
}

impl BlockingPool {
    /// Starts `max_concurrent` worker threads; it must be at least 1, or every job would wait
    /// forever.
    pub(crate) fn new(max_concurrent: usize, max_waiting: usize) -> anyhow::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..max_concurrent {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("arcana-hash-{index}"))
                .spawn(move || work(&receiver))
                .map_err(|error| anyhow::Error::new(error).context("starting a hashing thread"))?;
        }
        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            waiting: AtomicUsize::new(0),
            max_waiting,
            jobs: sender,
        })
    }

    /// Runs `job` on a hashing thread, inside the caller's span, once a slot is free.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, HashError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.acquire().await?;
        let span = tracing::Span::current();
        let (reply, outcome) = tokio::sync::oneshot::channel();
        let task: Job = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| span.in_scope(job)));
            // The permit is released when the work ends, not when the caller stops waiting for
            // it: a cancelled request still occupies a core until its job finishes. And it is
            // released before the caller hears back, so that the caller's next job finds the
            // slot free instead of being shed as if the pool were saturated.
            drop(permit);
            match outcome {
                Ok(value) => {
                    let _ = reply.send(value);
                }
                // Unwinding drops `reply`, which fails the caller; `work` logs the panic.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        self.jobs.send(task).map_err(|_| stopped())?;
        // A job that panicked drops its reply sender: that is this error, not a hang.
        outcome.await.map_err(|_| stopped())
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
            .finish_non_exhaustive()
    }
}

/// Runs jobs until the pool is dropped. A panicking job fails only its own caller.
fn work(receiver: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, never while running one.
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a password hashing job panicked");
        }
    }
}

fn stopped() -> HashError {
    HashError::Internal(anyhow::anyhow!("the hashing threads stopped"))
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
    async fn a_panicking_job_fails_its_caller_and_the_threads_keep_working() {
        let pool = BlockingPool::new(1, 0).unwrap();
        let failed = pool.run(|| -> u8 { panic!("boom") }).await;
        assert!(matches!(failed, Err(HashError::Internal(_))));
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_job_runs_and_returns_its_value() {
        let pool = BlockingPool::new(1, 0).unwrap();
        assert_eq!(pool.run(|| 6 * 7).await.unwrap(), 42);
    }

    #[tokio::test]
    async fn callers_beyond_the_queue_limit_are_shed_while_queued_ones_proceed() {
        let pool = Arc::new(BlockingPool::new(1, 1).unwrap());
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
        let pool = BlockingPool::new(1, 1).unwrap();
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
