/* Entry points of gmon's commands: each parses its own options and returns the process exit status. */
#ifndef GMON_COMMANDS_H
#define GMON_COMMANDS_H

int cmd_info(int argc, char *argv[]);
int cmd_lifecycle(int argc, char *argv[]);
int cmd_gc(int argc, char *argv[]);
int cmd_gr(int argc, char *argv[]);
int cmd_lifetime(int argc, char *argv[]);
int cmd_sched(int argc, char *argv[]);
int cmd_gm(int argc, char *argv[]);
int cmd_var(int argc, char *argv[]);
int cmd_summary(int argc, char *argv[]);
int cmd_top(int argc, char *argv[]);
int cmd_heap(int argc, char *argv[]);
int cmd_stacks(int argc, char *argv[]);
int cmd_pprof(int argc, char *argv[]);

#endif
