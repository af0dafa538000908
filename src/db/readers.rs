//! The threads that run reads: one per pooled connection, taking reads from one queue in the
//! order they came.
//!
//! Reads used to run on actix's blocking pool, which has up to 512 threads across the workers:
//! under 32 concurrent requests 32 threads took turns at the pool's 10 connections, each waiting
//! in r2d2's checkout and waking the next. With as many threads as connections a thread that
//! takes a read finds a connection free, and the queue is shared by the HTTP workers, so a read
//! waits behind the reads that came before it rather than behind its own worker's.
//!
//! A read gets only what its time in the queue left of the pool's checkout timeout to wait for a
//! connection (`db::checked_out`), and answers 503 if none comes by then: under an outage or an
//! overload a request still answers within the checkout timeout, as when it waited in r2d2.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::ApiError;

/// A read with its answer channel.
type ReadJob = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct ReadQueue {
    queue: mpsc::Sender<ReadJob>,
    checkout_timeout: Duration,
}

const READER_THREAD_NAME: &str = "db-read";

impl ReadQueue {
    /// Starts `threads` reader threads (at least one). They end when the queue is dropped.
    pub fn start(threads: u32, checkout_timeout: Duration) -> ReadQueue {
        let (queue, jobs) = mpsc::channel::<ReadJob>();
        let jobs = Arc::new(parking_lot::Mutex::new(jobs));
        for _ in 0..threads.max(1) {
            let jobs = Arc::clone(&jobs);
            let started = std::thread::Builder::new()
                .name(READER_THREAD_NAME.into())
                .spawn(move || read_on_this_thread(&jobs));
            if let Err(error) = started {
                // The threads that did start serve the reads; with none, each answers 500.
                tracing::error!(%error, "cannot start a reader thread");
            }
        }
        ReadQueue {
            queue,
            checkout_timeout,
        }
    }

    /// Runs `read` on a reader thread, giving it the time it may still wait for a connection,
    /// and answers with its result. The request may go away meanwhile; the read still runs.
    pub async fn run<T, F>(&self, read: F) -> Result<T, ApiError>
    where
        F: FnOnce(Duration) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let (timeout, queued_at) = (self.checkout_timeout, Instant::now());
        let job: ReadJob = Box::new(move || {
            let _ = answer.send(read(timeout.saturating_sub(queued_at.elapsed())));
        });
        self.queue
            .send(job)
            .map_err(|_| ApiError::internal("the reader threads are not running"))?;
        answered
            .await
            .map_err(|_| ApiError::internal("a read ended without an answer"))?
    }
}

/// Takes reads from the queue until it is closed. A read that panics is answered 500 (its
/// answer channel is dropped) and the thread goes on.
fn read_on_this_thread(jobs: &parking_lot::Mutex<mpsc::Receiver<ReadJob>>) {
    loop {
        let job = jobs.lock().recv();
        let Ok(job) = job else { return };
        let _ = panic::catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        actix_web::rt::System::new().block_on(future)
    }

    #[test]
    fn a_read_is_given_what_its_time_in_the_queue_left_of_the_checkout_timeout() {
        let reads = ReadQueue::start(1, Duration::from_millis(200));
        let (first, second) = block_on(async {
            futures_util::future::join(
                reads.run(|wait| {
                    std::thread::sleep(Duration::from_millis(300));
                    Ok(wait)
                }),
                reads.run(Ok),
            )
            .await
        });
        let first = first.unwrap();
        assert!(
            first > Duration::ZERO && first <= Duration::from_millis(200),
            "{first:?}"
        );
        // It waited 300 ms behind the first read on the only thread.
        assert_eq!(second.unwrap(), Duration::ZERO);
    }

    #[test]
    fn reads_run_side_by_side_on_as_many_threads_as_started() {
        let reads = ReadQueue::start(2, Duration::from_secs(1));
        let (signal, signalled) = mpsc::channel();
        let (waited, signalled_other) = block_on(async {
            futures_util::future::join(
                reads.run(move |_| {
                    // On one thread this would wait in vain: the signal comes from the other read.
                    Ok(signalled.recv_timeout(Duration::from_secs(5)).is_ok())
                }),
                reads.run(move |_| {
                    Ok(signal.send(()).is_ok()
                        && std::thread::current().name() == Some(READER_THREAD_NAME))
                }),
            )
            .await
        });
        assert!(waited.unwrap());
        assert!(signalled_other.unwrap());
    }

    #[test]
    fn a_read_that_panics_answers_500_and_its_thread_takes_the_next() {
        let reads = ReadQueue::start(1, Duration::from_secs(1));
        block_on(async {
            let panicked = reads
                .run(|_| -> Result<(), ApiError> { panic!("a read that fails") })
                .await;
            assert!(
                matches!(panicked, Err(ApiError::Internal(_))),
                "{panicked:?}"
            );
            assert_eq!(reads.run(|_| Ok(7)).await.unwrap(), 7);
        });
    }
}
