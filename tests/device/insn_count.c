/*
 * A QEMU TCG plugin (user mode, API version 1 as in QEMU 7.2) that counts
 * the guest instructions a program executes, and among them the ARMv8
 * AES (AESE/AESD/AESMC/AESIMC) and SHA-256 (SHA256H/H2/SU0/SU1)
 * instructions. Instruction counts, unlike qemu's run times, say something
 * about the code: tests/device/arm64.sh uses them for the instructions per
 * byte in BENCHMARKS.md and to prove which crypto path ran. Counts are exact
 * for one guest thread (run the program with one worker thread).
 *
 *   qemu-aarch64 -plugin ./libinsn_count.so -d plugin PROGRAM ...
 *   -> stderr: "insn-count: total N aes N sha256 N"
 *
 * The few API declarations are written here from QEMU's documented plugin
 * API (docs/devel/tcg-plugins.rst), so that no QEMU header is needed.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

#define EXPORT __attribute__((visibility("default")))
extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                                  void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                                     uint64_t imm);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                       void *ptr, uint64_t imm);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
extern size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *), void *udata);
extern void qemu_plugin_outs(const char *string);

EXPORT int qemu_plugin_version = 1;

static uint64_t total, aes, sha256;

/* A64 encodings (Arm ARM, "Cryptographic AES" and "Cryptographic
 * three-register / two-register SHA"). */
static int is_aes(uint32_t op) {
    uint32_t top = op & 0xFFFFFC00u;
    return top == 0x4E284800u || top == 0x4E285800u || top == 0x4E286800u || top == 0x4E287800u;
}
static int is_sha256(uint32_t op) {
    uint32_t three = op & 0xFFE0FC00u;
    return three == 0x5E004000u || three == 0x5E005000u || three == 0x5E006000u ||
           (op & 0xFFFFFC00u) == 0x5E282800u;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &total, n);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (qemu_plugin_insn_size(insn) != 4) continue;
        uint32_t op;
        memcpy(&op, qemu_plugin_insn_data(insn), 4);
        if (is_aes(op)) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &aes, 1);
        if (is_sha256(op)) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &sha256, 1);
    }
}

static void on_exit_cb(qemu_plugin_id_t id, void *udata) {
    (void)id;
    (void)udata;
    char line[160];
    snprintf(line, sizeof line, "insn-count: total %" PRIu64 " aes %" PRIu64 " sha256 %" PRIu64 "\n", total, aes,
             sha256);
    qemu_plugin_outs(line);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    (void)info;
    (void)argc;
    (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
