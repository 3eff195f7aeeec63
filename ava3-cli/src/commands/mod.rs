//! One module per command. Each turns validated flags into calls to
//! `ava3-format`; none holds format logic.

pub mod batch;
pub mod decode;
pub mod encode;
pub mod inspect;
pub mod keygen;
pub mod rekey;
pub mod verify;
