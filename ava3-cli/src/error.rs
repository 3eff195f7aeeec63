//! The command's failures: the application layer's [`Failure`], with its
//! exit status.

pub(crate) use ava3_app::error::{worst, Failure, Kind, EXIT_BAD_FILE, EXIT_USAGE};

/// Result of a command step.
pub(crate) type CliResult<T> = Result<T, Failure>;
