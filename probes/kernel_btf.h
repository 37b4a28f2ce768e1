/* Offsets of the running kernel's structure fields, from its BTF (/sys/kernel/btf/vmlinux, read by libbpf):
 * what a BPF program that reads kernel memory needs when the kernel headers BCC compiles with are not the
 * running kernel's own (a distribution's headers for a custom kernel), where offsetof would be wrong. */
#ifndef GMON_KERNEL_BTF_H
#define GMON_KERNEL_BTF_H

#include "gmon_error.h"

/* The byte offset of field path (members separated by dots, "thread.fsbase") in struct type ("task_struct").
 * Returns it, or -1 with the reason (no BTF, no such member, a bitfield). */
long kernel_btf_offset(const char *type, const char *path, struct gmon_error *err);

#endif
