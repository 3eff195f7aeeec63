//! How file names and key-file arguments appear in messages: control
//! characters escaped, and anything that looks like key material withheld.

use std::path::Path;

/// `s` with every control character (C0, DEL, C1) written as an escape
/// (`\n`, `\t`, `\r`, `\x1b`, `\u{9b}`), so that a crafted file name
/// cannot move the cursor, recolour or retitle the user's terminal. JSON
/// output is unchanged by it: serde already escapes control characters.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.into()
}

/// How a key-file argument (a path) appears in a message: the path, or,
/// when the value looks like key material (PEM armour, a line break, a
/// long run of hex digits), a note that it is not shown. Every message of
/// every command and of the Python API that names a key, signing-key or
/// public-key file goes through here.
pub fn shown(path: &Path) -> String {
    if looks_like_key_material(&path.as_os_str().to_string_lossy()) {
        "(a value that looks like key material, not a file name: not shown)".to_string()
    } else {
        printable(&path.display().to_string()).into_owned()
    }
}

/// A "path" that is most likely a key pasted where its file belongs: PEM
/// armour, a line break (no key file name has one), the base64 of an
/// Ed25519 PKCS#8 key (the body line of a signing key file holds the whole
/// seed), a run of 32 or more hex digits (a master key, a seed, a public
/// key in hex, or part of one), or a run of 40 or more base64 characters
/// without a `/`, `.`, `-` or `_` (no file name looks so).
pub fn looks_like_key_material(s: &str) -> bool {
    const PKCS8_ED25519: [&str; 3] = ["MC4CAQAwBQYDK2Vw", "MFECAQEwBQYDK2Vw", "MFMCAQEwBQYDK2Vw"];
    if s.contains("-----")
        || s.contains('\n')
        || s.contains('\r')
        || PKCS8_ED25519.iter().any(|p| s.contains(p))
    {
        return true;
    }
    let (mut hex, mut b64) = (0usize, 0usize);
    for b in s.bytes() {
        hex = if b.is_ascii_hexdigit() { hex + 1 } else { 0 };
        b64 = if b.is_ascii_alphanumeric() || b == b'+' || b == b'=' {
            b64 + 1
        } else {
            0
        };
        if hex >= 32 || b64 >= 40 {
            return true;
        }
    }
    false
}
