//! The panic boundary: every exported function and every stdio callback
//! runs its body through [`boundary`], so that a panic (a bug) never unwinds
//! into C, which is undefined behaviour. What the caller sees instead
//! depends on the return type ([`OnPanic`]): `AVA3_RESULT_PANIC`, NULL, 0,
//! or -1 for the stdio callbacks (which then fail like a read error).

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::result::Ava3Result;

// catch_unwind only catches when panics unwind: a build that aborts on
// panic would turn every bug into a crash of the host app.
#[cfg(panic = "abort")]
compile_error!("ava3-decoder-ffi must be built with panic = \"unwind\"");

/// The value a C caller gets when the body panicked.
pub(crate) trait OnPanic {
    fn on_panic() -> Self;
}

impl OnPanic for Ava3Result {
    fn on_panic() -> Self {
        Ava3Result::Panic
    }
}

impl OnPanic for usize {
    fn on_panic() -> Self {
        0
    }
}

impl OnPanic for () {
    fn on_panic() -> Self {}
}

impl<T> OnPanic for *const T {
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

/// stdio callbacks: -1 is their failure.
macro_rules! minus_one {
    ($($t:ty),*) => {$(
        impl OnPanic for $t {
            fn on_panic() -> Self {
                -1
            }
        }
    )*};
}
minus_one!(i32, i64, isize);

/// Runs `f`; a panic becomes `T::on_panic()`.
pub(crate) fn boundary<T: OnPanic>(f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| T::on_panic())
}

/// [`boundary`] for the functions that return a result code: `Ok(())` is
/// `AVA3_RESULT_OK`, `Err(code)` that code.
pub(crate) fn guarded(f: impl FnOnce() -> Result<(), Ava3Result>) -> Ava3Result {
    boundary(|| match f() {
        Ok(()) => Ava3Result::Ok,
        Err(code) => code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_default_of_its_return_type() {
        assert_eq!(guarded(|| panic!("boom")), Ava3Result::Panic);
        assert_eq!(guarded(|| Ok(())), Ava3Result::Ok);
        assert_eq!(
            guarded(|| Err(Ava3Result::Truncated)),
            Ava3Result::Truncated
        );
        assert_eq!(boundary::<usize>(|| panic!("boom")), 0);
        assert_eq!(boundary::<isize>(|| panic!("boom")), -1);
        assert!(boundary::<*const u8>(|| panic!("boom")).is_null());
        assert_eq!(boundary(|| 7usize), 7);
    }
}
