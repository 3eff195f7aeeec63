/* Forced into each libunwind source compiled without the NDK: bionic's
 * errno accessor is __errno(), not glibc's __errno_location(). */
#include <errno.h>
#undef errno
#ifdef __cplusplus
extern "C"
#endif
    int *__errno(void);
#define errno (*__errno())
