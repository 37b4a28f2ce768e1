/* Whole reads and writes on file descriptors: the compiler child's pipes and the cache's files. */
#ifndef GMON_FD_IO_H
#define GMON_FD_IO_H
#include <stddef.h>
#include <stdint.h>

/* Writes all n bytes (retrying short writes and EINTR); 0, or -1 when a write fails. */
int fd_write_all(int fd, const void *data, size_t n);
/* Reads fd to its end into a malloc'd buffer of at most limit bytes, followed by a NUL byte (text can be
 * used as a string); 0, or -1 when it is longer, a read fails or memory runs out (nothing to free then). */
int fd_read_all(int fd, size_t limit, uint8_t **out, size_t *size);

#endif
