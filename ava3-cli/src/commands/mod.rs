//! One module per command. Each has a request (`from_args`: the flags,
//! checked, as `ava3-app` and `ava3-format` types) and a `run(request)`
//! that calls `ava3-app` and `ava3-format` and prints the results (typed
//! records of `report`); none holds format logic.

pub(crate) mod batch;
pub(crate) mod checksums;
pub(crate) mod decode;
pub(crate) mod encode;
pub(crate) mod inspect;
pub(crate) mod keygen;
pub(crate) mod rekey;
pub(crate) mod verify;
