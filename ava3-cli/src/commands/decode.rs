//! `ava3 decode FILE -o OUT` and `ava3 rekey`: streaming decodes.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use ava3_format::{DecodeOptions, Decoder, EncodeOptions, Encoder, Error};
use zeroize::Zeroizing;

use crate::args::{DecodeArgs, RekeyArgs};
use crate::error::{CliResult, Failure};
use crate::keys::{read_key_file, require_keys};
use crate::output::{binary_stdout, check_destination, is_broken_pipe, is_dash, AtomicFile};
use crate::progress::bytes_bar;
use crate::report::emit;

/// Reads a whole decoder into `w` in batch-sized chunks (decoded straight
/// into the chunk buffer, which is wiped on drop).
fn pump<R: Read + Send>(
    dec: &mut Decoder<R>,
    w: &mut dyn Write,
    input: &Path,
    bar: &indicatif::ProgressBar,
) -> Result<(), Failure> {
    let mut buf = Zeroizing::new(vec![0u8; 8 << 20]);
    loop {
        let n = dec
            .read(&mut buf)
            .map_err(|e| Failure::from_core(input.display(), Error::from_io(e)))?;
        if n == 0 {
            return Ok(());
        }
        bar.inc(n as u64);
        w.write_all(&buf[..n]).map_err(|e| {
            if is_broken_pipe(&e) {
                Failure::stdout_closed()
            } else {
                Failure::usage(format!("cannot write: {e}"))
            }
        })?;
    }
}

fn open_input(input: &Path) -> CliResult<Box<dyn Read + Send>> {
    if is_dash(input) {
        Ok(Box::new(io::stdin()))
    } else {
        let f = File::open(input)
            .map_err(|e| Failure::usage(format!("cannot open {}: {e}", input.display())))?;
        Ok(Box::new(f))
    }
}

/// `ava3 decode`.
pub fn run(a: &DecodeArgs) -> CliResult<()> {
    let keys = require_keys(&a.keys.key_files, "decode")?;
    let input = open_input(&a.input)?;
    let pool = crate::thread_pool(a.jobs)?;
    pool.install(|| {
        let mut dec = Decoder::with_options(
            BufReader::with_capacity(1 << 16, input),
            &keys,
            &DecodeOptions { parallel: true },
        )
        .map_err(|e| Failure::from_core(a.input.display(), e))?;
        let bar = bytes_bar(dec.layout().plaintext_len(), a.style.quiet, "decoding");
        if is_dash(&a.output) {
            let stdout = binary_stdout()?;
            let mut w = io::BufWriter::with_capacity(1 << 20, stdout.lock());
            match pump(&mut dec, &mut w, &a.input, &bar).and_then(|_| {
                w.flush()
                    .map_err(|e| Failure::usage(format!("cannot write: {e}")))
            }) {
                Err(f) if f.is_stdout_closed() => return Ok(()),
                other => other?,
            }
        } else {
            let input_path = (!is_dash(&a.input)).then_some(a.input.as_path());
            check_destination(input_path, &a.output, a.force)?;
            // The plaintext goes to a temporary file that is removed unless
            // every check passes.
            let mut out = AtomicFile::create_private(&a.output)?;
            pump(&mut dec, out.writer(), &a.input, &bar)?;
            out.commit(a.force)?;
        }
        bar.finish_and_clear();
        if !a.style.quiet && !is_dash(&a.output) {
            emit(&format!(
                "decoded {} -> {} ({} bytes)",
                a.input.display(),
                a.output.display(),
                dec.layout().plaintext_len()
            ));
        }
        Ok(())
    })
}

/// `ava3 rekey`: decode under the old key ring and encode under the new key
/// in one streaming pass; the plaintext exists only in memory, a batch or
/// two (1 MiB each) at a time.
pub fn rekey(a: &RekeyArgs) -> CliResult<()> {
    let keys = require_keys(&a.keys.key_files, "rekey (for the current key)")?;
    let new_key = read_key_file(&a.new_key_file)?;
    check_destination(Some(&a.input), &a.output, a.force)?;
    let input = File::open(&a.input)
        .map_err(|e| Failure::usage(format!("cannot open {}: {e}", a.input.display())))?;
    let pool = crate::thread_pool(a.jobs)?;
    pool.install(|| {
        let mut dec = Decoder::new_with_keys(input, &keys)
            .map_err(|e| Failure::from_core(a.input.display(), e))?;
        let header = dec.header().clone();
        let mut out = AtomicFile::create(&a.output)?;
        let opts = EncodeOptions {
            block_size: header.block_size(),
            payload_kind: header.payload_kind(),
            threads: 0,
        };
        let bar = bytes_bar(header.plaintext_len(), a.style.quiet, "rekeying");
        let mut enc = Encoder::new(out.writer(), &new_key, header.plaintext_len(), &opts)
            .map_err(|e| Failure::from_core(a.output.display(), e))?;
        pump(&mut dec, &mut enc, &a.input, &bar)?;
        let recorded = dec
            .recorded_plaintext_sha256()
            .ok_or_else(|| Failure::bad(format!("{}: no trailer was read", a.input.display())))?;
        let (_, summary) = enc
            .finish()
            .map_err(|e| Failure::from_core(a.output.display(), e))?;
        if summary.plaintext_sha256 != recorded {
            return Err(Failure::bad(format!(
                "{}: the decoded plaintext does not match its recorded SHA-256",
                a.input.display()
            )));
        }
        out.commit(a.force)?;
        bar.finish_and_clear();
        if !a.style.quiet {
            emit(&format!(
                "rekeyed {} (key id {}) -> {} (key id {})",
                a.input.display(),
                header.key_id(),
                a.output.display(),
                new_key.key_id()
            ));
        }
        Ok(())
    })
}
