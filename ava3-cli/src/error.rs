//! Failures of a command and their exit status.

use std::fmt;

/// Exit status 1: a file is bad (failed verification, not valid input).
pub const EXIT_BAD_FILE: u8 = 1;
/// Exit status 2: usage, key or I/O problem.
pub const EXIT_USAGE: u8 = 2;

const STDOUT_CLOSED: &str = "standard output closed";

/// A failure with its exit status. The message is one line, shown as
/// `ava3: error: MESSAGE`.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// A file is bad (exit 1).
    pub fn bad(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_BAD_FILE,
            message: message.into(),
        }
    }

    /// Usage, key or I/O problem (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// Classifies a core error: properties of a file exit 1, the rest 2.
    pub fn from_core(context: impl fmt::Display, e: ava3_format::Error) -> Self {
        let message = format!("{context}: {e}");
        if e.is_bad_file() {
            Self::bad(message)
        } else {
            Self::usage(message)
        }
    }

    /// An I/O error (exit 2), unless it wraps a core error about the file.
    pub fn io(context: impl fmt::Display, e: std::io::Error) -> Self {
        Self::from_core(context, ava3_format::Error::from_io(e))
    }

    /// The reader of standard output went away (a closed pipe, as with
    /// `| head`). Commands end quietly with exit 0 on it: not an error.
    pub fn stdout_closed() -> Self {
        Self::usage(STDOUT_CLOSED)
    }

    /// True for [`Failure::stdout_closed`].
    pub fn is_stdout_closed(&self) -> bool {
        self.message == STDOUT_CLOSED
    }

    /// Adds context in front of the message.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Result of a command step.
pub type CliResult<T> = Result<T, Failure>;
