//! Writes `testdata/vectors/` (spec appendix A) from
//! [`ava3_testkit::vectors`]:
//!
//! ```text
//! cargo run -p ava3-testkit --bin gen-vectors -- testdata/vectors
//! ```
//!
//! The one argument is the output folder (default `testdata/vectors`,
//! relative to the current directory); the files already in it are removed
//! first.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata/vectors".to_string());
    let dir = Path::new(&dir);
    match ava3_testkit::vectors::write_dir(dir) {
        Ok(n) => {
            println!("wrote {n} vectors to {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-vectors: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
