/*
 * What the NDK's crtbegin_so.o gives a shared library, for linking without
 * the NDK (packaging/android/ndkless/link.sh): the library's own
 * __dso_handle, and __cxa_finalize on dlclose so that destructors that
 * registered with __cxa_atexit (Rust thread-local destructors) run then.
 */
extern void __cxa_finalize(void *);

__attribute__((visibility("hidden"))) void *__dso_handle = &__dso_handle;

__attribute__((destructor, used)) static void on_dlclose(void) { __cxa_finalize(&__dso_handle); }
