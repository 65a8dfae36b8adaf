#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int metrics_open(metrics *m, const char *listen_addr, error *err) {
    m->fd = -1;
    if (!listen_addr || !*listen_addr)
        return 0;
    char host[64];
    const char *colon = strrchr(listen_addr, ':');
    if (!colon || (size_t)(colon - listen_addr) >= sizeof host) {
        error_set(err, "bad_address", 0, "metrics address '%s' is not HOST:PORT", listen_addr);
        return -1;
    }
    memcpy(host, listen_addr, (size_t)(colon - listen_addr));
    host[colon - listen_addr] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        error_set(err, "bad_address", 0, "metrics address '%s': not an IPv4 address", listen_addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
        error_set(err, "io", 0, "metrics address %s: %s", listen_addr, strerror(errno));
        close(fd);
        return -1;
    }
    m->fd = fd;
    return 0;
}

void metrics_close(metrics *m) {
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
}

void metrics_poll(metrics *m, void (*render)(void *arg, buf *out), void *arg) {
    if (m->fd < 0)
        return;
    for (int i = 0; i < 8; i++) {
        int c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            return;
        /* Read what the client sent (bounded wait), then answer. */
        struct pollfd p = {c, POLLIN, 0};
        char req[2048];
        if (poll(&p, 1, 200) > 0) {
            ssize_t n = read(c, req, sizeof req);
            (void)n;
        }
        buf body, out;
        buf_init(&body);
        buf_init(&out);
        render(arg, &body);
        buf_printf(&out,
                   "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                   body.len);
        buf_add(&out, body.p, body.len);
        size_t off = 0;
        while (off < out.len) {
            ssize_t w = write(c, out.p + off, out.len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        buf_close(&body);
        buf_close(&out);
        close(c);
    }
}
