/*
 * LD_PRELOAD for aarch64 guests under qemu-user: getauxval(AT_HWCAP)
 * without the AES, PMULL, SHA1, SHA2 and SHA512 bits, as on a core built
 * without the ARMv8 Cryptographic Extension (some Cortex-A53/A55 SoCs).
 * QEMU 7.2 has no such CPU model, and the RustCrypto crates choose their
 * path from these bits at run time (cpufeatures), so this runs the portable
 * AES and SHA-256 code of the very same binary. The instruction-count
 * plugin shows that no AES or SHA-256 instruction then executes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/auxv.h> /* AT_HWCAP, HWCAP_* */

unsigned long getauxval(unsigned long type) {
    static unsigned long (*real)(unsigned long);
    if (!real) real = (unsigned long (*)(unsigned long))dlsym(RTLD_NEXT, "getauxval");
    unsigned long v = real ? real(type) : 0;
    if (type == AT_HWCAP) v &= ~(HWCAP_AES | HWCAP_PMULL | HWCAP_SHA1 | HWCAP_SHA2 | HWCAP_SHA512);
    return v;
}
