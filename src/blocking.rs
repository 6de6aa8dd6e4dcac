//! The one way from async code into blocking code — store transactions, password hashing,
//! index and search work: [`run`] moves the work onto tokio's blocking pool, inside the
//! caller's tracing span, and marks the thread as one that may block. The store checks that
//! mark ([`may_block`]) on every transaction: a debug build panics where a store call was
//! made on a thread that drives async tasks, a release build answers an internal error rather
//! than stall the other requests of that thread.

use std::cell::Cell;

use crate::error::{Error, Result};

thread_local! {
    /// Set while [`run`] runs work on this thread.
    static IN_BLOCKING_WORK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on the blocking pool within the current tracing span, and answers what it
/// returns (an internal error if it panicked).
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _span = span.entered();
        let was = IN_BLOCKING_WORK.replace(true);
        let out = f();
        IN_BLOCKING_WORK.set(was);
        out
    })
    .await
    .map_err(|e| Error::Internal(format!("blocking work failed: {e}")))
}

/// [`run`] for work that may fail: its error, or the crossing's.
pub async fn try_run<T: Send + 'static, E: From<Error> + Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, E> + Send + 'static,
) -> std::result::Result<T, E> {
    run(f).await?
}

/// Whether this thread may wait on a disk or a database: a thread of [`run`], or one that
/// does not drive the tasks of a multi-threaded runtime (a command, the index writer, a
/// test's own runtime).
pub fn may_block() -> bool {
    if IN_BLOCKING_WORK.get() {
        return true;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(h) => h.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread,
        Err(_) => true,
    }
}

/// Fails — a panic in a debug build, an internal error otherwise — when `what` is about to
/// wait on a thread that drives async tasks.
pub fn check(what: &str) -> Result<()> {
    if may_block() {
        return Ok(());
    }
    debug_assert!(false, "{what} on an async worker: cross with blocking::run");
    Err(Error::Internal(format!(
        "{what} on an async worker: cross with blocking::run"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_crosses_and_may_block_and_a_panic_is_an_error() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(!may_block(), "a worker of a multi-threaded runtime");
            assert!(run(may_block).await.unwrap(), "work crossed with run");
            let outcome = run(|| panic!("a bug")).await;
            assert!(matches!(outcome, Err(Error::Internal(_))), "{outcome:?}");
        });
        assert!(may_block(), "outside any runtime");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "on an async worker")]
    fn a_store_call_on_a_worker_is_caught() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        rt.block_on(async { check("a store transaction") }).unwrap();
    }
}
