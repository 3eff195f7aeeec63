// The Android handle on libava3_decoder, shipped in the .aar's classes.jar
// (Java, so that it compiles here without Kotlin; Kotlin calls it as is).
// Same API and JNI names as examples/android/Ava3Model.kt; the natives are
// in libava3_jni.so (examples/android/ava3_jni.c).
package com.ava.ava3;

import java.io.IOException;
import java.util.Arrays;

public final class Ava3Model implements AutoCloseable {
    static {
        System.loadLibrary("ava3_decoder");
        System.loadLibrary("ava3_jni");
    }

    private long handle;

    private Ava3Model(long handle) {
        this.handle = handle;
    }

    /** Opens {@code path} and checks {@code key} (wiped afterwards). */
    public static Ava3Model open(String path, byte[] key) throws IOException {
        try {
            return new Ava3Model(nativeOpen(path, key));
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Plaintext size (authenticated). */
    public long size() {
        return nativeSize(handle);
    }

    /**
     * A sealed, read-only memfd with the decoded model, for loaders that take
     * a descriptor (LiteRtCreateModelFromFd) or a path ("/proc/self/fd/" + fd).
     * Close it when done: ParcelFileDescriptor.adoptFd(fd).close().
     */
    public int memfd() throws IOException {
        return nativeMemfd(handle);
    }

    @Override
    public void close() {
        if (handle != 0) nativeFree(handle);
        handle = 0;
    }

    private static native long nativeOpen(String path, byte[] key) throws IOException;

    private static native long nativeSize(long handle);

    private static native int nativeMemfd(long handle) throws IOException;

    private static native void nativeFree(long handle);
}
