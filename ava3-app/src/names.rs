//! How each front end names the options a message of the application
//! layer points to: the layer decides what is wrong and what would fix it,
//! the front end's [`Names`] say it in its own words (`--force` for the
//! command, `force=True` for Python).

/// The spelling of the options a message may point to.
#[derive(Debug)]
pub struct Names {
    /// Replace an existing output.
    pub force: &'static str,
    /// Encode content that does not fit its payload kind; accept it at
    /// verify.
    pub allow_mismatch: &'static str,
    /// Encode a whole folder.
    pub tree: &'static str,
    /// Name the output file inside a folder.
    pub output_in_folder: &'static str,
    /// Give another output folder.
    pub other_output_folder: &'static str,
    /// Where publisher keys go (signing, trusting).
    pub publisher_keys: &'static str,
}

/// The `ava3` command's flags.
pub const CLI: Names = Names {
    force: "use --force to overwrite it",
    allow_mismatch: "--allow-mismatch",
    tree: "use --batch -o OUTDIR",
    output_in_folder: "give the output file's name (-o FOLDER/NAME)",
    other_output_folder: "encode into another folder (-o OUTDIR)",
    publisher_keys: "a publisher key goes to --sign or --signer",
};

/// The Python package's arguments (`ava_toolchain.ava3`).
pub const PYTHON: Names = Names {
    force: "pass force=True to replace it",
    allow_mismatch: "allow_mismatch=True",
    tree: "use encode_tree() for a folder",
    output_in_folder: "give the output file's name (dst=FOLDER/NAME)",
    other_output_folder: "encode into another folder (dst_dir)",
    publisher_keys: "a publisher key goes to sign= or signers=",
};
