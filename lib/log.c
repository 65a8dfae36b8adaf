#include "log.h"
#include "timeutil.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_component = "spoor";
static const char *log_file;
static enum log_level log_level_max = LOG_INFO;
static int log_journal;

void log_init(const char *component, const char *file) {
    log_component = component;
    log_file = file;
    log_journal = getenv("JOURNAL_STREAM") != NULL;
    log_reopen();
}

void log_set_level(enum log_level level) {
    log_level_max = level;
}

int log_parse_level(const char *name, enum log_level *out) {
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {
        {"error", LOG_ERROR}, {"warn", LOG_WARN}, {"info", LOG_INFO}, {"debug", LOG_DEBUG}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    return -1;
}

void log_reopen(void) {
    if (!log_file)
        return;
    int fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        log_msg(LOG_ERROR, "cannot open log file %s: %m", log_file);
        return;
    }
    dup2(fd, STDERR_FILENO);
    close(fd);
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap) {
    static const char *const names[] = {
        [LOG_ERROR] = "error", [LOG_WARN] = "warn", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"};
    char msg[2048], line[2300];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One event, one line: fold any newline a message carries. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    int n;
    if (log_journal)
        n = snprintf(line, sizeof line, "<%d>%s %s: %s\n", level, names[level], log_component, msg);
    else {
        char ts[TIMEUTIL_RFC3339_MAX];
        n = snprintf(line, sizeof line, "%s %s %s: %s\n", timeutil_format(timeutil_now(), ts),
                     names[level], log_component, msg);
    }
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    /* A single write(2) keeps lines whole when several processes share stderr. */
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void log_msg(enum log_level level, const char *fmt, ...) {
    if (level > log_level_max)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void log_fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(LOG_ERROR, fmt, ap);
    va_end(ap);
    exit(1);
}
