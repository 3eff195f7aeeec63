// Test driver for examples/ios/Ava3Model.swift, compiled with it by swiftc on
// Linux against the host libava3_decoder through the XCFramework's own
// module.modulemap and ava3.h (`import Ava3`): examples/ios/test/run.sh.
//
//   main WORK KEYHEX KEYIDHEX PLAINTEXT_SHA256_HEX CONTAINER_OFFSET
//
// WORK holds the files run.sh makes with the ava3 CLI: plain.ava3 (dev key),
// signed.ava3 (signed by signer.key, name assistant-3b, version 7),
// named.ava3 (same name and version, unsigned), flipped.ava3 (one ciphertext
// byte changed), container.bin (plain.ava3 at CONTAINER_OFFSET), model.plain,
// signer.key.pub, other.key.pub.
import Ava3
import Foundation

var checks = 0
func expect(_ cond: @autoclosure () throws -> Bool, _ what: String, line: Int = #line) throws {
    guard try cond() else {
        FileHandle.standardError.write("FAIL (main.swift:\(line)): \(what)\n".data(using: .utf8)!)
        exit(1)
    }
    checks += 1
}

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}
func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

/// The result code of a refused init, nil if it opened.
func refusal(_ open: () throws -> Ava3Model) -> UInt32? {
    do {
        let m = try open()
        m.close()
        return nil
    } catch let e as Ava3Error {
        return e.code
    } catch {
        return nil
    }
}

let args = CommandLine.arguments
guard args.count == 6 else {
    print("usage: main WORK KEYHEX KEYIDHEX PLAINTEXT_SHA256_HEX CONTAINER_OFFSET")
    exit(2)
}
let w = args[1], keyHex = args[2], keyId = hexBytes(args[3]), sha = hexBytes(args[4])
let containerOffset = UInt64(args[5])!
let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(w)/model.plain")))
let signerPem = try String(contentsOfFile: "\(w)/signer.key.pub", encoding: .utf8)
let otherPem = try String(contentsOfFile: "\(w)/other.key.pub", encoding: .utf8)
func key() -> [UInt8] { hexBytes(keyHex) }

try expect(Ava3Model.version == "0.1.0", "version \(Ava3Model.version)")

// Every reader and the metadata on plain.ava3, opened by path with no requirement.
do {
    var k = key()
    let m = try Ava3Model(path: "\(w)/plain.ava3", key: &k)
    try expect(k.allSatisfy { $0 == 0 }, "the key is wiped after init")
    try expect(try m.keyId() == keyId, "keyId")
    try expect(try m.payloadKind() == UInt32(AVA3_PAYLOAD_GGUF), "payload kind \(try m.payloadKind())")
    try expect(try m.blockSize() == 65536, "block size (the encoder's default)")
    try expect(try m.size() == UInt64(plain.count), "size")
    try expect(try m.modelName() == nil, "no name")
    try expect(try m.modelVersion() == 0, "no version")
    try expect(try m.plaintextSha256() == sha, "plaintext SHA-256")
    try expect(try m.signerId() == nil, "no signer id without a signer")
    try expect(try m.failedBlock() == nil, "no failed block")

    var got = [UInt8](repeating: 0, count: plain.count)
    try got.withUnsafeMutableBytes { try m.decode(into: $0) }
    try expect(got == plain, "decode(into:)")

    var pieces = [UInt8]()
    var off: UInt64 = 0
    var piece = [UInt8](repeating: 0, count: 1000) // not a multiple of the block size
    while true {
        let n = try piece.withUnsafeMutableBytes { try m.read(at: off, into: $0) }
        if n == 0 { break }
        pieces += piece[0..<n]
        off += UInt64(n)
    }
    try expect(pieces == plain, "read(at:into:) piecewise")
    let tail = try piece.withUnsafeMutableBytes { try m.read(at: UInt64(plain.count) - 10, into: $0) }
    try expect(tail == 10, "short read at the end")

    let a = try m.decodeAligned()
    try expect(Int(bitPattern: a.data) % 4096 == 0, "decodeAligned is page-aligned")
    try expect(Array(UnsafeRawBufferPointer(start: a.data, count: a.count)) == plain, "decodeAligned")
    a.release()

    m.close()
    m.close()
    do {
        _ = try m.size()
        try expect(false, "size() after close() throws")
    } catch let e as Ava3Error {
        try expect(e.code == AVA3_RESULT_NULL_PARAMETER.rawValue, "after close(): \(e)")
    }
}

// init(fd:offset:length:): the model at an offset in a bigger file, as inside an app bundle.
do {
    let fh = try FileHandle(forReadingFrom: URL(fileURLWithPath: "\(w)/container.bin"))
    let length = (try FileManager.default.attributesOfItem(atPath: "\(w)/plain.ava3")[.size] as! NSNumber).uint64Value
    var k = key()
    let m = try Ava3Model(fd: fh.fileDescriptor, offset: containerOffset, length: length, key: &k)
    try fh.close() // duplicated by the library
    var got = [UInt8](repeating: 0, count: Int(try m.size()))
    try got.withUnsafeMutableBytes { try m.decode(into: $0) }
    try expect(got == plain, "decode(into:) of the model at an offset in a descriptor")
}

// The requirements an app sets: publisher key, name, minimum version.
let required = Ava3Model.Requirements()
    .trustSigner(signerPem)
    .requireName("assistant-3b")
    .requireMinVersion(7)
do {
    var k = key()
    let m = try Ava3Model(path: "\(w)/signed.ava3", key: &k, requirements: required)
    try expect(try m.modelName() == "assistant-3b", "model name")
    try expect(try m.modelVersion() == 7, "model version")
    try expect(try m.signerId()?.count == 16, "signer id")
    try expect(try m.plaintextSha256() == sha, "signed: plaintext SHA-256")
    try expect(try m.size() == UInt64(plain.count), "signed: size")
    try expect(try m.blockSize() == 4096, "signed: block size")
    var got = [UInt8](repeating: 0, count: plain.count)
    let n = try got.withUnsafeMutableBytes { try m.read(at: 0, into: $0) }
    try expect(n == plain.count && got == plain, "signed: read(at:into:)")
}

// trustSigner's other forms: the key's 32 raw bytes (the end of the PEM's
// SubjectPublicKeyInfo) and its 64 hex digits.
do {
    let b64 = signerPem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
    let raw = [UInt8](Data(base64Encoded: b64)!.suffix(32))
    for req in [Ava3Model.Requirements().trustSigner(raw), Ava3Model.Requirements().trustSigner(hex(raw))] {
        var k = key()
        let m = try Ava3Model(path: "\(w)/signed.ava3", key: &k, requirements: req)
        try expect(try m.signerId()?.count == 16, "signer trusted by its raw or hex key")
    }
}

// Refused requirements, each with its code; the key is wiped on failure too.
func open(_ file: String, _ req: Ava3Model.Requirements, key k0: [UInt8]? = nil) throws -> UInt32? {
    var k = k0 ?? key()
    let code = refusal { try Ava3Model(path: "\(w)/\(file)", key: &k, requirements: req) }
    try expect(k.allSatisfy { $0 == 0 }, "the key is wiped after init (\(file))")
    return code
}
try expect(try open("signed.ava3", required.requireMinVersion(8)) == AVA3_RESULT_ROLLBACK.rawValue, "rollback")
try expect(AVA3_RESULT_ROLLBACK.rawValue == 21, "rollback is 21")
try expect(try open("signed.ava3", required.requireName("assistant-7b")) == AVA3_RESULT_NAME_MISMATCH.rawValue, "name mismatch")
try expect(try open("signed.ava3", Ava3Model.Requirements().trustSigner(otherPem)) == AVA3_RESULT_UNKNOWN_SIGNER.rawValue,
           "unknown signer")
try expect(try open("named.ava3", required) == AVA3_RESULT_UNSIGNED.rawValue, "unsigned")
try expect(try open("named.ava3", Ava3Model.Requirements().requireName("assistant-3b").requireMinVersion(7)) == nil,
           "name and version without a signer")
try expect(try open("plain.ava3", Ava3Model.Requirements(), key: [UInt8](repeating: 7, count: 32)) == AVA3_RESULT_WRONG_KEY.rawValue,
           "wrong key")
try expect(try open("plain.ava3", Ava3Model.Requirements(), key: [1, 2, 3]) == AVA3_RESULT_INVALID_PARAMETER.rawValue,
           "a key that is not 32 bytes")
try expect(try open("model.plain", Ava3Model.Requirements()) == AVA3_RESULT_NOT_AVA3.rawValue, "not AVA3")
try expect(try open("missing.ava3", Ava3Model.Requirements()) == AVA3_RESULT_IO.rawValue, "no such file")
try expect(String(describing: Ava3Error(code: AVA3_RESULT_ROLLBACK.rawValue)).hasSuffix("(AVA3 result 21)"),
           "Ava3Error's description: \(Ava3Error(code: AVA3_RESULT_ROLLBACK.rawValue))")

// A changed ciphertext byte: the key and the trailer still check; the block does not.
do {
    var k = key()
    let m = try Ava3Model(path: "\(w)/flipped.ava3", key: &k)
    var got = [UInt8](repeating: 0, count: plain.count)
    do {
        try got.withUnsafeMutableBytes { try m.decode(into: $0) }
        try expect(false, "decode of a changed block throws")
    } catch let e as Ava3Error {
        try expect(e.code == AVA3_RESULT_BLOCK_FAILURE.rawValue, "changed block: \(e)")
    }
    try expect(got.allSatisfy { $0 == 0 }, "the buffer is wiped on failure")
    try expect(try m.failedBlock() != nil, "failedBlock")
}

print("Ava3Model.swift: \(checks) checks passed")
