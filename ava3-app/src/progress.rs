//! Progress on stderr: a bar on a terminal, nothing otherwise. Every bar
//! counts bytes and fits an 80-column terminal: a label of at most
//! [`LABEL_WIDTH`] characters, a 12-character bar, sizes, rate and time
//! left (at most 78 columns).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The widest label a bar shows (longer ones keep their end, after `…`).
pub const LABEL_WIDTH: usize = 18;

const TEMPLATE: &str =
    "{msg} [{bar:12}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}";

/// `label` cut to [`LABEL_WIDTH`] characters, control characters escaped:
/// the end of a long file name, which tells the files apart.
pub fn label(label: &str) -> String {
    let printable = crate::display::printable(label);
    let chars: Vec<char> = printable.chars().collect();
    if chars.len() <= LABEL_WIDTH {
        return format!("{printable:LABEL_WIDTH$}");
    }
    let tail: String = chars[chars.len() - (LABEL_WIDTH - 1)..].iter().collect();
    format!("…{tail}")
}

fn bar(total: u64, quiet: bool, message: String) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// The byte bar of one file, labelled with its name; hidden when stderr is
/// not a terminal or `quiet`.
pub fn bytes_bar(total: u64, quiet: bool, name: &str) -> ProgressBar {
    bar(total, quiet, label(name))
}

/// The byte bar of a batch: the bytes of all its files (so it moves while
/// one large model encodes), labelled with the files done; update the
/// label with [`files_label`].
pub fn batch_bar(total_bytes: u64, files: usize, quiet: bool) -> ProgressBar {
    bar(total_bytes, quiet, files_label(0, files))
}

/// The label of a batch bar: `done/total files`.
pub fn files_label(done: usize, total: usize) -> String {
    label(&format!("{done}/{total} files"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fit_their_width() {
        for name in [
            "m.amg",
            "a/very/long/path/to/assistant-3b-q4.amg",
            "\x1b[31mred",
        ] {
            assert_eq!(label(name).chars().count(), LABEL_WIDTH, "{name}");
        }
        assert!(label("a/very/long/path/to/assistant-3b-q4.amg")
            .ends_with("assistant-3b-q4.amg".get(2..).unwrap()));
        assert_eq!(files_label(12, 345).trim_end(), "12/345 files");
        // The widest line: label, bar, "1023.99 MiB/1023.99 GiB", a rate
        // and a time left, within 80 columns.
        let widest = LABEL_WIDTH + " [".len() + 12 + "] ".len() + 23 + 1 + 14 + 1 + 5;
        assert!(widest <= 80, "{widest}");
    }
}
