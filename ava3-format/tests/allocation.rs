//! What a forged header can make a keyless verifier allocate.
//! A counting allocator (this test binary's own) records the largest
//! single allocation while the check runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ava3_format::{
    encode_to_vec, Check, DecodeOptions, EncodeOptions, MasterKey, Outcome, Report, Sealed,
};

fn verify_keyless(mut input: &[u8], options: &DecodeOptions) -> ava3_format::Result<Report> {
    Sealed::read(&mut input)?.verify(input, &Check::KEYLESS, options)
}

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only
// records the size asked for.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A header announcing one 16 MiB block, and nothing after it: keyless
/// verification reports `truncated` having allocated at most 64 KiB for
/// the blocks (it grows its buffer as bytes arrive), where it used to
/// allocate the whole announced block first.
#[test]
fn a_forged_header_costs_no_block_sized_allocation() {
    let key = MasterKey::from_bytes([5; 32]);
    let opts = EncodeOptions {
        block_size: ava3_format::MAX_BLOCK_SIZE,
        ..EncodeOptions::default()
    };
    let plaintext = vec![1u8; 1 << 20];
    let (file, _) = encode_to_vec(&key, &plaintext, &opts).unwrap();
    let header_only = file[..128].to_vec();
    for input in [&header_only[..], &file[..128 + 1000]] {
        LARGEST.store(0, Ordering::SeqCst);
        let r = verify_keyless(input, &DecodeOptions { parallel: false });
        let largest = LARGEST.load(Ordering::SeqCst);
        assert_eq!(r.unwrap_err().outcome(), Outcome::Truncated);
        assert!(largest <= 1 << 17, "largest allocation {largest} bytes");
    }
    // The genuine file still verifies.
    verify_keyless(&file[..], &DecodeOptions::default()).unwrap();
}
