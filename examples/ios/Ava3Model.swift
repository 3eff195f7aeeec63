// iOS: a Swift handle on libava3_decoder (link libava3_decoder.a through the
// Ava3 XCFramework that packaging/package.sh builds: `import Ava3`), with the
// same methods as the Android class com.ava.ava3.Ava3Model
// (ava3-decoder-ffi/packaging/android/java) except memfd, which iOS lacks.
// Compiled and run on Linux by examples/ios/test/run.sh (swiftc 6.0, against
// the host library through the XCFramework's own module.modulemap and ava3.h;
// not Xcode, the iOS SDK or a device: see ava3-decoder-ffi/README.md).
// iOS has no memfd: use the aligned buffer (LiteRT, MediaPipe), decode(into:)
// or read(at:into:).
//
// Order rule of the C ABI: the requirements, then the key. init sets both in
// that order; a successful ava3_decoder_set_key fixes them (any later change
// is AVA3_RESULT_REQUIREMENTS_LOCKED), so a model is never read under other
// requirements than the ones given to init.
import Ava3
import Foundation

// Result codes are UInt32 here: ava3.h (C, not C23) declares both
// `enum Ava3Result`, whose AVA3_RESULT_* constants Swift imports as a struct
// with a UInt32 rawValue, and `typedef uint32_t Ava3Result`, which every
// function returns, so the name `Ava3Result` is ambiguous in Swift. Compare a
// code with a constant's rawValue: `e.code == AVA3_RESULT_ROLLBACK.rawValue`.
struct Ava3Error: Error, CustomStringConvertible {
    /// The C ABI's result (AVA3_RESULT_*.rawValue; e.g. 19 unsigned, 20 name mismatch, 21 rollback).
    let code: UInt32
    var description: String {
        var buf = [CChar](repeating: 0, count: 160)
        let n = min(ava3_result_message(code, &buf, buf.count), buf.count - 1)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) + " (AVA3 result \(code))"
    }
}

private func check(_ r: UInt32) throws {
    guard r == AVA3_RESULT_OK.rawValue else { throw Ava3Error(code: r) }
}

final class Ava3Model {
    /// What the file must satisfy, checked by the key (ava3_decoder_trust_signer,
    /// _require_name, _require_min_version). A value: init copies it.
    struct Requirements {
        fileprivate var signers: [[UInt8]] = []
        fileprivate var name: String?
        fileprivate var minVersion: UInt64?

        init() {}

        /// An Ed25519 publisher key: 32 raw bytes, or the bytes of PEM or hex text.
        func trustSigner(_ publicKey: [UInt8]) -> Requirements {
            var r = self
            r.signers.append(publicKey)
            return r
        }

        /// PEM (`ava3 keygen --signing` writes PATH.pub) or 64 hex digits.
        func trustSigner(_ pemOrHex: String) -> Requirements { trustSigner(Array(pemOrHex.utf8)) }

        func requireName(_ name: String) -> Requirements {
            var r = self
            r.name = name
            return r
        }

        func requireMinVersion(_ min: UInt64) -> Requirements {
            var r = self
            r.minVersion = min
            return r
        }
    }

    /// nil after close(): every C call then answers AVA3_RESULT_NULL_PARAMETER, which is thrown.
    private var decoder: OpaquePointer?
    private let signed: Bool

    static var version: String { String(cString: ava3_version()) }

    /// Opens `path`, sets `requirements`, then the 32-byte master `key`
    /// (from the Keychain; wiped here, also on failure).
    convenience init(path: String, key: inout [UInt8], requirements: Requirements = Requirements()) throws {
        var d: OpaquePointer?
        let r = ava3_decoder_open_path(path, &d)
        try self.init(opened: d, result: r, key: &key, requirements: requirements)
    }

    /// The AVA3 file at `offset`, `length` bytes long, in the open descriptor
    /// `fd` (duplicated: the caller keeps and closes its own).
    convenience init(fd: Int32, offset: UInt64, length: UInt64, key: inout [UInt8],
                     requirements: Requirements = Requirements()) throws {
        var d: OpaquePointer?
        let r = ava3_decoder_open_fd(fd, offset, length, &d)
        try self.init(opened: d, result: r, key: &key, requirements: requirements)
    }

    private init(opened d: OpaquePointer?, result: UInt32, key: inout [UInt8], requirements req: Requirements) throws {
        defer { for i in key.indices { key[i] = 0 } }
        var r = result
        for s in req.signers where r == AVA3_RESULT_OK.rawValue {
            r = s.withUnsafeBufferPointer { ava3_decoder_trust_signer(d, $0.baseAddress, $0.count) }
        }
        if r == AVA3_RESULT_OK.rawValue, let name = req.name {
            let bytes = Array(name.utf8)
            r = bytes.withUnsafeBufferPointer { ava3_decoder_require_name(d, $0.baseAddress, $0.count) }
        }
        if r == AVA3_RESULT_OK.rawValue, let min = req.minVersion {
            r = ava3_decoder_require_min_version(d, min)
        }
        if r == AVA3_RESULT_OK.rawValue {
            r = key.withUnsafeBufferPointer { ava3_decoder_set_key(d, $0.baseAddress, $0.count) }
        }
        guard r == AVA3_RESULT_OK.rawValue else {
            ava3_decoder_free(d)
            throw Ava3Error(code: r)
        }
        decoder = d
        signed = !req.signers.isEmpty
    }

    /// The 16-byte key id of the header.
    func keyId() throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        try check(ava3_decoder_key_id(decoder, &out, out.count))
        return out
    }

    /// AVA3_PAYLOAD_UNKNOWN, _MLC, _GGUF or _LITERT.
    func payloadKind() throws -> UInt32 {
        var v: UInt32 = 0
        try check(ava3_decoder_payload_kind(decoder, &v))
        return v
    }

    func blockSize() throws -> UInt32 {
        var v: UInt32 = 0
        try check(ava3_decoder_block_size(decoder, &v))
        return v
    }

    /// Plaintext size (authenticated).
    func size() throws -> UInt64 {
        var v: UInt64 = 0
        try check(ava3_decoder_plaintext_size(decoder, &v))
        return v
    }

    /// The authenticated model name, nil when the file records none.
    func modelName() throws -> String? {
        var len = 0
        let r = ava3_decoder_model_name(decoder, nil, 0, &len)
        guard r == AVA3_RESULT_OK.rawValue || r == AVA3_RESULT_INVALID_PARAMETER.rawValue else { throw Ava3Error(code: r) }
        if len == 0 { return nil }
        var buf = [UInt8](repeating: 0, count: len + 1)
        var got = 0
        try check(ava3_decoder_model_name(decoder, &buf, buf.count, &got))
        return String(decoding: buf[0..<got], as: UTF8.self)
    }

    /// The authenticated model version; 0 when the file records none.
    func modelVersion() throws -> UInt64 {
        var v: UInt64 = 0
        try check(ava3_decoder_model_version(decoder, &v))
        return v
    }

    /// The plaintext SHA-256 the encoder recorded (authenticated; signed with a trusted signer).
    func plaintextSha256() throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        try check(ava3_decoder_plaintext_sha256(decoder, &out, out.count))
        return out
    }

    /// The 16-byte id of the trusted signer that verified; nil when no signer was required.
    func signerId() throws -> [UInt8]? {
        guard signed else { return nil }
        var out = [UInt8](repeating: 0, count: 16)
        try check(ava3_decoder_signer_id(decoder, &out, out.count))
        return out
    }

    /// Random access (ava3_decoder_read_at), safe from several threads at
    /// once: fills `buffer` from `offset`; the count, short only at the end
    /// of the model (0 at or past it).
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        var total = 0
        while total < buffer.count {
            var n = 0
            try check(ava3_decoder_read_at(decoder, offset + UInt64(total), base + total, buffer.count - total, &n))
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// The whole model into `buffer`, which must be exactly size() bytes
    /// (ava3_decoder_decode_to_buffer; wiped on failure).
    func decode(into buffer: UnsafeMutableRawBufferPointer) throws {
        try check(ava3_decoder_decode_to_buffer(decoder, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                                buffer.count))
    }

    /// The whole model in a page-aligned buffer owned by the library; call
    /// `release` after the runtime is done with it (wipes, then frees).
    func decodeAligned() throws -> (data: UnsafeRawPointer, count: Int, release: () -> Void) {
        var b: OpaquePointer?
        try check(ava3_decoder_decode_aligned(decoder, &b))
        guard let p = ava3_buffer_data(b) else { throw Ava3Error(code: AVA3_RESULT_NULL_PARAMETER.rawValue) }
        return (UnsafeRawPointer(p), ava3_buffer_len(b), { ava3_buffer_free(b) })
    }

    /// The last block that failed authentication, nil if none did.
    func failedBlock() throws -> UInt64? {
        var v: UInt64 = 0
        try check(ava3_decoder_failed_block(decoder, &v))
        return v == UInt64.max ? nil : v
    }

    /// Frees the decoder (wipes its keys and caches); twice is harmless.
    /// Not while another call on this model is running.
    func close() {
        ava3_decoder_free(decoder)
        decoder = nil
    }

    deinit { ava3_decoder_free(decoder) }
}
