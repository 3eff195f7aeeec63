// The Android handle on libava3_decoder, shipped in the .aar's classes.jar
// (Java 8 bytecode, so that it builds here without Kotlin; Kotlin calls it
// as is). Its natives are in libava3_jni.so, built by package.sh from
// ava3-decoder-ffi/packaging/android/jni/ava3_jni.c. It covers the reading
// API of include/ava3.h: open (path or descriptor range), the requirements
// (set before the key, as the C ABI's order rule asks), the header fields,
// the authenticated metadata, read_at, decode_to_buffer and decode_to_memfd.
package com.ava.ava3;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An open, unlocked AVA3 file. Made by {@link #open(String, byte[], Requirements)}:
 * the requirements are set first, then the key, which checks them and fixes
 * both (the C ABI then refuses any change with AVA3_RESULT_REQUIREMENTS_LOCKED,
 * so a model is never read under other requirements than the caller gave).
 *
 * <p>Every reading method may be called from several threads at once;
 * {@link #close()} waits for the calls in flight, and any call after it throws
 * {@link IllegalStateException}. Failures of the library are
 * {@link Ava3Exception}s carrying the C result code.
 */
public final class Ava3Model implements AutoCloseable {
    static {
        System.loadLibrary("ava3_decoder");
        System.loadLibrary("ava3_jni");
    }

    /** Payload kinds of {@link #payloadKind()} (AVA3_PAYLOAD_* in ava3.h). */
    public static final int PAYLOAD_UNKNOWN = 0;
    public static final int PAYLOAD_MLC = 1;
    public static final int PAYLOAD_GGUF = 2;
    public static final int PAYLOAD_LITERT = 3;

    /**
     * What the file must satisfy, checked when the key is set (by
     * {@code open}); an unmet requirement fails the open with
     * {@link Ava3Exception#UNSIGNED}, {@link Ava3Exception#UNKNOWN_SIGNER},
     * {@link Ava3Exception#BAD_SIGNATURE}, {@link Ava3Exception#NAME_MISMATCH}
     * or {@link Ava3Exception#ROLLBACK}. {@code open} copies it: a
     * Requirements may be reused and changed afterwards without effect on
     * models already open.
     */
    public static final class Requirements {
        private final List<byte[]> signers = new ArrayList<byte[]>();
        private byte[] name;
        private boolean hasMinVersion;
        private long minVersion;

        /**
         * Trusts an Ed25519 publisher key: its 32 raw bytes, or the text
         * (ASCII bytes) of a PEM public key ({@code ava3 keygen --signing}
         * writes PATH.pub) or of 64 hex digits. The file must then carry a
         * valid signature by one trusted key. Call it again to trust several.
         */
        public Requirements trustSigner(byte[] publicKey) {
            if (publicKey == null) throw new NullPointerException("publicKey");
            signers.add(publicKey.clone());
            return this;
        }

        /** {@link #trustSigner(byte[])} with PEM or hex text. */
        public Requirements trustSigner(String pemOrHex) {
            return trustSigner(pemOrHex.getBytes(StandardCharsets.US_ASCII));
        }

        /** The file's authenticated model name must be exactly {@code name}. */
        public Requirements requireName(String name) {
            this.name = name.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        /**
         * The file's authenticated model version must be at least
         * {@code min} (an unsigned 64-bit value; a file without a version
         * has version 0).
         */
        public Requirements requireMinVersion(long min) {
            this.hasMinVersion = true;
            this.minVersion = min;
            return this;
        }
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle;
    private final boolean signed;

    private Ava3Model(long handle, boolean signed) {
        this.handle = handle;
        this.signed = signed;
    }

    /** The library version, "MAJOR.MINOR.PATCH". */
    public static String version() {
        return nativeVersion();
    }

    /** Opens {@code path} with the 32-byte master {@code key} (wiped afterwards, also on failure). */
    public static Ava3Model open(String path, byte[] key) throws IOException {
        return open(path, key, null);
    }

    /**
     * Opens {@code path}, sets the requirements {@code req} (may be null),
     * then the 32-byte master {@code key}, which checks the key and the
     * requirements. The key array is wiped afterwards, also on failure.
     */
    public static Ava3Model open(String path, byte[] key, Requirements req) throws IOException {
        try {
            if (path == null) throw new NullPointerException("path");
            if (path.indexOf('\0') >= 0) throw new IllegalArgumentException("path contains NUL");
            byte[] p = (path + '\0').getBytes(StandardCharsets.UTF_8);
            return openWith(p, -1, 0, 0, key, req);
        } finally {
            wipe(key);
        }
    }

    /**
     * Opens the AVA3 file stored at {@code offset}, {@code length} bytes
     * long, in the open descriptor {@code fd} (a model inside the APK:
     * AssetFileDescriptor's getParcelFileDescriptor().getFd(),
     * getStartOffset(), getLength()). The descriptor is duplicated: the
     * caller keeps and closes its own. Key and requirements as
     * {@link #open(String, byte[], Requirements)}.
     */
    public static Ava3Model open(int fd, long offset, long length, byte[] key, Requirements req) throws IOException {
        try {
            if (fd < 0 || offset < 0 || length < 0) throw new IllegalArgumentException("fd, offset and length must be >= 0");
            return openWith(null, fd, offset, length, key, req);
        } finally {
            wipe(key);
        }
    }

    private static Ava3Model openWith(byte[] path, int fd, long offset, long length, byte[] key, Requirements req)
            throws IOException {
        if (key == null) throw new NullPointerException("key");
        byte[][] signers = new byte[0][];
        byte[] name = null;
        boolean hasMin = false;
        long min = 0;
        if (req != null) {
            signers = req.signers.toArray(new byte[0][]);
            name = req.name;
            hasMin = req.hasMinVersion;
            min = req.minVersion;
        }
        long h = nativeOpen(path, fd, offset, length, key, signers, name, hasMin, min);
        return new Ava3Model(h, signers.length > 0);
    }

    private static void wipe(byte[] key) {
        if (key != null) Arrays.fill(key, (byte) 0);
    }

    private long acquire() {
        lock.readLock().lock();
        if (handle == 0) {
            lock.readLock().unlock();
            throw new IllegalStateException("Ava3Model is closed");
        }
        return handle;
    }

    private void release() {
        lock.readLock().unlock();
    }

    /** The 16-byte key id of the header (which master key the file needs). */
    public byte[] keyId() throws IOException {
        long h = acquire();
        try {
            return nativeKeyId(h);
        } finally {
            release();
        }
    }

    /** The payload kind of the header: {@link #PAYLOAD_UNKNOWN}, _MLC, _GGUF or _LITERT. */
    public int payloadKind() throws IOException {
        long h = acquire();
        try {
            return nativePayloadKind(h);
        } finally {
            release();
        }
    }

    /** The block size in bytes. */
    public int blockSize() throws IOException {
        long h = acquire();
        try {
            return nativeBlockSize(h);
        } finally {
            release();
        }
    }

    /** Plaintext size in bytes (authenticated). */
    public long size() throws IOException {
        long h = acquire();
        try {
            return nativeSize(h);
        } finally {
            release();
        }
    }

    /** The authenticated model name, or null when the file records none. */
    public String modelName() throws IOException {
        long h = acquire();
        try {
            byte[] b = nativeModelName(h);
            // The glue returns the bytes and the C ABI's final NUL.
            return b == null ? null : new String(b, 0, b.length - 1, StandardCharsets.UTF_8);
        } finally {
            release();
        }
    }

    /** The authenticated model version (unsigned 64-bit); 0 when the file records none. */
    public long modelVersion() throws IOException {
        long h = acquire();
        try {
            return nativeModelVersion(h);
        } finally {
            release();
        }
    }

    /**
     * The 32-byte SHA-256 of the plaintext the encoder recorded
     * (authenticated; with a trusted signer, signed too): compare it with
     * the release manifest.
     */
    public byte[] plaintextSha256() throws IOException {
        long h = acquire();
        try {
            return nativeSha256(h);
        } finally {
            release();
        }
    }

    /**
     * The 16-byte id of the trusted signer whose signature verified, or null
     * when the requirements trusted no signer.
     */
    public byte[] signerId() throws IOException {
        if (!signed) {
            acquire();
            release();
            return null;
        }
        long h = acquire();
        try {
            return nativeSignerId(h);
        } finally {
            release();
        }
    }

    /**
     * Reads plaintext at {@code offset} into {@code dst} (a direct,
     * writable ByteBuffer) from its position up to its limit, as
     * FileChannel.read(dst, position) does: the position advances by the
     * count returned, which is less than dst.remaining() only at the end
     * of the model (0 at or past it). Every byte is authenticated before
     * it is written. Safe from several threads at once.
     */
    public int readAt(long offset, ByteBuffer dst) throws IOException {
        checkDirect(dst);
        if (offset < 0) throw new IllegalArgumentException("offset < 0");
        long h = acquire();
        try {
            int pos = dst.position();
            int n = nativeReadAt(h, offset, dst, pos, dst.remaining());
            dst.position(pos + n);
            return n;
        } finally {
            release();
        }
    }

    /**
     * Decodes the whole model into {@code dst}, a direct, writable
     * ByteBuffer whose remaining bytes (position to limit) are exactly
     * {@link #size()}; its position is left unchanged. This is the buffer
     * LiteRT's {@code Interpreter(ByteBuffer)} takes:
     * {@code ByteBuffer.allocateDirect((int) m.size()).order(ByteOrder.nativeOrder())}.
     * Blocks are decoded on all cores; on failure the buffer is wiped.
     */
    public void decodeTo(ByteBuffer dst) throws IOException {
        checkDirect(dst);
        long h = acquire();
        try {
            nativeDecodeTo(h, dst, dst.position(), dst.remaining());
        } finally {
            release();
        }
    }

    private static void checkDirect(ByteBuffer dst) {
        if (dst == null) throw new NullPointerException("dst");
        if (!dst.isDirect()) throw new IllegalArgumentException("a direct ByteBuffer is needed (ByteBuffer.allocateDirect)");
        if (dst.isReadOnly()) throw new ReadOnlyBufferException();
    }

    /**
     * A sealed, read-only memfd holding the decoded model, for loaders that
     * take a descriptor (LiteRtCreateModelFromFd) or only a path:
     * {@code "/proc/self/fd/" + fd} (MediaPipe {@code setModelPath},
     * tvm4j {@code Module.load}). The descriptor is the caller's: close it
     * when done ({@code ParcelFileDescriptor.adoptFd(fd).close()}).
     */
    public int memfd() throws IOException {
        long h = acquire();
        try {
            return nativeMemfd(h);
        } finally {
            release();
        }
    }

    /** The index of the last block that failed authentication on this model, or -1 if none did. */
    public long failedBlock() throws IOException {
        long h = acquire();
        try {
            return nativeFailedBlock(h);
        } finally {
            release();
        }
    }

    /** Frees the decoder, wiping its key material and caches. Closing twice does nothing. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (handle != 0) nativeFree(handle);
            handle = 0;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private static native String nativeVersion();

    private static native long nativeOpen(byte[] path, int fd, long offset, long length, byte[] key,
                                          byte[][] signers, byte[] name, boolean hasMinVersion, long minVersion)
            throws Ava3Exception;

    private static native byte[] nativeKeyId(long handle) throws Ava3Exception;

    private static native int nativePayloadKind(long handle) throws Ava3Exception;

    private static native int nativeBlockSize(long handle) throws Ava3Exception;

    private static native long nativeSize(long handle) throws Ava3Exception;

    private static native byte[] nativeModelName(long handle) throws Ava3Exception;

    private static native long nativeModelVersion(long handle) throws Ava3Exception;

    private static native byte[] nativeSha256(long handle) throws Ava3Exception;

    private static native byte[] nativeSignerId(long handle) throws Ava3Exception;

    private static native int nativeReadAt(long handle, long offset, ByteBuffer dst, int pos, int len)
            throws Ava3Exception;

    private static native void nativeDecodeTo(long handle, ByteBuffer dst, int pos, int len) throws Ava3Exception;

    private static native int nativeMemfd(long handle) throws Ava3Exception;

    private static native long nativeFailedBlock(long handle) throws Ava3Exception;

    private static native void nativeFree(long handle);
}
