/*
 * PID 1 of the kernel test VM (tests/device/kernel-vm.sh): mounts /proc
 * and /dev, runs the C ABI test program over the vectors packed into the
 * initramfs, prints its exit status on a line of its own and powers off.
 * Statically linked for the guest's architecture; needs nothing else.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
    int status = 255;
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"/ava3_test", "/vectors", NULL};
        char *envp[] = {"PATH=/", NULL};
        execve(argv[0], argv, envp);
        perror("exec /ava3_test");
        _exit(127);
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("ava3-vm: test exit status %d\n", status);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
