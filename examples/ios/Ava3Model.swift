// iOS: a Swift handle on libava3_decoder (link libava3_decoder.a through an
// XCFramework with include/ava3.h as its module header).
// Not compiled here: no Swift toolchain or Xcode in this repository.
// iOS has no memfd: use the aligned buffer (LiteRT, MediaPipe) or read_at.
import Foundation

struct Ava3Error: Error, CustomStringConvertible {
    let code: Ava3Result
    var description: String {
        var buf = [CChar](repeating: 0, count: 160)
        ava3_result_message(code, &buf, buf.count)
        return String(cString: buf)
    }
}

final class Ava3Model {
    private var decoder: OpaquePointer?

    init(path: String, key: inout [UInt8]) throws {
        defer { for i in key.indices { key[i] = 0 } }
        var d: OpaquePointer?
        var r = ava3_decoder_open_path(path, &d)
        if r == AVA3_RESULT_OK {
            r = key.withUnsafeBufferPointer { ava3_decoder_set_key(d, $0.baseAddress, $0.count) }
        }
        guard r == AVA3_RESULT_OK else {
            ava3_decoder_free(d)
            throw Ava3Error(code: r)
        }
        decoder = d
    }

    /// The whole model in a page-aligned buffer owned by the library; call
    /// `release` after the runtime is done with it (wipes, then frees).
    func decodeAligned() throws -> (data: UnsafeRawPointer, count: Int, release: () -> Void) {
        var b: OpaquePointer?
        let r = ava3_decoder_decode_aligned(decoder, &b)
        guard r == AVA3_RESULT_OK, let p = ava3_buffer_data(b) else { throw Ava3Error(code: r) }
        return (UnsafeRawPointer(p), ava3_buffer_len(b), { ava3_buffer_free(b) })
    }

    /// Random access, safe from several threads at once.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var n = 0
        let r = ava3_decoder_read_at(decoder, offset, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                     buffer.count, &n)
        guard r == AVA3_RESULT_OK else { throw Ava3Error(code: r) }
        return n
    }

    deinit { ava3_decoder_free(decoder) }
}
