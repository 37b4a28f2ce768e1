/* Conventions shared by every gmon command: numeric option values, help, unknown options (exit statuses and
 * error lines are messages.h's).
 * Long options take one or two dashes (`-path` as the seed gmon, or `--path`): getopt_long_only. */
#ifndef GMON_CLI_H
#define GMON_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "messages.h"

/* Parses a PID / port / positive count; prints the error and returns false on bad input. */
bool cli_parse_pid(const char *cmd, const char *text, int *pid);
bool cli_parse_uint(const char *cmd, const char *option, const char *text, uint64_t min, uint64_t max,
                    uint64_t *out);

/* A command's next option (getopt_long_only over argv, with opts), or -1 after the last. An option getopt
 * rejects, an empty value and an option given twice (but the one whose value is repeatable, 0: none) are
 * said in one line that tells which it is (not an option of the command, ambiguous, a value missing, a value
 * given to a flag, an empty value, given twice), and give '?'. The caller sets optind to 0 before the first
 * call. */
int cli_next_option(const char *cmd, int argc, char *argv[], const char *shortopts, const struct option *opts,
                    int repeatable);
/* Reports an option the command does not take (argv[optind - 1]) and returns GMON_EXIT_BAD_INPUT. */
int cli_bad_option(const char *cmd, char *const argv[], int optind_now);

/* True when argv[i] is -h/-help/--help: commands check this first so that help never fails. */
bool cli_wants_help(int argc, char *const argv[]);

/* True when an argument is -version/--version: every command answers it. */
bool cli_wants_version(int argc, char *const argv[]);

/* True when an argument is --list-options, a hidden option the tests use to check that every long option a
 * command accepts is described in its --help and in its page of docs/. The command then prints the names of
 * its long options, one per line, and exits 0. */
bool cli_wants_option_list(int argc, char *const argv[]);
/* The hidden --list-commands, as the only argument (argv[1]; for gmon itself, its first): print the names of
 * the (sub)commands a command takes, one per line, from the table it dispatches with (for shell completion),
 * and exit 0. */
bool cli_wants_command_list(int argc, char *const argv[]);
/* The exit status after an option parser returned parsed != 0: 1 (it listed the options: done) or -1 (bad
 * input, already printed). */
int cli_exit_after_parse(int parsed);

#endif
