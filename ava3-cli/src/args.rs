//! Command-line flags, parsed apart from the work they drive.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const KEY_HELP: &str = "\
Keys are never given on the command line. Sources, in order: --key-file PATH
(repeatable: a key ring, the right key is picked by key id), the environment
variable AVA3_KEY_FILE (a path), the environment variable AVA3_KEY (64 hex
digits, for CI secrets).

Exit status: 0 success; 1 a file failed verification or is not valid input;
2 usage, key or I/O problem; 3 no key for a file (its key id is not among
the keys given). Over several files the worst wins: 2, then 1, then 3.
Interrupted (Ctrl-C, SIGINT): 130, with 'ava3: interrupted' on standard
error and no partial output left (SIGTERM 143, SIGHUP 129).";

/// Protect ML model files (.amm, .amg, .amr) with the AVA3 format.
#[derive(Debug, Parser)]
#[command(
    name = "ava3",
    version,
    about,
    after_help = KEY_HELP,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Encode a model file (or, with --batch, a folder of them) into AVA3.
    #[command(after_help = "\
Examples:
  ava3 encode model.amg -o model.amg.ava3
  ava3 encode models/ --batch -o encoded/
  ava3 encode model.amg --sign publisher.key --name assistant-3b --model-version 7
  cat model.amr | ava3 encode - --kind litert -o model.amr.ava3")]
    Encode(EncodeArgs),
    /// Check AVA3 files: keyless without a key, every tag with one.
    #[command(after_help = "\
Examples:
  ava3 verify model.amm.ava3
  AVA3_KEY_FILE=release.key ava3 verify --deep encoded/
  ava3 verify encoded/ --manifest encoded/ava3-manifest.json --json
  ava3 verify -c encoded/ava3-manifest.json --require keyed
  ava3 verify -c encoded/ava3-manifest.json --signer publisher.key.pub")]
    Verify(VerifyArgs),
    /// Show the header of an AVA3 file (no key needed).
    #[command(after_help = "Example:\n  ava3 inspect model.amg.ava3 --json")]
    Inspect(InspectArgs),
    /// Decode an AVA3 file back to the model (for debugging).
    #[command(after_help = "Example:\n  ava3 decode model.amg.ava3 -o /tmp/model.amg")]
    Decode(DecodeArgs),
    /// Generate a new random master key (--signing: a publisher signing key).
    #[command(
        after_help = "Examples:\n  ava3 keygen -o release.key\n  ava3 keygen --signing -o publisher.key   # and publisher.key.pub"
    )]
    Keygen(KeygenArgs),
    /// Re-encode a file under a new key, streaming, no plaintext on disk.
    #[command(
        after_help = "Examples:\n  ava3 rekey model.amg.ava3 --key-file old.key --new-key-file new.key -o model.new.ava3\n  ava3 rekey encoded/ --key-file old.key --new-key-file new.key -o rotated/"
    )]
    Rekey(RekeyArgs),
    /// Write a release folder's SHA256SUMS (signed with --sign), or check
    /// one with -c (its signature with --signer, then every file).
    #[command(after_help = "\
Examples:
  ava3 checksums dist/ --sign publisher.key          # dist/SHA256SUMS and SHA256SUMS.sig
  ava3 checksums -c dist/SHA256SUMS --signer publisher.key.pub")]
    Checksums(ChecksumsArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Example:\n  ava3 completions bash > /etc/bash_completion.d/ava3")]
    Completions(CompletionsArgs),
    /// Print the man page (roff), generated from these flags; with --dir,
    /// write it and one page per command (ava3-encode.1, ...) there.
    #[command(
        after_help = "Examples:\n  ava3 manpage > /usr/local/share/man/man1/ava3.1\n  ava3 manpage --dir /usr/local/share/man/man1"
    )]
    Manpage(ManpageArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ManpageArgs {
    /// Write ava3.1 and a page for each command (ava3-encode.1, ...) into
    /// this existing folder instead of printing the top page.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct KeyArgs {
    /// A key file (64 hex digits). Repeat to give a key ring.
    #[arg(long = "key-file", value_name = "PATH")]
    pub(crate) key_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    /// From the extension (.amm, .amg, .amr), else from the content.
    Auto,
    Mlc,
    Gguf,
    Litert,
    Unknown,
}

impl KindArg {
    /// The kind chosen, or `None` to decide it from the name and content.
    pub(crate) fn chosen(self) -> Option<ava3_format::PayloadKind> {
        use ava3_format::PayloadKind;
        match self {
            Self::Auto => None,
            Self::Mlc => Some(PayloadKind::Mlc),
            Self::Gguf => Some(PayloadKind::Gguf),
            Self::Litert => Some(PayloadKind::LiteRt),
            Self::Unknown => Some(PayloadKind::Unknown),
        }
    }
}

/// The least a `verify` must check (`--require`, `AVA3_VERIFY_REQUIRE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum RequireArg {
    /// Structure and keyless SHA-256 (corruption, not tampering).
    Keyless,
    /// Every MAC and tag with the key (authenticity).
    Keyed,
    /// Keyed, and the plaintext SHA-256 recomputed.
    Deep,
    /// A valid signature by a --signer key (needs no master key).
    Signed,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct TrustArgs {
    /// A file holding a trusted publisher public key (`.pub`: PEM, or 64
    /// hex digits): a valid signature by it is then required. Repeat to
    /// trust several: a signature by any one of them will do.
    #[arg(long = "signer", value_name = "PUBKEY_FILE", env = "AVA3_SIGNER_FILE")]
    pub(crate) signers: Vec<PathBuf>,
    /// Require this authenticated model name.
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Require at least this authenticated model version (rollback protection).
    #[arg(long, value_name = "N")]
    pub(crate) min_version: Option<u64>,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct SignArgs {
    /// Sign with this publisher key file (from `ava3 keygen --signing`).
    /// Repeat to add signatures.
    #[arg(long = "sign", value_name = "KEY_FILE", env = "AVA3_SIGNING_KEY_FILE")]
    pub(crate) sign: Vec<PathBuf>,
    /// Record this model name (authenticated; not with --batch).
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Record this model version (authenticated; a number that grows with
    /// every release).
    #[arg(long, value_name = "N")]
    pub(crate) model_version: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    /// The model file, a folder with --batch, or - for standard input.
    pub(crate) input: PathBuf,
    /// Output file (default: INPUT.ava3; standard output when INPUT is -),
    /// or the output folder with --batch;
    /// - for standard output.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
    /// Encode every .amm, .amg and .amr file below INPUT into -o, mirroring the tree.
    #[arg(long)]
    pub(crate) batch: bool,
    /// Payload kind recorded in the header.
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    pub(crate) kind: KindArg,
    /// Encode even when the content does not look like the extension says.
    #[arg(long)]
    pub(crate) allow_mismatch: bool,
    /// Block size in bytes: a power of two from 4096 to 16777216.
    #[arg(long, default_value_t = ava3_format::DEFAULT_BLOCK_SIZE, value_name = "BYTES")]
    pub(crate) block_size: u32,
    /// Overwrite existing outputs (with --batch: re-encode even current ones).
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Threads to use (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Manifest path for --batch (default: OUTDIR/ava3-manifest.json).
    #[arg(long, value_name = "PATH")]
    pub(crate) manifest: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) sign: SignArgs,
    #[command(flatten)]
    pub(crate) keys: KeyArgs,
    /// No progress bar and no result line; errors only (with --batch, also
    /// the summary line).
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// One JSON object per file on standard output (not with -o -).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Files or folders (folders: every *.ava3 below them); - for standard
    /// input. With -c and no path: every file the manifest lists.
    #[arg(required_unless_present = "manifest")]
    pub(crate) paths: Vec<PathBuf>,
    /// Also decode everything and recompute the plaintext SHA-256 (needs a key).
    #[arg(long)]
    pub(crate) deep: bool,
    /// Check against a batch manifest, as `sha256sum -c` does: every file
    /// it lists must be there and match (paths resolve from the manifest's
    /// folder); with paths, files it does not list fail as extra.
    #[arg(short = 'c', long, visible_alias = "check", value_name = "MANIFEST")]
    pub(crate) manifest: Option<PathBuf>,
    /// With a manifest: a listed file that is missing is not a failure.
    #[arg(long, requires = "manifest")]
    pub(crate) ignore_missing: bool,
    /// Do not fail a file whose decoded content does not look like the
    /// payload kind its header records (what `encode --allow-mismatch`
    /// wrote on purpose).
    #[arg(long)]
    pub(crate) allow_mismatch: bool,
    /// Fail (exit 2) unless at least this level is checked: a release check
    /// whose key did not reach the job must not pass on a keyless check.
    /// `deep` turns on --deep; `signed` needs --signer.
    #[arg(long, value_enum, value_name = "LEVEL", env = "AVA3_VERIFY_REQUIRE")]
    pub(crate) require: Option<RequireArg>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// Threads to use (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    #[command(flatten)]
    pub(crate) keys: KeyArgs,
    /// No line per file that passed, no note; failures and the summary only.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// One JSON object per file on standard output, no summary line.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The AVA3 file, or - for standard input.
    pub(crate) file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// The AVA3 file, or - for standard input. With --signer the signature
    /// is checked before the first plaintext byte is written, so the input
    /// must be a file (standard input redirected from a file will do; a
    /// pipe is refused).
    pub(crate) input: PathBuf,
    /// Output file (created 0600), or - for standard output (never a terminal).
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: PathBuf,
    /// Overwrite an existing output.
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Threads to use (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    #[command(flatten)]
    pub(crate) keys: KeyArgs,
    /// No progress bar and no result line; errors only.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// The result as one JSON object on standard output (not with -o -).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ChecksumsArgs {
    /// The release folder: SHA256SUMS lists every file below it (but
    /// itself and its signature), in sha256sum's format.
    #[arg(required_unless_present = "check", conflicts_with = "check")]
    pub(crate) folder: Option<PathBuf>,
    /// Check this SHA256SUMS instead: its signature (with --signer), then
    /// every file it lists, from its folder.
    #[arg(short = 'c', long = "check", value_name = "SHA256SUMS")]
    pub(crate) check: Option<PathBuf>,
    /// Sign the list with this publisher key file (SHA256SUMS.sig, spec
    /// appendix E.4). Repeatable.
    #[arg(long = "sign", value_name = "KEY_FILE", conflicts_with = "check")]
    pub(crate) sign: Vec<PathBuf>,
    /// With -c: the list must carry a valid signature by this public key
    /// (repeatable: any of them). Without it the signature is not read.
    #[arg(long = "signer", value_name = "PUBLIC_KEY_FILE", requires = "check")]
    pub(crate) signers: Vec<PathBuf>,
    /// One JSON object on standard output.
    #[arg(long, conflicts_with = "quiet")]
    pub(crate) json: bool,
    /// Print only the files that fail.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The key file to create (mode 0600; an existing file is never
    /// overwritten). Not -: a key is never written to standard output.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: PathBuf,
    /// An Ed25519 publisher signing key (PKCS#8 PEM) instead of a master
    /// key; its public key is written beside it as PATH.pub (PEM).
    #[arg(long)]
    pub(crate) signing: bool,
    /// The key id as one JSON object on standard output.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RekeyArgs {
    /// The AVA3 file to re-encode, or a folder: every .ava3 file below it
    /// (and its batch manifest, rewritten) into the -o folder.
    pub(crate) input: PathBuf,
    /// The new key.
    #[arg(long, value_name = "PATH")]
    pub(crate) new_key_file: PathBuf,
    /// Output file, or - for standard output (never a terminal); the
    /// output folder when the input is a folder.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: PathBuf,
    /// Overwrite an existing output.
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Threads to use (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Sign the new file with this publisher key file (repeatable). Only an
    /// input whose signature by a trusted key verifies is re-signed
    /// (--signer; by default the public halves of these keys), and with a
    /// folder, only a manifest so signed is carried over. A signed input is
    /// refused without --sign, unless --drop-signatures. Never taken from
    /// the environment.
    #[arg(long = "sign", value_name = "KEY_FILE")]
    pub(crate) sign: Vec<PathBuf>,
    /// DANGER: also sign inputs (and a folder's manifest) that carry no
    /// signature at all. Whoever holds the old master key can write such a
    /// file; with this flag it leaves the rotation signed by you.
    #[arg(long, requires = "sign")]
    pub(crate) sign_unsigned_input: bool,
    /// Re-encode a signed input unsigned.
    #[arg(long, conflicts_with = "sign")]
    pub(crate) drop_signatures: bool,
    /// With --sign: a file holding a public key whose valid signature an
    /// input must carry to be re-signed (repeatable; default: the public
    /// halves of the --sign keys). Never taken from the environment.
    #[arg(long = "signer", value_name = "PUBKEY_FILE", requires = "sign")]
    pub(crate) signers: Vec<PathBuf>,
    /// Require this authenticated model name of every input.
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Require at least this authenticated model version of every input.
    #[arg(long, value_name = "N")]
    pub(crate) min_version: Option<u64>,
    #[command(flatten)]
    pub(crate) keys: KeyArgs,
    /// No progress bar and no result line; errors only.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// The result as one JSON object on standard output (per file for a
    /// folder; not with -o -).
    #[arg(long)]
    pub(crate) json: bool,
}
