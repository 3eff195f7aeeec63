// A failure of libava3_decoder, with the C ABI's result code (ava3.h's
// enum Ava3Result) and its English message.
package com.ava.ava3;

import java.io.IOException;

public final class Ava3Exception extends IOException {
    private static final long serialVersionUID = 1L;

    // The codes of ava3.h (enum Ava3Result).
    public static final int NULL_PARAMETER = 1;
    public static final int INVALID_PARAMETER = 2;
    public static final int NOT_AVA3 = 3;
    public static final int UNSUPPORTED_VERSION = 4;
    public static final int HEADER_FAILURE = 5;
    public static final int WRONG_KEY = 6;
    public static final int BLOCK_FAILURE = 7;
    public static final int TRUNCATED = 8;
    public static final int TRAILER_FAILURE = 9;
    public static final int TRAILING_DATA = 10;
    public static final int INTEGRITY_FAILURE = 11;
    public static final int IO = 12;
    public static final int UNSUPPORTED = 13;
    public static final int PANIC = 14;
    public static final int CANCELLED = 15;
    public static final int OUT_OF_MEMORY = 16;
    public static final int BAD_SIGNATURE = 17;
    public static final int UNKNOWN_SIGNER = 18;
    public static final int UNSIGNED = 19;
    public static final int NAME_MISMATCH = 20;
    public static final int ROLLBACK = 21;
    public static final int REQUIREMENTS_LOCKED = 22;

    private final int code;

    /** Made by the JNI glue: {@code code} is the C result, {@code message} ava3_result_message's text. */
    public Ava3Exception(int code, String message) {
        super(message + " (AVA3 result " + code + ")");
        this.code = code;
    }

    /** The C ABI's result code (AVA3_RESULT_*), for example {@link #WRONG_KEY}. */
    public int code() {
        return code;
    }
}
