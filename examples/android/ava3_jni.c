/* JNI glue between com.ava.ava3.Ava3Model (the .aar's Java class, or the
 * Kotlin one) and libava3_decoder: libava3_jni.so in the .aar, built by
 * ava3-decoder-ffi/packaging/package.sh; compiled and run here against the
 * JDK's jni.h by examples/check.sh. */
#include <jni.h>
#include <stdint.h>

#include "ava3.h"

#ifndef AVA3_JNI
#define AVA3_JNI(name) Java_com_ava_ava3_Ava3Model_##name
#endif

static void throw_io(JNIEnv *env, Ava3Result r) {
    char msg[160];
    ava3_result_message(r, msg, sizeof msg);
    (*env)->ThrowNew(env, (*env)->FindClass(env, "java/io/IOException"), msg);
}

JNIEXPORT jlong JNICALL AVA3_JNI(nativeOpen)(JNIEnv *env, jclass cls, jstring path, jbyteArray key) {
    (void)cls;
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_path(p, &d);
    (*env)->ReleaseStringUTFChars(env, path, p);
    if (r == AVA3_RESULT_OK) {
        jsize n = (*env)->GetArrayLength(env, key);
        jbyte *k = (*env)->GetByteArrayElements(env, key, NULL);
        r = ava3_decoder_set_key(d, (const uint8_t *)k, (size_t)n);
        (*env)->ReleaseByteArrayElements(env, key, k, JNI_ABORT);
    }
    if (r != AVA3_RESULT_OK) {
        ava3_decoder_free(d);
        throw_io(env, r);
        return 0;
    }
    return (jlong)(intptr_t)d;
}

JNIEXPORT jlong JNICALL AVA3_JNI(nativeSize)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    uint64_t size = 0;
    Ava3Result r = ava3_decoder_plaintext_size((const Ava3Decoder *)(intptr_t)h, &size);
    if (r != AVA3_RESULT_OK) throw_io(env, r);
    return (jlong)size;
}

JNIEXPORT jint JNICALL AVA3_JNI(nativeMemfd)(JNIEnv *env, jclass cls, jlong h) {
    (void)cls;
    int fd = -1;
    Ava3Result r = ava3_decoder_decode_to_memfd((const Ava3Decoder *)(intptr_t)h, &fd);
    if (r != AVA3_RESULT_OK) throw_io(env, r);
    return fd;
}

JNIEXPORT void JNICALL AVA3_JNI(nativeFree)(JNIEnv *env, jclass cls, jlong h) {
    (void)env;
    (void)cls;
    ava3_decoder_free((Ava3Decoder *)(intptr_t)h);
}
