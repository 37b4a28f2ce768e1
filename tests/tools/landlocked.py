#!/usr/bin/env python3
"""landlocked.py COMMAND [ARGS...]: runs COMMAND in a new Landlock domain that forbids nothing it needs (the
domain only handles making FIFOs). The kernel then refuses it ptrace access, /proc/PID/exe and
process_vm_readv included, to every process outside that domain, whatever its capabilities: the tests use it
to meet a refusal that CAP_SYS_PTRACE cannot lift."""
import ctypes
import os
import struct
import sys

SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_ACCESS_FS_MAKE_FIFO = 1 << 10

libc = ctypes.CDLL(None, use_errno=True)
attr = struct.pack("Q", LANDLOCK_ACCESS_FS_MAKE_FIFO)  # struct landlock_ruleset_attr, handled_access_fs
fd = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, attr, len(attr), 0)
if fd < 0:
    sys.exit("landlocked.py: landlock_create_ruleset: %s (a kernel with Landlock is needed)"
             % os.strerror(ctypes.get_errno()))
if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, fd, 0) != 0:
    sys.exit("landlocked.py: landlock_restrict_self: %s" % os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
