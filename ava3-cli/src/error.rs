//! Failures of a command and their exit status.

use std::fmt;

/// Exit status 1: a file is bad (failed verification, not valid input).
pub const EXIT_BAD_FILE: u8 = 1;
/// Exit status 2: usage, key or I/O problem.
pub const EXIT_USAGE: u8 = 2;
/// Exit status 3: no key given for the file (its key id is not in the key
/// ring): the file may be fine, the job lacks its key.
pub const EXIT_NO_KEY: u8 = 3;

/// The status of a run over several files: a usage or I/O problem wins (the
/// run is incomplete), then a bad file, then a missing key, then success.
pub fn worst(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        0 => 0,
        EXIT_NO_KEY => 1,
        EXIT_BAD_FILE => 2,
        _ => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// A failure with its exit status. The message is one line, shown as
/// `ava3: error: MESSAGE` by `main`, which also ends a run whose standard
/// output was closed ([`Failure::stdout_closed`]) quietly, with status 0.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    /// The spec's outcome, when the failure is a core error about a file
    /// (what the Python package raises by).
    pub outcome: Option<ava3_format::Outcome>,
    /// The failing block, for a block failure.
    pub block: Option<u64>,
    stdout_closed: bool,
}

impl Failure {
    /// A failure with exit status `code`.
    pub fn with_code(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            outcome: None,
            block: None,
            stdout_closed: false,
        }
    }

    /// A file is bad (exit 1).
    pub fn bad(message: impl Into<String>) -> Self {
        Self::with_code(EXIT_BAD_FILE, message)
    }

    /// Usage, key or I/O problem (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::with_code(EXIT_USAGE, message)
    }

    /// Classifies a core error: no key for the file exits 3, properties of
    /// a file 1, the rest 2.
    pub fn from_core(context: impl fmt::Display, e: ava3_format::Error) -> Self {
        if let ava3_format::Error::Io(io) = &e {
            // Only a write to a pipe whose reader went away fails so.
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return Self::stdout_closed();
            }
        }
        let message = format!("{context}: {e}");
        let failure = if matches!(e, ava3_format::Error::WrongKey { .. }) {
            Self::with_code(EXIT_NO_KEY, message)
        } else if e.is_bad_file() {
            Self::bad(message)
        } else {
            Self::usage(message)
        };
        Self {
            outcome: e.is_bad_file().then(|| e.outcome()),
            block: match e {
                ava3_format::Error::BlockAuth { index } => Some(index),
                _ => None,
            },
            ..failure
        }
    }

    /// An I/O error (exit 2), unless it wraps a core error about the file.
    pub fn io(context: impl fmt::Display, e: std::io::Error) -> Self {
        Self::from_core(context, ava3_format::Error::from_io(e))
    }

    /// The reader of standard output went away (a closed pipe, as with
    /// `| head`). Commands end quietly with exit 0 on it: not an error.
    pub fn stdout_closed() -> Self {
        Self {
            stdout_closed: true,
            ..Self::usage("standard output closed")
        }
    }

    /// True for [`Failure::stdout_closed`].
    pub fn is_stdout_closed(&self) -> bool {
        self.stdout_closed
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

/// A failed write to standard output (`emit`): a closed pipe ends the run
/// quietly, anything else is an I/O problem.
impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Self::stdout_closed()
        } else {
            Self::usage(format!("cannot write to standard output: {e}"))
        }
    }
}

/// Result of a command step.
pub type CliResult<T> = Result<T, Failure>;
