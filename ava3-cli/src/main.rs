//! `ava3`: the command line of the AVA3 model protection toolchain.
//!
//! Flags are parsed in `args`, keys loaded in `keys`, outputs written in
//! `output`; the commands in `commands/` only call into `ava3-format`.

#![forbid(unsafe_code)]

mod args;
mod commands;
mod error;
mod keys;
mod manifest;
mod output;
mod progress;
mod report;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::{CliResult, Failure};

/// A rayon pool of `jobs` threads (default: one per core). Files and the
/// blocks of one file share it, so nested parallelism never oversubscribes.
pub fn thread_pool(jobs: Option<usize>) -> CliResult<rayon::ThreadPool> {
    if jobs == Some(0) {
        return Err(Failure::usage("-j needs at least 1 thread"));
    }
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = jobs {
        b = b.num_threads(n);
    }
    b.build()
        .map_err(|e| Failure::usage(format!("cannot start threads: {e}")))
}

fn run(cli: &Cli) -> CliResult<()> {
    match &cli.command {
        Command::Encode(a) if a.batch => commands::batch::run(a),
        Command::Encode(a) => thread_pool(a.jobs)?.install(|| commands::encode::run(a)),
        Command::Verify(a) => commands::verify::run(a),
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Decode(a) => commands::decode::run(a),
        Command::Keygen(a) => commands::keygen::run(a),
        Command::Rekey(a) => commands::rekey::run(a),
    }
}

/// SIGINT, SIGTERM and SIGHUP end the process after removing the temporary
/// files being written (partial outputs, partial plaintext), with the
/// shell's status for a death by that signal (128 + its number). A thread
/// of signal-hook's receives them, so no work happens in a signal handler.
#[cfg(unix)]
fn on_signals_remove_temporaries() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            output::remove_live();
            std::process::exit(128 + sig);
        }
    });
}

#[cfg(not(unix))]
fn on_signals_remove_temporaries() {}

fn main() -> ExitCode {
    // A panic is a bug: report it as one line, exit 2, and let the
    // temporary outputs be cleaned up as the stack unwinds.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("ava3: error: internal error (please report it): {info}");
    }));
    on_signals_remove_temporaries();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match std::panic::catch_unwind(|| run(&cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            eprintln!("ava3: error: {}", report::printable(&f.message));
            ExitCode::from(f.code)
        }
        Err(_) => ExitCode::from(error::EXIT_USAGE),
    }
}
