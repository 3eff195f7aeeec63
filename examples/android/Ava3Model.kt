// Android: a Kotlin handle on libava3_decoder through ava3_jni.c.
// Not compiled here (no Kotlin compiler or Android SDK in this repository).
// The .aar ships the same API as Java (ava3-decoder-ffi/packaging/android/
// java/com/ava/ava3/Ava3Model.java), which the JNI glue is run with by
// examples/check.sh and tests/device.sh (examples/android/test/Ava3Smoke.java).
package com.ava.ava3

class Ava3Model private constructor(private var handle: Long) : AutoCloseable {
    companion object {
        init {
            System.loadLibrary("ava3_decoder")
            System.loadLibrary("ava3_jni")
        }

        /** Opens [path] and checks [key] (wiped afterwards). Throws IOException. */
        fun open(path: String, key: ByteArray): Ava3Model = try {
            Ava3Model(nativeOpen(path, key))
        } finally {
            key.fill(0)
        }

        @JvmStatic private external fun nativeOpen(path: String, key: ByteArray): Long
        @JvmStatic private external fun nativeSize(handle: Long): Long
        @JvmStatic private external fun nativeMemfd(handle: Long): Int
        @JvmStatic private external fun nativeFree(handle: Long)
    }

    /** Plaintext size (authenticated). */
    val size: Long get() = nativeSize(handle)

    /**
     * A sealed memfd with the decoded model, for loaders that take a path:
     * "/proc/self/fd/$fd" (MediaPipe LLM Inference, MLC). Close it when done
     * (ParcelFileDescriptor.adoptFd(fd).close()).
     */
    fun memfd(): Int = nativeMemfd(handle)

    override fun close() {
        if (handle != 0L) nativeFree(handle)
        handle = 0
    }
}
