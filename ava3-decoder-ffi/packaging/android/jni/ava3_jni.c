/* JNI glue between com.ava.ava3.Ava3Model (the .aar's Java class,
 * packaging/android/java) and libava3_decoder: libava3_jni.so in the .aar,
 * built by ava3-decoder-ffi/packaging/package.sh (with the NDK, or by
 * android/ndkless/link.sh without it), and run on the host JVM by
 * tests/device.sh and examples/check.sh.
 *
 * It takes nothing from libc (the NDK-less link gives it only the JNIEnv
 * table and libava3_decoder): no malloc, no memset; secrets on its stack
 * are wiped through volatile stores. Errors are thrown as
 * com.ava.ava3.Ava3Exception(code, message); nothing here aborts. */
#include <jni.h>
#include <stdint.h>

#include "ava3.h"

#define AVA3_JNI(name) Java_com_ava_ava3_Ava3Model_##name

static void wipe(void *p, size_t n) {
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n--) *v++ = 0;
}

static void throw_ava3(JNIEnv *env, Ava3Result r) {
    char msg[160];
    ava3_result_message(r, msg, sizeof msg);
    jclass c = (*env)->FindClass(env, "com/ava/ava3/Ava3Exception");
    if (c == NULL) return; /* NoClassDefFoundError is pending */
    jmethodID init = (*env)->GetMethodID(env, c, "<init>", "(ILjava/lang/String;)V");
    if (init == NULL) return;
    jstring s = (*env)->NewStringUTF(env, msg);
    if (s == NULL) return;
    jobject e = (*env)->NewObject(env, c, init, (jint)r, s);
    if (e != NULL) (*env)->Throw(env, (jthrowable)e);
}

static const Ava3Decoder *dec(jlong h) { return (const Ava3Decoder *)(intptr_t)h; }

typedef Ava3Result (*bytes_fn)(Ava3Decoder *, const uint8_t *, size_t);

/* f(d, bytes of a); 0 with *r set, or -1 with a Java exception pending. */
static int with_bytes(JNIEnv *env, Ava3Decoder *d, jbyteArray a, bytes_fn f, Ava3Result *r) {
    jsize n = (*env)->GetArrayLength(env, a);
    jbyte *p = (*env)->GetByteArrayElements(env, a, NULL);
    if (p == NULL) return -1;
    *r = f(d, (const uint8_t *)p, (size_t)n);
    (*env)->ReleaseByteArrayElements(env, a, p, JNI_ABORT);
    return 0;
}

JNIEXPORT jstring JNICALL AVA3_JNI(nativeVersion)(JNIEnv *env, jclass cls) {
    (void)cls;
    return (*env)->NewStringUTF(env, ava3_version());
}

/* open_path (path: UTF-8 with a final NUL) or open_fd, then the
 * requirements, then set_key: the C ABI's order. */
JNIEXPORT jlong JNICALL AVA3_JNI(nativeOpen)(JNIEnv *env, jclass cls, jbyteArray path, jint fd, jlong offset,
                                             jlong length, jbyteArray key, jobjectArray signers, jbyteArray name,
                                             jboolean has_min, jlong min) {
    (void)cls;
    Ava3Decoder *d = NULL;
    Ava3Result r;
    if (path != NULL) {
        jbyte *p = (*env)->GetByteArrayElements(env, path, NULL);
        if (p == NULL) return 0;
        r = ava3_decoder_open_path((const char *)p, &d);
        (*env)->ReleaseByteArrayElements(env, path, p, JNI_ABORT);
    } else {
        r = ava3_decoder_open_fd((int)fd, (uint64_t)offset, (uint64_t)length, &d);
    }
    jsize count = signers != NULL ? (*env)->GetArrayLength(env, signers) : 0;
    for (jsize i = 0; r == AVA3_RESULT_OK && i < count; i++) {
        jbyteArray s = (jbyteArray)(*env)->GetObjectArrayElement(env, signers, i);
        int failed = s == NULL || with_bytes(env, d, s, ava3_decoder_trust_signer, &r) != 0;
        if (s != NULL) (*env)->DeleteLocalRef(env, s);
        if (failed) {
            ava3_decoder_free(d);
            if (!(*env)->ExceptionCheck(env)) throw_ava3(env, AVA3_RESULT_NULL_PARAMETER);
            return 0;
        }
    }
    if (r == AVA3_RESULT_OK && name != NULL && with_bytes(env, d, name, ava3_decoder_require_name, &r) != 0) {
        ava3_decoder_free(d);
        return 0;
    }
    if (r == AVA3_RESULT_OK && has_min) r = ava3_decoder_require_min_version(d, (uint64_t)min);
    if (r == AVA3_RESULT_OK) {
        /* The key goes through this stack copy only (GetByteArrayElements
         * could leave an unwiped copy in the VM's heap), wiped after. */
        jbyte k[64];
        jsize n = (*env)->GetArrayLength(env, key);
        if (n > (jsize)sizeof k) {
            r = AVA3_RESULT_INVALID_PARAMETER;
        } else {
            (*env)->GetByteArrayRegion(env, key, 0, n, k);
            r = ava3_decoder_set_key(d, (const uint8_t *)k, (size_t)n);
            wipe(k, sizeof k);
        }
    }
    if (r != AVA3_RESULT_OK) {
        ava3_decoder_free(d);
        throw_ava3(env, r);
        return 0;
    }
    return (jlong)(intptr_t)d;
}

static jbyteArray fixed_bytes(JNIEnv *env, jlong h, Ava3Result (*f)(const Ava3Decoder *, uint8_t *, size_t),
                              jsize n) {
    uint8_t out[32];
    Ava3Result r = f(dec(h), out, (size_t)n);
    if (r != AVA3_RESULT_OK) {
        throw_ava3(env, r);
        return NULL;
    }
    jbyteArray a = (*env)->NewByteArray(env, n);
    if (a != NULL) (*env)->SetByteArrayRegion(env, a, 0, n, (const jbyte *)out);
    return a;
}

JNIEXPORT jbyteArray JNICALL AVA3_JNI(nativeKeyId)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    return fixed_bytes(env, h, ava3_decoder_key_id, 16);
}

JNIEXPORT jbyteArray JNICALL AVA3_JNI(nativeSha256)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    return fixed_bytes(env, h, ava3_decoder_plaintext_sha256, 32);
}

JNIEXPORT jbyteArray JNICALL AVA3_JNI(nativeSignerId)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    return fixed_bytes(env, h, ava3_decoder_signer_id, 16);
}

JNIEXPORT jint JNICALL AVA3_JNI(nativePayloadKind)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    uint32_t v = 0;
    Ava3Result r = ava3_decoder_payload_kind(dec(h), &v);
    if (r != AVA3_RESULT_OK) throw_ava3(env, r);
    return (jint)v;
}

JNIEXPORT jint JNICALL AVA3_JNI(nativeBlockSize)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    uint32_t v = 0;
    Ava3Result r = ava3_decoder_block_size(dec(h), &v);
    if (r != AVA3_RESULT_OK) throw_ava3(env, r);
    return (jint)v;
}

JNIEXPORT jlong JNICALL AVA3_JNI(nativeSize)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    uint64_t v = 0;
    Ava3Result r = ava3_decoder_plaintext_size(dec(h), &v);
    if (r != AVA3_RESULT_OK) throw_ava3(env, r);
    return (jlong)v;
}

JNIEXPORT jlong JNICALL AVA3_JNI(nativeModelVersion)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    uint64_t v = 0;
    Ava3Result r = ava3_decoder_model_version(dec(h), &v);
    if (r != AVA3_RESULT_OK) throw_ava3(env, r);
    return (jlong)v;
}

JNIEXPORT jlong JNICALL AVA3_JNI(nativeFailedBlock)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    uint64_t v = 0;
    Ava3Result r = ava3_decoder_failed_block(dec(h), &v);
    if (r != AVA3_RESULT_OK) throw_ava3(env, r);
    return (jlong)v; /* UINT64_MAX (none) is -1 */
}

/* The name's UTF-8 bytes and its NUL (the Java side drops the NUL), or
 * NULL for a file without a name. */
JNIEXPORT jbyteArray JNICALL AVA3_JNI(nativeModelName)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    size_t len = SIZE_MAX;
    Ava3Result r = ava3_decoder_model_name(dec(h), NULL, 0, &len);
    if (r != AVA3_RESULT_OK && r != AVA3_RESULT_INVALID_PARAMETER) {
        throw_ava3(env, r);
        return NULL;
    }
    if (len == 0) return NULL;
    if (len == SIZE_MAX || len >= (size_t)INT32_MAX) {
        throw_ava3(env, r == AVA3_RESULT_OK ? AVA3_RESULT_INVALID_PARAMETER : r);
        return NULL;
    }
    jbyteArray a = (*env)->NewByteArray(env, (jsize)(len + 1));
    if (a == NULL) return NULL;
    jbyte *p = (*env)->GetByteArrayElements(env, a, NULL);
    if (p == NULL) return NULL;
    size_t got = 0;
    r = ava3_decoder_model_name(dec(h), (uint8_t *)p, len + 1, &got);
    (*env)->ReleaseByteArrayElements(env, a, p, r == AVA3_RESULT_OK ? 0 : JNI_ABORT);
    if (r != AVA3_RESULT_OK || got != len) {
        throw_ava3(env, r != AVA3_RESULT_OK ? r : AVA3_RESULT_INVALID_PARAMETER);
        return NULL;
    }
    return a;
}

static uint8_t *direct(JNIEnv *env, jobject buf, jint pos, jint len) {
    uint8_t *p = (uint8_t *)(*env)->GetDirectBufferAddress(env, buf);
    jlong cap = (*env)->GetDirectBufferCapacity(env, buf);
    if (p == NULL || pos < 0 || len < 0 || (jlong)pos + len > cap) {
        throw_ava3(env, AVA3_RESULT_INVALID_PARAMETER);
        return NULL;
    }
    return p + pos;
}

/* Fills [pos, pos+len) from `offset` until the end of the model; the
 * count read. On failure what was written is wiped and nothing counted. */
JNIEXPORT jint JNICALL AVA3_JNI(nativeReadAt)(JNIEnv *env, jclass cls, jlong h, jlong offset, jobject buf, jint pos,
                                              jint len) {
    (void)cls;
    uint8_t *p = direct(env, buf, pos, len);
    if (p == NULL) return 0;
    size_t total = 0;
    while (total < (size_t)len) {
        size_t n = 0;
        Ava3Result r = ava3_decoder_read_at(dec(h), (uint64_t)offset + total, p + total, (size_t)len - total, &n);
        if (r != AVA3_RESULT_OK) {
            wipe(p, total);
            throw_ava3(env, r);
            return 0;
        }
        if (n == 0) break;
        total += n;
    }
    return (jint)total;
}

JNIEXPORT void JNICALL AVA3_JNI(nativeDecodeTo)(JNIEnv *env, jclass cls, jlong h, jobject buf, jint pos, jint len) {
    (void)cls;
    uint8_t *p = direct(env, buf, pos, len);
    if (p == NULL) return;
    Ava3Result r = ava3_decoder_decode_to_buffer(dec(h), p, (size_t)len);
    if (r != AVA3_RESULT_OK) throw_ava3(env, r);
}

JNIEXPORT jint JNICALL AVA3_JNI(nativeMemfd)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    int fd = -1;
    Ava3Result r = ava3_decoder_decode_to_memfd(dec(h), &fd);
    if (r != AVA3_RESULT_OK) throw_ava3(env, r);
    return fd;
}

JNIEXPORT void JNICALL AVA3_JNI(nativeFree)(JNIEnv *env, jclass cls, jlong h) {
    (void)env;
    (void)cls;
    ava3_decoder_free((Ava3Decoder *)(intptr_t)h);
}
