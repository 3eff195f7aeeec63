//! Gives the shared library an SONAME on Linux and Android
//! (`libava3_decoder.so`, unversioned as Android requires), so that a
//! program linked with `-lava3_decoder` records that name, and Android's
//! loader finds the library by it.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libava3_decoder.so");
    }
}
