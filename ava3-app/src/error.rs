//! What goes wrong in the application layer: [`Failure`], a one-line
//! message with its kind (usage, I/O, a bad file, a missing key, stdout
//! closed), the spec's outcome for a core error about a file, and the exit
//! status the command reports for it.

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

/// Exit status 130: interrupted (SIGINT, or a caller's cancellation),
/// as a shell reports a death by SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// What kind of failure: decides the exit status, and the exception a
/// Python caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// The request cannot be done as asked: arguments, keys, a destination
    /// that exists (exit 2; Python `UsageError`).
    Usage,
    /// A file or folder could not be opened, read, written or created
    /// (exit 2; Python `OSError`, by its errno when there is one).
    Io,
    /// A file is bad: it failed a check, or the input cannot be encoded as
    /// asked (exit 1; Python by outcome, else `InvalidInput`).
    BadFile,
    /// No key given has the key id a file records: the file may be fine
    /// (exit 3; Python `WrongKey`).
    NoKey,
    /// Cancelled: SIGINT, or the caller's cancel token (exit 130; Python
    /// `KeyboardInterrupt`).
    Interrupted,
}

impl Kind {
    /// The exit status of the `ava3` command for this kind.
    pub fn code(self) -> u8 {
        match self {
            Self::Usage | Self::Io => EXIT_USAGE,
            Self::BadFile => EXIT_BAD_FILE,
            Self::NoKey => EXIT_NO_KEY,
            Self::Interrupted => EXIT_INTERRUPTED,
        }
    }

    /// The kind of an exit status (the worst of several failures).
    pub fn of_code(code: u8) -> Self {
        match code {
            EXIT_BAD_FILE => Self::BadFile,
            EXIT_NO_KEY => Self::NoKey,
            EXIT_INTERRUPTED => Self::Interrupted,
            _ => Self::Usage,
        }
    }
}

/// A failure: its kind, a one-line message, and for a core error about a
/// file the spec's outcome (and the failing block). The command shows it
/// as `ava3: error: MESSAGE` and exits with [`Failure::code`]; a run whose
/// standard output was closed ([`Failure::stdout_closed`]) ends quietly,
/// with status 0.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
    /// The spec's outcome, when the failure is a core error about a file
    /// (what the Python package raises by).
    pub outcome: Option<ava3_format::Outcome>,
    /// The failing block, for a block failure.
    pub block: Option<u64>,
    /// The operating system's error number of an I/O failure.
    pub os_error: Option<i32>,
    stdout_closed: bool,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            outcome: None,
            block: None,
            os_error: None,
            stdout_closed: false,
        }
    }

    /// A failure with exit status `code` (the worst of several).
    pub fn with_code(code: u8, message: impl Into<String>) -> Self {
        Self::new(Kind::of_code(code), message)
    }

    /// The exit status of the `ava3` command for it.
    pub fn code(&self) -> u8 {
        self.kind.code()
    }

    /// A file or folder could not be opened, read, written or created:
    /// `message` says which and why (exit 2).
    pub fn io_error(message: impl Into<String>, e: &std::io::Error) -> Self {
        Self {
            os_error: e.raw_os_error().or_else(|| errno_of(e.kind())),
            ..Self::new(Kind::Io, message)
        }
    }

    /// The operation was cancelled (exit 130).
    pub fn interrupted() -> Self {
        Self::new(Kind::Interrupted, "interrupted")
    }

    /// A file is bad (exit 1).
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(Kind::BadFile, message)
    }

    /// A usage or key problem (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
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
        let failure = match &e {
            ava3_format::Error::WrongKey { .. } => Self::new(Kind::NoKey, message),
            ava3_format::Error::Io(io) => Self::io_error(message, io),
            e if e.is_bad_file() => Self::bad(message),
            _ => Self::usage(message),
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
            Self::io_error(format!("cannot write to standard output: {e}"), &e)
        }
    }
}

/// The result of an application-layer step.
pub type AppResult<T> = Result<T, Failure>;

/// The errno of an I/O error that lost it (a wrapped error, as tempfile
/// makes), by its kind.
#[cfg(unix)]
fn errno_of(kind: std::io::ErrorKind) -> Option<i32> {
    use std::io::ErrorKind;
    Some(match kind {
        ErrorKind::NotFound => libc::ENOENT,
        ErrorKind::PermissionDenied => libc::EACCES,
        ErrorKind::AlreadyExists => libc::EEXIST,
        ErrorKind::NotADirectory => libc::ENOTDIR,
        ErrorKind::IsADirectory => libc::EISDIR,
        ErrorKind::StorageFull => libc::ENOSPC,
        ErrorKind::ReadOnlyFilesystem => libc::EROFS,
        _ => return None,
    })
}

#[cfg(not(unix))]
fn errno_of(_kind: std::io::ErrorKind) -> Option<i32> {
    None
}
