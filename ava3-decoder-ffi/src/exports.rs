//! The exported C functions. Each is an `unsafe extern "C" fn`: Rust callers
//! (tests, fuzzers) must keep the same contract as C callers, written in
//! its `# Safety` section. Each runs its body through the panic boundary
//! (`boundary`), turns its pointers into references only through
//! the typed helpers of `ptr`, and writes its outputs only on success (one
//! documented exception: `ava3_decoder_model_name` gives `*out_len` when
//! the buffer is too small).
//!
//! A decoder's requirements are set first, then `set_key` unlocks the file
//! under the key and those requirements, as the core's `Sealed::unlock`
//! does, and fixes both (`handle::DecoderState`): later `set_key`,
//! `trust_signer`, `require_name` and `require_min_version` calls return
//! `AVA3_RESULT_REQUIREMENTS_LOCKED`.
//!
//! This module contains no unsafe block; it allows `unsafe_code` only
//! because `#[no_mangle]` counts as unsafe for the lint.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int};

use crate::boundary::{boundary, guarded};
use crate::handle::{self, AlignedBuffer, DecoderState, Source};
use crate::ptr;
use crate::result::Ava3Result;

/// An open AVA3 file (opaque). Functions taking a `const Ava3Decoder *`
/// may run concurrently; those taking `Ava3Decoder *` may not run at the
/// same time as any other call on the same decoder.
#[derive(Debug)]
pub struct Ava3Decoder {
    pub(crate) inner: DecoderState,
}

/// A page-aligned plaintext buffer owned by the library (opaque).
#[derive(Debug)]
pub struct Ava3Buffer {
    pub(crate) inner: AlignedBuffer,
}

/// Statistics of the `FILE*` block cache of a decoder.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Ava3CacheStats {
    /// Block lookups served from the cache.
    pub hits: u64,
    /// Block lookups that decrypted a block.
    pub misses: u64,
    /// Plaintext bytes decrypted for the cache.
    pub bytes_decrypted: u64,
}

/// Callback of `ava3_decoder_stream`: one authenticated block of plaintext
/// at `offset`. `data` is valid only during the call (it is wiped after).
/// Return 0 to continue, anything else to stop with AVA3_RESULT_CANCELLED.
pub type Ava3BlockCallback = Option<
    extern "C" fn(user: *mut std::ffi::c_void, offset: u64, data: *const u8, len: usize) -> c_int,
>;

/// The library version, "MAJOR.MINOR.PATCH" (static, never freed).
#[no_mangle]
pub extern "C" fn ava3_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Writes a NUL-terminated English description of `result` into `buf`
/// (`len` bytes, truncated if needed) and returns the length of the full
/// message without the NUL. `buf` may be NULL when `len` is 0.
///
/// # Safety
///
/// `buf` is NULL (then `len` must be 0) or points to `len` writable bytes for the call, and nothing else accesses it meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_result_message(result: u32, buf: *mut c_char, len: usize) -> usize {
    let msg = Ava3Result::from_u32(result)
        .map(Ava3Result::message)
        .unwrap_or("unknown result code");
    let _ = guarded(|| {
        let out = ptr::bytes_mut(buf.cast::<u8>(), len)?;
        if let Some(room) = out.len().checked_sub(1) {
            let n = room.min(msg.len());
            out[..n].copy_from_slice(&msg.as_bytes()[..n]);
            out[n] = 0;
        }
        Ok(())
    });
    msg.len()
}

fn finish_open(
    d: Result<DecoderState, ava3_format::Error>,
    out: *mut *mut Ava3Decoder,
) -> Result<(), Ava3Result> {
    ptr::give_decoder(out, d.map_err(|e| Ava3Result::from(&e))?)
}

/// Opens the AVA3 file at `path` and reads its header (no key yet).
/// On success `*out` is a new decoder to free with `ava3_decoder_free`.
///
/// # Safety
///
/// `path` is NULL or a NUL-terminated string, readable for the call.
/// `out` is NULL or points to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_open_path(
    path: *const c_char,
    out: *mut *mut Ava3Decoder,
) -> Ava3Result {
    guarded(|| {
        if out.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let path = ptr::c_str(path)?
            .to_str()
            .map_err(|_| Ava3Result::InvalidParameter)?;
        finish_open(DecoderState::open_path(std::path::Path::new(path)), out)
    })
}

/// Opens an AVA3 file stored at `offset`, `length` bytes long, in the open
/// file `fd` (for example a model inside an APK). The descriptor is
/// duplicated: the caller keeps and closes its own.
///
/// # Safety
///
/// `out` is NULL or points to writable storage for one pointer.
/// `fd` is an open descriptor for the duration of the call (it is duplicated; the caller keeps and closes its own).
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_open_fd(
    fd: c_int,
    offset: u64,
    length: u64,
    out: *mut *mut Ava3Decoder,
) -> Ava3Result {
    guarded(|| {
        if out.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        #[cfg(unix)]
        {
            let file = ptr::dup_fd(fd).map_err(|_| Ava3Result::Io)?;
            let range = ava3_format::FileRange::new(file, offset, length);
            finish_open(DecoderState::open(Source::File(range)), out)
        }
        #[cfg(not(unix))]
        {
            let _ = (fd, offset, length);
            Err(Ava3Result::Unsupported)
        }
    })
}

/// Opens an AVA3 file held in memory. The memory is borrowed, not copied:
/// it must stay valid and unchanged until the decoder and every FILE* made
/// from it are closed.
///
/// # Safety
///
/// `out` is NULL or points to writable storage for one pointer.
/// `data` is NULL (then `len` must be 0) or points to `len` readable bytes and stays valid and unchanged until the decoder and every `FILE*` made from it are closed.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_open_buffer(
    data: *const u8,
    len: usize,
    out: *mut *mut Ava3Decoder,
) -> Ava3Result {
    guarded(|| {
        if out.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let bytes = ptr::BorrowedBytes::new(data, len)?;
        finish_open(DecoderState::open(Source::Borrowed(bytes)), out)
    })
}

/// The 16-byte key id recorded in the header (readable before a key is set,
/// to pick the key).
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL (then `out_len` must be 0) or points to `out_len` writable bytes for the call, and nothing else accesses it meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_key_id(
    d: *const Ava3Decoder,
    out: *mut u8,
    out_len: usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        let out = ptr::bytes_mut(out, out_len)?;
        if out.len() != 16 {
            return Err(Ava3Result::InvalidParameter);
        }
        out.copy_from_slice(d.header().key_id().as_bytes());
        Ok(())
    })
}

/// The payload kind recorded in the header: 0 unknown, 1 MLC, 2 GGUF,
/// 3 LiteRT (readable before a key is set, to pick the runtime).
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL or points to writable, aligned storage for one `u32`.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_payload_kind(
    d: *const Ava3Decoder,
    out: *mut u32,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        ptr::write(out, u32::from(d.header().payload_kind().code()))
    })
}

/// The block size in bytes.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL or points to writable, aligned storage for one `u32`.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_block_size(
    d: *const Ava3Decoder,
    out: *mut u32,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        ptr::write(out, d.header().block_size())
    })
}

/// Sets the 32-byte master key: checks its key id (AVA3_RESULT_WRONG_KEY),
/// authenticates the header, checks the file length and authenticates the
/// trailer, under the requirements set before it (trusted signers: the
/// signature over every tag; name; minimum version). The key is copied;
/// the caller may wipe its copy afterwards. A refused key changes nothing:
/// call it again with another. Once it succeeded, the key and the
/// requirements are fixed: `set_key`, `_trust_signer`, `_require_name` and
/// `_require_min_version` are refused with AVA3_RESULT_REQUIREMENTS_LOCKED
/// and change nothing, so no reader is ever made under other requirements
/// than the caller believes. Not thread-safe on the same decoder.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, with no other call on it running meanwhile.
/// `key` is NULL (then `key_len` must be 0) or points to `key_len` readable bytes for the call.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_set_key(
    d: *mut Ava3Decoder,
    key: *const u8,
    key_len: usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder_mut(d)?;
        // A key that is not 32 bytes is refused by `MasterKey::from_slice`.
        let key = ptr::bytes(key, key_len)?;
        d.set_key(key)
    })
}

/// Trusts an Ed25519 publisher public key: its 32 bytes, or the text of a
/// PEM SubjectPublicKeyInfo (`ava3 keygen --signing` writes PATH.pub) or of
/// 64 hex digits. From then on the file must carry a valid signature by a
/// trusted key (AVA3_RESULT_UNSIGNED, _UNKNOWN_SIGNER, _BAD_SIGNATURE), and
/// the random-access reads compare each block's tag with the signed one.
/// Call it several times to trust several keys.
///
/// Requirements come first: set them, then `set_key` (which checks them),
/// then make readers. After a successful `set_key` this call is refused
/// with AVA3_RESULT_REQUIREMENTS_LOCKED and changes nothing. Not
/// thread-safe on the same decoder.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, with no other call on it running meanwhile.
/// `key` is NULL (then `key_len` must be 0) or points to `key_len` readable bytes for the call.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_trust_signer(
    d: *mut Ava3Decoder,
    key: *const u8,
    key_len: usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder_mut(d)?;
        let key = ptr::bytes(key, key_len)?;
        d.trust_signer(key)
    })
}

/// Requires the file's authenticated model name to be the `name_len` bytes
/// at `name` (UTF-8, no NUL needed): AVA3_RESULT_NAME_MISMATCH otherwise.
/// Before `set_key`, as `ava3_decoder_trust_signer`; after it, refused with
/// AVA3_RESULT_REQUIREMENTS_LOCKED (nothing changed).
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, with no other call on it running meanwhile.
/// `name` is NULL (then `name_len` must be 0) or points to `name_len` readable bytes for the call.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_require_name(
    d: *mut Ava3Decoder,
    name: *const u8,
    name_len: usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder_mut(d)?;
        let name = std::str::from_utf8(ptr::bytes(name, name_len)?)
            .map_err(|_| Ava3Result::InvalidParameter)?;
        d.require_name(name)
    })
}

/// Requires the file's authenticated model version to be at least `min`
/// (a file without a version has version 0): AVA3_RESULT_ROLLBACK
/// otherwise. Before `set_key`, as `ava3_decoder_trust_signer`; after it,
/// refused with AVA3_RESULT_REQUIREMENTS_LOCKED (nothing changed).
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, with no other call on it running meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_require_min_version(
    d: *mut Ava3Decoder,
    min: u64,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder_mut(d)?;
        d.require_min_version(min)
    })
}

/// The authenticated model name (needs the key), as `*out_len` bytes of
/// UTF-8 and a NUL into `buf` of `cap` bytes. `*out_len` is 0 for a file
/// without a name. When `cap` is less than the length plus one, nothing is
/// written but `*out_len`, and the result is AVA3_RESULT_INVALID_PARAMETER
/// (the one exception to "outputs only on success": pass `buf` NULL and
/// `cap` 0 to ask for the length). Any other failure writes nothing, not
/// even `*out_len` (a NULL `buf` with a non-zero `cap` is
/// AVA3_RESULT_NULL_PARAMETER).
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `buf` is NULL (then `cap` must be 0) or points to `cap` writable bytes for the call, and nothing else accesses it meanwhile.
/// `out_len` is NULL or points to writable, aligned storage for one `usize`.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_model_name(
    d: *const Ava3Decoder,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        if out_len.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let name = d
            .reader()?
            .header()
            .metadata()
            .name
            .clone()
            .unwrap_or_default();
        // The buffer is checked before anything is written: a NULL buffer
        // with a non-zero capacity writes nothing, not even `*out_len`.
        let buf = ptr::bytes_mut(buf, cap)?;
        if buf.len() < name.len() + 1 {
            // The one documented exception: the size a caller must supply.
            ptr::write(out_len, name.len())?;
            return Err(Ava3Result::InvalidParameter);
        }
        ptr::write(out_len, name.len())?;
        buf[..name.len()].copy_from_slice(name.as_bytes());
        buf[name.len()] = 0;
        Ok(())
    })
}

/// The authenticated model version (needs the key); 0 for a file without
/// one.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL or points to writable, aligned storage for one `u64`.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_model_version(
    d: *const Ava3Decoder,
    out: *mut u64,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        if out.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let v = d.reader()?.header().metadata().version.unwrap_or(0);
        ptr::write(out, v)
    })
}

/// The plaintext SHA-256 `D` the encoder recorded (authenticated by the
/// trailer MAC at `set_key`; with a trusted signer, also by the signature),
/// into `out` of 32 bytes. Compare it with the release manifest.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL (then `out_len` must be 0) or points to `out_len` writable bytes for the call, and nothing else accesses it meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_plaintext_sha256(
    d: *const Ava3Decoder,
    out: *mut u8,
    out_len: usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        let out = ptr::bytes_mut(out, out_len)?;
        if out.len() != 32 {
            return Err(Ava3Result::InvalidParameter);
        }
        out.copy_from_slice(&d.reader()?.recorded_plaintext_sha256());
        Ok(())
    })
}

/// The 16-byte signer id of the trusted key whose signature verified
/// (needs the key and a trusted signer; AVA3_RESULT_INVALID_PARAMETER
/// when no signature was required).
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL (then `out_len` must be 0) or points to `out_len` writable bytes for the call, and nothing else accesses it meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_signer_id(
    d: *const Ava3Decoder,
    out: *mut u8,
    out_len: usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        let out = ptr::bytes_mut(out, out_len)?;
        if out.len() != 16 {
            return Err(Ava3Result::InvalidParameter);
        }
        let id = d.reader()?.signer().ok_or(Ava3Result::InvalidParameter)?;
        out.copy_from_slice(id.as_bytes());
        Ok(())
    })
}

/// The plaintext size, authenticated (needs the key).
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL or points to writable, aligned storage for one `u64`.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_plaintext_size(
    d: *const Ava3Decoder,
    out: *mut u64,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        if out.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let n = d.reader()?.len();
        ptr::write(out, n)
    })
}

/// Reads up to `len` bytes at `offset` into `buf`; `*out_read` is the count
/// (0, with AVA3_RESULT_OK, at or past the end, as `pread` does). Safe to call from several threads at once on one
/// decoder. On failure nothing is reported read and `buf` is wiped.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out_read` is NULL or points to writable, aligned storage for one `usize`.
/// `buf` is NULL (then `len` must be 0) or points to `len` writable bytes for the call, and nothing else accesses it meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_read_at(
    d: *const Ava3Decoder,
    offset: u64,
    buf: *mut u8,
    len: usize,
    out_read: *mut usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        if out_read.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let buf = ptr::bytes_mut(buf, len)?;
        let n = d.read_at(buf, offset)?;
        ptr::write(out_read, n)
    })
}

/// Reads up to `len` bytes at the decoder's position and advances it.
/// Not thread-safe on the same decoder.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, with no other call on it running meanwhile.
/// `out_read` is NULL or points to writable, aligned storage for one `usize`.
/// `buf` is NULL (then `len` must be 0) or points to `len` writable bytes for the call, and nothing else accesses it meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_read(
    d: *mut Ava3Decoder,
    buf: *mut u8,
    len: usize,
    out_read: *mut usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder_mut(d)?;
        if out_read.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let buf = ptr::bytes_mut(buf, len)?;
        let n = d.read(buf)?;
        ptr::write(out_read, n)
    })
}

/// Sets the position of `ava3_decoder_read`.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, with no other call on it running meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_seek(d: *mut Ava3Decoder, position: u64) -> Ava3Result {
    guarded(|| ptr::decoder_mut(d)?.seek(position))
}

/// Calls `callback` with every block of plaintext in order, each
/// authenticated before it is passed; stops at the first failure. The
/// stream keeps its own reference to the reader for its whole duration:
/// a callback that calls back into the same decoder cannot free it (and
/// `set_key` or a requirement is refused there with
/// AVA3_RESULT_REQUIREMENTS_LOCKED, as after any successful `set_key`).
/// Calling back into the decoder from the callback is the one exception to
/// the header's rule that calls taking `Ava3Decoder *` never overlap: it is
/// safe, and such calls change nothing.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `callback`, when given, is safe to call with `user` and the block's pointer and length (valid only during the call).
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_stream(
    d: *const Ava3Decoder,
    callback: Ava3BlockCallback,
    user: *mut std::ffi::c_void,
) -> Ava3Result {
    guarded(|| {
        let cb = callback.ok_or(Ava3Result::NullParameter)?;
        // Owned references only: the callback may call back into `d`, and
        // nothing it does frees the reader this stream uses.
        let parts = ptr::decoder(d)?.stream_parts()?;
        handle::stream(parts, |offset, data| {
            cb(user, offset, data.as_ptr(), data.len()) == 0
        })
    })
}

/// Decodes the whole model into the caller's `buf`, which must be exactly
/// the plaintext size. Blocks are decoded on all cores. On failure `buf`
/// is wiped.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `buf` is NULL (then `len` must be 0) or points to `len` writable bytes for the call, and nothing else accesses it meanwhile.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_decode_to_buffer(
    d: *const Ava3Decoder,
    buf: *mut u8,
    len: usize,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        let buf = ptr::bytes_mut(buf, len)?;
        d.decode_into(buf)
    })
}

/// Decodes the whole model into a new page-aligned buffer owned by the
/// library (for TfLiteModelCreate / LiteRtCreateModelFromBuffer, which need
/// the memory for the model's lifetime). Free it with `ava3_buffer_free`.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL or points to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_decode_aligned(
    d: *const Ava3Decoder,
    out: *mut *mut Ava3Buffer,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        if out.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let buf = handle::decode_aligned(d)?;
        ptr::give_buffer(out, buf)
    })
}

/// The data of a buffer (page-aligned; NULL for a NULL buffer).
///
/// # Safety
///
/// `b` is NULL or a buffer from `ava3_decoder_decode_aligned` that is not freed.
#[no_mangle]
pub unsafe extern "C" fn ava3_buffer_data(b: *const Ava3Buffer) -> *const u8 {
    boundary(|| ptr::buffer(b).map_or(std::ptr::null(), |b| b.as_slice().as_ptr()))
}

/// The length of a buffer (0 for NULL).
///
/// # Safety
///
/// `b` is NULL or a buffer from `ava3_decoder_decode_aligned` that is not freed.
#[no_mangle]
pub unsafe extern "C" fn ava3_buffer_len(b: *const Ava3Buffer) -> usize {
    boundary(|| ptr::buffer(b).map_or(0, |b| b.as_slice().len()))
}

/// Wipes and frees a buffer. NULL is allowed.
///
/// # Safety
///
/// `b` is NULL or a buffer from `ava3_decoder_decode_aligned`, freed once, whose data is no longer used.
#[no_mangle]
pub unsafe extern "C" fn ava3_buffer_free(b: *mut Ava3Buffer) {
    boundary(|| ptr::free_buffer(b))
}

/// Decodes the whole model into an anonymous, sealed memfd (Linux and
/// Android; AVA3_RESULT_UNSUPPORTED elsewhere): no name on disk, sealed
/// against writing, growing and shrinking. `*out_fd` is a read-only
/// descriptor (reopened through /proc), so that `mmap(PROT_READ,
/// MAP_SHARED)` works on kernels before 6.7 too (every Android GKI kernel
/// in the field); it belongs to the caller (close it). Runtimes that only
/// take a path can open `/proc/self/fd/N`.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out_fd` is NULL or points to writable, aligned storage for one `c_int`.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_decode_to_memfd(
    d: *const Ava3Decoder,
    out_fd: *mut c_int,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        if out_fd.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let file = d.reader()?.decode_to_memfd().map_err(|e| match e {
                ava3_format::Error::Io(_) => Ava3Result::Io,
                e => d.fail(&e),
            })?;
            ptr::write(out_fd, std::os::fd::IntoRawFd::into_raw_fd(file))
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = d;
            Err(Ava3Result::Unsupported)
        }
    })
}

/// A read-only, seekable `FILE*` over the plaintext (for
/// `llama_model_load_from_file_ptr` with `load_mode =
/// LLAMA_LOAD_MODE_NONE`): authenticated block
/// reads through a block cache, and a stdio buffer of `buffer_size`
/// bytes (1 MiB or more is best; 0 keeps stdio's default; more than 256 MiB
/// is AVA3_RESULT_INVALID_PARAMETER, and a buffer that cannot be allocated
/// AVA3_RESULT_OUT_OF_MEMORY). The FILE keeps
/// what it needs: it may outlive the decoder. Close it with `fclose`. Reads
/// fail with errno EBADMSG when a block fails authentication.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL or points to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_fopen(
    d: *const Ava3Decoder,
    buffer_size: usize,
    out: *mut *mut libc::FILE,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        if out.is_null() {
            return Err(Ava3Result::NullParameter);
        }
        let cookie = handle::FileCookie::new(d, buffer_size)?;
        let file = crate::stdio::open_file(Box::new(cookie));
        if file.is_null() {
            return Err(Ava3Result::Unsupported);
        }
        ptr::write(out, file)
    })
}

/// Statistics of the FILE* block cache of this decoder (all its FILEs).
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL or points to writable, aligned storage for one `Ava3CacheStats`.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_cache_stats(
    d: *const Ava3Decoder,
    out: *mut Ava3CacheStats,
) -> Ava3Result {
    use std::sync::atomic::Ordering;
    guarded(|| {
        let d = ptr::decoder(d)?;
        let c = d.cache_counters();
        ptr::write(
            out,
            Ava3CacheStats {
                hits: c.hits.load(Ordering::Relaxed),
                misses: c.misses.load(Ordering::Relaxed),
                bytes_decrypted: c.bytes_decrypted.load(Ordering::Relaxed),
            },
        )
    })
}

/// The index of the last block that failed authentication on this decoder
/// (after AVA3_RESULT_BLOCK_FAILURE); UINT64_MAX if none did.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*` that is not freed, which other threads may use at the same time only through functions taking `const Ava3Decoder *`.
/// `out` is NULL or points to writable, aligned storage for one `u64`.
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_failed_block(
    d: *const Ava3Decoder,
    out: *mut u64,
) -> Ava3Result {
    guarded(|| {
        let d = ptr::decoder(d)?;
        ptr::write(out, d.failed_block())
    })
}

/// Frees a decoder, wiping its key material and caches. NULL is allowed.
///
/// # Safety
///
/// `d` is NULL or a decoder from `ava3_decoder_open_*`, freed once, with no other call on it running or to come (every `FILE*` made from it may stay open).
#[no_mangle]
pub unsafe extern "C" fn ava3_decoder_free(d: *mut Ava3Decoder) {
    boundary(|| ptr::free_decoder(d))
}
