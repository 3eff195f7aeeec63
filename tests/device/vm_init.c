/*
 * PID 1 of the kernel test VMs (tests/device.sh): mounts /proc and /dev,
 * runs the C ABI test program over the vectors packed into the initramfs,
 * then memfd_path (a runtime that takes only a path, on the decoder's
 * memfd) with the model, plaintext and key packed beside it, prints each
 * exit status on a line of its own and powers off.
 * Statically linked for the guest's architecture; needs nothing else.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv[0] with argv; its exit status (128 + signal, 255 if it did not run). */
static int run(char *argv[]) {
    int status = 255;
    pid_t pid = fork();
    if (pid == 0) {
        char *envp[] = {"PATH=/", NULL};
        execve(argv[0], argv, envp);
        perror(argv[0]);
        _exit(127);
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status;
}

int main(void) {
    mkdir("/proc", 0755);
    mkdir("/dev", 0755);
    mkdir("/tmp", 01777);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int con = open("/dev/console", O_RDWR);
    if (con >= 0) {
        dup2(con, 0);
        dup2(con, 1);
        dup2(con, 2);
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    /* The vectors packed are a sample; /min_vectors says how many. */
    char min[16] = "40";
    FILE *m = fopen("/min_vectors", "r");
    if (m) {
        if (!fgets(min, sizeof min, m)) strcpy(min, "40");
        min[strcspn(min, "\n")] = '\0';
        fclose(m);
    }
    int status = run((char *[]){"/ava3_test", "/vectors", min, NULL});
    printf("ava3-vm: test exit status %d\n", status);
    /* A runtime that takes only a path, on the decoder's memfd. */
    char key[65] = {0};
    FILE *k = fopen("/key", "r");
    if (k && fread(key, 1, 64, k) == 64) {
        status = run((char *[]){"/memfd_path", "/model.ava3", "/model.plain", key, NULL});
        printf("ava3-vm: memfd-path exit status %d\n", status);
    } else {
        printf("ava3-vm: memfd-path: no /key\n");
    }
    if (k) fclose(k);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
