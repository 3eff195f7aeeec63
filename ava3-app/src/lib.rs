//! # ava3-app
//!
//! The application layer of the AVA3 toolchain, between the format
//! (`ava3-format`: bytes in, blocks, bytes out) and the front ends that
//! people run: the `ava3` command (`ava3-cli`) and the Python package
//! (`ava3-python`). What a front end would otherwise decide on its own is
//! decided here, once:
//!
//! | module | what it holds |
//! |---|---|
//! | [`keys`] | key files: master keys (64 hex digits, mode 0600), publisher signing keys and trusted public keys (PEM); creating them |
//! | [`display`] | how paths appear in messages: control characters escaped, key material withheld |
//! | [`names`] | how each front end names the options a message points to (`--force`, `force=True`) |
//! | [`output`] | atomic outputs: a temporary file named only once complete and synced, removed on failure or signal |
//! | [`encode`] | one model into AVA3: the payload kind decided once, a file on several lanes, a stream read whole |
//! | [`batch`] | a tree of models into AVA3 on one pool, resumable through a journal, with the release manifest |
//! | [`manifest`] | the release manifest, its entries, which paths it may list, and its detached signature file |
//! | [`checksums`] | a release folder's `SHA256SUMS` and its detached signature: written, signed, checked |
//! | [`inspect`] | what a header says without a key |
//! | [`cancel`] | [`cancel::Cancel`]: the cancellation signal every long operation takes |
//! | [`error`] | [`Failure`]: the typed failure every operation returns, with its exit status and outcome |
//! | [`progress`] | the progress bars of long operations (drawn on a terminal only) |
//!
//! The crate prints nothing on standard output; warnings go to standard
//! error. It knows nothing of flags or of Python.

#![forbid(unsafe_code)]

pub mod batch;
pub mod cancel;
pub mod checksums;
pub mod display;
pub mod encode;
pub mod error;
pub mod inspect;
pub mod keys;
pub mod manifest;
pub mod names;
pub mod output;
pub mod progress;

pub use cancel::Cancel;
pub use error::{AppResult, Failure};

/// The threads `jobs` asks for (default: one per core).
pub fn threads(jobs: Option<usize>) -> AppResult<usize> {
    match jobs {
        Some(0) => Err(Failure::usage("-j needs at least 1 thread")),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, usize::from)),
    }
}

/// A rayon pool of `jobs` threads. Files and the blocks of one file share
/// it, so nested parallelism never oversubscribes.
pub fn thread_pool(jobs: Option<usize>) -> AppResult<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads(jobs)?)
        .build()
        .map_err(|e| Failure::usage(format!("cannot start threads: {e}")))
}
