//! Must fail to compile: see Cargo.toml.
use ava3_format::{EncodeOptions, Encoder, MasterKey};

fn main() {
    let key = MasterKey::from_bytes([1; 32]);
    let _ = Encoder::new_with_salt_for_test_vectors(Vec::new(), &key, 0, &EncodeOptions::default(), [0; 32]);
}
