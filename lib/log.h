/*
 * log: one line per event on stderr, journal friendly.
 *
 * Format: "LEVEL COMPONENT: message".  Under systemd (JOURNAL_STREAM set) the
 * line starts with the sd-daemon priority prefix "<N>" so journald records the
 * level; otherwise it starts with an RFC 3339 UTC time.  Nothing here ever
 * formats a secret: callers pass DSNs through pg_redact() first.
 * log_reopen() (on SIGHUP) re-opens the log file named at log_init, if any.
 */
#ifndef SPOOR_LOG_H
#define SPOOR_LOG_H

enum log_level { LOG_ERROR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

/* COMPONENT is borrowed for the life of the process; FILE may be NULL (stderr). */
void log_init(const char *component, const char *file);
void log_set_level(enum log_level level);
int log_parse_level(const char *name, enum log_level *out);
void log_reopen(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs at LOG_ERROR and exits 1: only at start-up or for bad configuration. */
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
