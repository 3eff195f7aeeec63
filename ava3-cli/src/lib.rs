//! `ava3`: the command line of the AVA3 model protection toolchain, as a
//! library with one entry point, [`run_from`], so that every way of
//! starting the command (the `ava3` binary, and the Python package's
//! `python -m ava_toolchain.ava3_encoder`) is the same program.
//!
//! Flags are parsed in `args` (clap, parsing only); `keys` finds the keys a
//! command was given (flags, environment). Each command in `commands/`
//! first turns its flags into a checked request, `XxxRequest::from_args`,
//! made of the application layer's types (`ava3-app`: key files, atomic
//! outputs, encodes, batches, manifests) and the format's (`ava3-format`:
//! keys, policy, verification, decoding): every check that reads none of
//! the inputs (flag combinations, keys, policy, `-j`) is made there,
//! before any work. Then `run(request)` does the work, and each result is
//! a typed record of `report` that prints itself, as a human line or one
//! JSON object, through one printer. The Python package shares `ava3-app`,
//! not this crate (beyond [`run_from`], its `ava3` entry point).

#![forbid(unsafe_code)]
// The one public item is `run_from`: the binary and the Python package's
// `ava3` entry point call it. Everything else is the crate's own.
#![deny(unreachable_pub)]

mod args;
mod commands;
mod error;
mod keys;
mod report;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::commands::{batch, checksums, decode, encode, inspect, keygen, rekey, verify};
use crate::error::{CliResult, Failure};

fn run(cli: &Cli) -> CliResult<()> {
    match &cli.command {
        // Each command's flags become its checked request (keys loaded,
        // flag combinations refused) before any work; then it runs.
        Command::Encode(a) if a.batch => batch::run(batch::BatchRequest::from_args(a)?),
        Command::Encode(a) => encode::run(encode::EncodeRequest::from_args(a)?),
        Command::Verify(a) => verify::run(verify::VerifyRequest::from_args(a)?),
        Command::Inspect(a) => inspect::run(inspect::InspectRequest::from_args(a)?),
        Command::Decode(a) => decode::run(decode::DecodeRequest::from_args(a)?),
        Command::Keygen(a) => keygen::run(keygen::KeygenRequest::from_args(a)?),
        Command::Rekey(a) => rekey::run(rekey::RekeyRequest::from_args(a)?),
        Command::Checksums(a) => checksums::run(checksums::ChecksumsRequest::from_args(a)?),
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(a.shell, &mut cmd, "ava3", &mut out);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &out)?;
            Ok(())
        }
        Command::Manpage(args::ManpageArgs { dir: Some(dir) }) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::generate_to(cmd, dir).map_err(|e| {
                Failure::io_error(
                    format!("cannot write the man pages into {}: {e}", dir.display()),
                    &e,
                )
            })
        }
        Command::Manpage(_) => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
            std::io::Write::write_all(&mut std::io::stdout().lock(), &out)?;
            Ok(())
        }
    }
}

/// A panic hook, as `std::panic::take_hook` returns it.
type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// The process-wide setup of one run of the command, undone when dropped:
/// a panic hook that reports a panic as one line, and a thread that, on
/// SIGINT, SIGTERM or SIGHUP, removes the temporary files being written
/// (partial outputs, partial plaintext) and ends the process with the
/// shell's status for a death by that signal (128 + its number). A thread
/// of signal-hook's receives them, so no work happens in a signal handler.
/// Once the run is over, the previous panic hook is back and the signals
/// go where they went before (the handlers of a Python interpreter that ran
/// the command in its own process, say), instead of ending the process.
struct RunScope {
    previous_hook: Option<PanicHook>,
    #[cfg(unix)]
    signals: Option<(signal_hook::iterator::Handle, std::thread::JoinHandle<()>)>,
}

impl RunScope {
    fn enter() -> Self {
        let previous_hook = Some(std::panic::take_hook());
        // A panic is a bug: report it as one line, exit 2, and let the
        // temporary outputs be cleaned up as the stack unwinds.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("ava3: error: internal error (please report it): {info}");
        }));
        Self {
            previous_hook,
            #[cfg(unix)]
            signals: Self::on_signals_remove_temporaries(),
        }
    }

    #[cfg(unix)]
    fn on_signals_remove_temporaries(
    ) -> Option<(signal_hook::iterator::Handle, std::thread::JoinHandle<()>)> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).ok()?;
        let handle = signals.handle();
        let thread = std::thread::spawn(move || {
            // Ends when the handle is closed; dropping `signals` then
            // unregisters its handlers.
            if let Some(sig) = signals.forever().next() {
                ava3_app::output::remove_live();
                let what = match sig {
                    SIGINT => "interrupted",
                    SIGTERM => "terminated (SIGTERM)",
                    _ => "hung up (SIGHUP)",
                };
                eprintln!("ava3: {what}: no partial output was left");
                std::process::exit(128 + sig);
            }
        });
        Some((handle, thread))
    }
}

impl Drop for RunScope {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some((handle, thread)) = self.signals.take() {
            handle.close();
            let _ = thread.join();
        }
        if let Some(hook) = self.previous_hook.take() {
            std::panic::set_hook(hook);
        }
    }
}

/// A clap usage error as one line, like every other error: what is wrong
/// (with the arguments it names, which clap puts on the lines below) and
/// the help command that explains the flags.
fn usage_error_line(e: &clap::Error, first_arg: Option<String>) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines();
    let mut what = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .trim_end_matches(':')
        .to_string();
    let rest: Vec<&str> = lines.take_while(|l| !l.trim().is_empty()).collect();
    let named: Vec<&str> = rest
        .iter()
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with("tip:"))
        .map(|l| l.trim())
        .collect();
    if !named.is_empty() {
        what = format!("{what}: {}", named.join(" "));
    }
    // clap's "did you mean" (a similar subcommand or flag exists).
    // (Only that tip: the others repeat the argument, which may be a key.)
    for tip in text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .filter(|t| t.contains("similar"))
    {
        what = format!("{what}; {tip}");
    }
    let sub = first_arg.filter(|a| {
        <Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .any(|c| c.get_name() == a)
    });
    match sub {
        Some(sub) => format!("{what} (see 'ava3 {sub} --help')"),
        None => format!("{what} (see 'ava3 --help')"),
    }
}

/// A usage error quotes the argument it could not place; one that holds
/// key material (a PEM key after `--sign`, which clap takes for a flag) is
/// replaced, line by line, by a note.
fn without_key_material(mut line: String, args: &[std::ffi::OsString]) -> String {
    for a in args {
        let a = a.to_string_lossy();
        if !ava3_app::display::looks_like_key_material(&a) {
            continue;
        }
        for part in std::iter::once(a.as_ref())
            .chain(a.lines())
            .chain(a.split('='))
        {
            let part = part.trim();
            if part.len() >= 8 {
                line = line.replace(part, "(key material, not shown)");
            }
        }
    }
    if ava3_app::display::looks_like_key_material(&line) {
        return "an argument holds what looks like key material (not shown): a key is given \
                as the path of its file"
            .to_string();
    }
    line
}

/// Runs the `ava3` command on `args` (the first one is the program's name,
/// as in `std::env::args_os()`), printing what the command prints, and
/// returns its exit status (0, 1, 2, 3; README.md). For the length of the
/// run it owns the process's panic hook and SIGINT, SIGTERM and SIGHUP
/// (a `RunScope`); both are given back when it returns.
pub fn run_from<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let _scope = RunScope::enter();
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let first_arg = args.get(1).map(|a| a.to_string_lossy().into_owned());
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // --help and --version print as clap lays them out.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return 0;
        }
        // `ava3` alone: the commands, then exit 2 as for any usage error.
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return error::EXIT_USAGE;
        }
        Err(e) => {
            let line = without_key_material(usage_error_line(&e, first_arg), &args);
            eprintln!("ava3: error: {}", report::printable(&line));
            return error::EXIT_USAGE;
        }
    };
    match std::panic::catch_unwind(|| run(&cli)) {
        Ok(Ok(())) => 0,
        // The reader of our output went away (`| head`): not an error.
        Ok(Err(f)) if f.is_stdout_closed() => 0,
        Ok(Err(f)) => {
            eprintln!("ava3: error: {}", report::printable(&f.message));
            f.code()
        }
        Err(_) => error::EXIT_USAGE,
    }
}
