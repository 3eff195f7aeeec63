// Loading an AVA3 model from Kotlin, as an Android app does, through the
// .aar's own Java class com.ava.ava3.Ava3Model (classes.jar) and its JNI glue.
// The first half is the app code (loadForLiteRt, withModelPath, digestByReadAt,
// tryOpen); main() runs it on files examples/android/test/run.sh prepares and
// checks the results. Compiled by a real kotlinc and run on the JVM with the
// .aar's x86_64 libraries by examples/android/test/kotlin.sh, from
// tests/device.sh (and with the host build from examples/check.sh):
//
//   kotlinc -Werror -cp classes.jar -d OUT Ava3Load.kt
//   java --add-opens java.base/java.io=ALL-UNNAMED -cp classes.jar:OUT:kotlin-stdlib.jar \
//     Ava3LoadKt WORK KEYHEX PLAINTEXT_SHA256_HEX LABEL
//
// On a device, the key comes unwrapped from the Android Keystore (see the
// Android section of ava3-decoder-ffi/README.md), never from the APK.
import com.ava.ava3.Ava3Exception
import com.ava.ava3.Ava3Model
import java.io.File
import java.io.FileDescriptor
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.security.MessageDigest
import kotlin.concurrent.thread

// ---------------------------------------------------------------- app code

/** What this app accepts: our publisher's key, our model's name, no rollback. */
fun requirements(publisherPem: String, minVersion: Long = 7): Ava3Model.Requirements =
    Ava3Model.Requirements()
        .trustSigner(publisherPem) // PEM text of `ava3 keygen --signing`'s PATH.pub: public, may ship in the APK
        .requireName("assistant-3b")
        .requireMinVersion(minVersion)

/**
 * The whole model in a direct, native-order buffer of exactly size() bytes:
 * what LiteRT's `org.tensorflow.lite.Interpreter(ByteBuffer)` takes. `use`
 * closes the decoder (and wipes its keys) even when decodeTo throws.
 */
fun loadForLiteRt(path: String, key: ByteArray, req: Ava3Model.Requirements): ByteBuffer =
    Ava3Model.open(path, key, req).use { m ->
        ByteBuffer.allocateDirect(m.size().toInt()).order(ByteOrder.nativeOrder()).also { m.decodeTo(it) }
    }

/**
 * Gives a path-only loader (MediaPipe `LlmInferenceOptions.setModelPath`,
 * tvm4j `Module.load`) the decoded model as "/proc/self/fd/N", a sealed,
 * read-only memfd, and closes the descriptor afterwards.
 */
fun <T> withModelPath(m: Ava3Model, loader: (String) -> T): T {
    val fd = m.memfd()
    try {
        return loader("/proc/self/fd/$fd")
    } finally {
        closeFd(fd)
    }
}

/** Piecewise reads with readAt (safe from several threads): the SHA-256 of the plaintext. */
fun digestByReadAt(m: Ava3Model, piece: Int = 64 * 1024): ByteArray {
    val md = MessageDigest.getInstance("SHA-256")
    val buf = ByteBuffer.allocateDirect(piece)
    var offset = 0L
    while (true) {
        buf.clear()
        val n = m.readAt(offset, buf)
        if (n == 0) break
        buf.flip()
        md.update(buf)
        offset += n
    }
    check(offset == m.size()) { "readAt read $offset bytes, size() is ${m.size()}" }
    return md.digest()
}

/** Why an open was refused, for the UI; null when it opened (and was closed again). */
fun tryOpen(path: String, key: ByteArray, req: Ava3Model.Requirements?): String? = try {
    Ava3Model.open(path, key, req).use { null }
} catch (e: Ava3Exception) {
    when (e.code()) {
        Ava3Exception.WRONG_KEY -> "wrong key: provision it again"
        Ava3Exception.UNSIGNED -> "not signed"
        Ava3Exception.UNKNOWN_SIGNER, Ava3Exception.BAD_SIGNATURE -> "not signed by our publisher"
        Ava3Exception.NAME_MISMATCH -> "another model"
        Ava3Exception.ROLLBACK -> "an older version than this app accepts"
        Ava3Exception.BLOCK_FAILURE -> "damaged download"
        else -> throw e
    }
}

/**
 * Closes a raw descriptor. On Android: `ParcelFileDescriptor.adoptFd(fd).close()`;
 * on a desktop JVM this sets FileDescriptor's private field (needs
 * `--add-opens java.base/java.io=ALL-UNNAMED`).
 */
fun closeFd(fd: Int) {
    val d = FileDescriptor()
    FileDescriptor::class.java.getDeclaredField("fd").apply { isAccessible = true }.setInt(d, fd)
    FileInputStream(d).close()
}

// ---------------------------------------------------------------- the test

private var passed = 0

private fun expect(ok: Boolean, what: () -> String) {
    if (!ok) throw AssertionError(what())
    passed++
}

private fun ByteArray.hex(): String = joinToString("") { "%02x".format(it) }

private fun String.unhex(): ByteArray = chunked(2).map { it.toInt(16).toByte() }.toByteArray()

private fun sha256(b: ByteBuffer): ByteArray = MessageDigest.getInstance("SHA-256").apply { update(b.duplicate()) }.digest()

private fun sha256(b: ByteArray): ByteArray = MessageDigest.getInstance("SHA-256").digest(b)

/** The code of the Ava3Exception that [body] throws. */
private fun codeOf(body: () -> Unit): Int = try {
    body()
    -1
} catch (e: Ava3Exception) {
    e.code()
}

/** args: WORK (run.sh's folder) KEYHEX PLAINTEXT_SHA256_HEX LABEL */
fun main(args: Array<String>) {
    val (dir, keyHex, shaHex, label) = args
    fun path(name: String) = File(dir, name).path
    val key = keyHex.unhex()
    val want = shaHex.unhex()
    val pem = File(dir, "signer.key.pub").readText(Charsets.US_ASCII)
    val otherPem = File(dir, "other.key.pub").readText(Charsets.US_ASCII)

    // LiteRT: decodeTo into a direct buffer; the key array is wiped by open.
    val k = key.copyOf()
    val buf = loadForLiteRt(path("signed.ava3"), k, requirements(pem))
    expect(k.all { it == 0.toByte() }) { "open wiped the key array" }
    expect(buf.isDirect && buf.order() == ByteOrder.nativeOrder() && buf.position() == 0) { "a direct, native-order buffer" }
    expect(sha256(buf).contentEquals(want)) { "decodeTo: SHA-256 ${sha256(buf).hex()}, wanted $shaHex" }

    // One open, every reader; `use` closes it.
    val opened: Ava3Model
    Ava3Model.open(path("signed.ava3"), key.copyOf(), requirements(pem)).use { m ->
        opened = m
        val name: String? = m.modelName() // a Java platform type: null when the file records no name
        expect(name == "assistant-3b") { "modelName() $name" }
        expect(m.modelVersion() == 7L) { "modelVersion() ${m.modelVersion()}" }
        expect(m.signerId()?.size == 16) { "signerId(): 16 bytes when a signer was required" }
        expect(m.plaintextSha256().contentEquals(want)) { "plaintextSha256() ${m.plaintextSha256().hex()}" }
        expect(m.payloadKind() == Ava3Model.PAYLOAD_GGUF) { "payloadKind() ${m.payloadKind()}" }
        expect(digestByReadAt(m, 10_007).contentEquals(want)) { "readAt: SHA-256" }
        val digests = arrayOfNulls<ByteArray>(4)
        List(digests.size) { i -> thread { digests[i] = digestByReadAt(m, 4093 + 1000 * i) } }.forEach { it.join() }
        expect(digests.all { it.contentEquals(want) }) { "readAt from 4 threads at once: SHA-256" }
        val viaPath = withModelPath(m) { p ->
            expect(p.matches(Regex("/proc/self/fd/\\d+"))) { "memfd path $p" }
            sha256(File(p).readBytes()) // what a path-only loader reads
        }
        expect(viaPath.contentEquals(want)) { "memfd through /proc/self/fd: SHA-256 ${viaPath.hex()}" }
    }
    expect(runCatching { opened.size() }.exceptionOrNull() is IllegalStateException) { "use {} closed the model" }

    // Refusals, by code.
    val k2 = key.copyOf()
    expect(codeOf { loadForLiteRt(path("signed.ava3"), k2, requirements(pem, minVersion = 8)) } == Ava3Exception.ROLLBACK) {
        "requireMinVersion(8) on version 7: ROLLBACK (21)"
    }
    expect(k2.all { it == 0.toByte() }) { "key wiped after a refused open" }
    expect(Ava3Exception.ROLLBACK == 21) { "ROLLBACK is 21" }
    expect(tryOpen(path("signed.ava3"), key.copyOf(), requirements(pem, minVersion = 8)) == "an older version than this app accepts") { "tryOpen: rollback" }
    expect(tryOpen(path("signed.ava3"), key.copyOf(), requirements(otherPem)) == "not signed by our publisher") { "tryOpen: UNKNOWN_SIGNER" }
    expect(tryOpen(path("named.ava3"), key.copyOf(), requirements(pem)) == "not signed") { "tryOpen: UNSIGNED" }
    expect(tryOpen(path("signed.ava3"), key.copyOf(), requirements(pem).requireName("assistant-7b")) == "another model") { "tryOpen: NAME_MISMATCH" }
    val wrong = key.copyOf().also { it[0] = (it[0].toInt() xor 1).toByte() }
    expect(tryOpen(path("signed.ava3"), wrong, null) == "wrong key: provision it again") { "tryOpen: WRONG_KEY" }
    expect(tryOpen(path("signed.ava3"), key.copyOf(), requirements(pem)) == null) { "tryOpen: accepted" }
    expect(codeOf { loadForLiteRt(path("flipped.ava3"), key.copyOf(), Ava3Model.Requirements()) } == Ava3Exception.BLOCK_FAILURE) {
        "a tampered block: BLOCK_FAILURE (7)"
    }
    expect(codeOf { loadForLiteRt(path("model.plain"), key.copyOf(), Ava3Model.Requirements()) } == Ava3Exception.NOT_AVA3) {
        "a plaintext file: NOT_AVA3 (3)"
    }

    println("kotlin ($label): $passed passed, 0 failed (Ava3Model ${Ava3Model.version()}, Kotlin ${KotlinVersion.CURRENT})")
}
