//! Long calls that Ctrl-C stops. The work runs on a worker thread with the
//! GIL released; the calling thread waits for it and, every 20 ms, lets
//! Python run its signal handlers. When one raises (KeyboardInterrupt on
//! Ctrl-C), the work's [`Cancel`] token is tripped, the work stops at its
//! next read and removes its temporary outputs, and the exception is
//! raised once the worker has ended: within a few tens of milliseconds,
//! with nothing left behind.

use std::time::Duration;

use ava3_app::Cancel;
use pyo3::prelude::*;

/// Runs `work` with a fresh cancel token, as described above.
pub fn interruptible<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&Cancel) -> T + Send,
) -> PyResult<T> {
    let cancel = Cancel::new();
    let mut raised: Option<PyErr> = None;
    let joined = py.detach(|| {
        std::thread::scope(|scope| {
            let worker = scope.spawn(|| work(&cancel));
            while !worker.is_finished() {
                std::thread::park_timeout(Duration::from_millis(20));
                if raised.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        cancel.cancel();
                        raised = Some(e);
                    }
                }
            }
            worker.join()
        })
    });
    if let Some(e) = raised {
        return Err(e);
    }
    match joined {
        Ok(value) => Ok(value),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
