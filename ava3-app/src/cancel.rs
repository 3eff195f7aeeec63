//! Cancellation of long operations (encode, tree encode, verify, decode):
//! a [`Cancel`] token the caller keeps and may trip from another thread (a
//! Python caller on Ctrl-C). The operation reads its input through
//! [`Cancel::guard`], so the next read after the trip fails, the operation
//! unwinds, and its temporary outputs are removed as they are dropped; it
//! then reports [`Failure::interrupted`].

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ava3_format::ReadAt;

use crate::error::{AppResult, Failure};

/// A cancellation signal shared between an operation and its caller.
/// Clones share one signal; the default is never tripped unless someone
/// holding a clone trips it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A new, untripped token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trips the token: the operations holding it stop at their next read.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether the token was tripped.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// `Err(Failure::interrupted())` once tripped.
    pub fn check(&self) -> AppResult<()> {
        if self.is_cancelled() {
            Err(Failure::interrupted())
        } else {
            Ok(())
        }
    }

    /// `inner`, whose reads fail once the token is tripped (with
    /// `ErrorKind::Other`: `Interrupted` would be retried by `read_exact`).
    pub fn guard<S>(&self, inner: S) -> Guarded<'_, S> {
        Guarded {
            inner,
            cancel: self,
        }
    }

    /// `failure`, or [`Failure::interrupted`] when the token was tripped
    /// (whatever the operation made of the failed read).
    pub fn or_interrupted(&self, failure: Failure) -> Failure {
        if self.is_cancelled() {
            Failure::interrupted()
        } else {
            failure
        }
    }

    fn io_check(&self) -> io::Result<()> {
        if self.is_cancelled() {
            // Not `ErrorKind::Interrupted`, which `read_exact` and the
            // like retry forever.
            Err(io::Error::other("cancelled"))
        } else {
            Ok(())
        }
    }
}

/// A source whose reads stop once its [`Cancel`] is tripped.
#[derive(Debug)]
pub struct Guarded<'a, S> {
    inner: S,
    cancel: &'a Cancel,
}

impl<S: ReadAt> ReadAt for Guarded<'_, S> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.cancel.io_check()?;
        self.inner.read_exact_at(buf, offset)
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
}

impl<S: Read> Read for Guarded<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.cancel.io_check()?;
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tripped_token_stops_the_next_read() {
        let cancel = Cancel::new();
        let data = [1u8; 100];
        let g = cancel.guard(&data[..]);
        let mut buf = [0u8; 10];
        g.read_exact_at(&mut buf, 0).unwrap();
        let clone = cancel.clone();
        clone.cancel();
        let e = g.read_exact_at(&mut buf, 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Other);
        let mut r = cancel.guard(&data[..]);
        assert!(r.read(&mut buf).is_err());
        assert_eq!(
            cancel.or_interrupted(Failure::usage("x")).kind,
            crate::error::Kind::Interrupted
        );
    }
}
