//! The `ava3` binary: the command of the `ava3_cli` library.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(ava3_cli::run_from(std::env::args_os()))
}
