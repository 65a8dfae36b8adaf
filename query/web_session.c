#include "web_session.h"
#include "mem.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct session {
    char id[WEB_SESSION_ID_LEN + 1], csrf[WEB_SESSION_ID_LEN + 1];
    char *token, *person;
    uint64_t created, used;
} session;

struct web_sessions {
    pthread_mutex_t mu;
    uint64_t idle, max;
    int cap, n;
    session *s;
};

web_sessions *web_session_new(uint64_t idle, uint64_t max, int cap) {
    web_sessions *w = mem_zalloc(sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    w->idle = idle;
    w->max = max;
    w->cap = cap > 0 ? cap : 1;
    w->s = mem_zalloc((size_t)w->cap * sizeof *w->s);
    return w;
}

static void drop(web_sessions *w, int i) {
    /* The token is a credential: not left in freed memory. */
    sodium_memzero(w->s[i].token, strlen(w->s[i].token));
    free(w->s[i].token);
    free(w->s[i].person);
    w->s[i] = w->s[--w->n];
    memset(&w->s[w->n], 0, sizeof w->s[w->n]);
}

void web_session_free(web_sessions *w) {
    if (!w)
        return;
    while (w->n)
        drop(w, 0);
    free(w->s);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

static int expired(const web_sessions *w, const session *s, uint64_t now) {
    return now >= s->used + w->idle || now >= s->created + w->max;
}

static void random_hex(char *out) {
    unsigned char b[WEB_SESSION_ID_LEN / 2];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, WEB_SESSION_ID_LEN + 1, b, sizeof b);
}

void web_session_create(web_sessions *w, const char *token, const char *person, uint64_t now,
                        char *id, char *csrf) {
    pthread_mutex_lock(&w->mu);
    for (int i = w->n - 1; i >= 0; i--)
        if (expired(w, &w->s[i], now))
            drop(w, i);
    /* A person has a few sessions at most (their own oldest goes), so no one
     * can crowd everyone else out of the store by signing in over and over. */
    int mine = 0, old_mine = -1;
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->s[i].person, person)) {
            mine++;
            if (old_mine < 0 || w->s[i].used < w->s[old_mine].used)
                old_mine = i;
        }
    if (mine >= WEB_SESSION_PER_PERSON)
        drop(w, old_mine);
    if (w->n == w->cap) { /* full of live sessions: the least recently used goes */
        int old = 0;
        for (int i = 1; i < w->n; i++)
            if (w->s[i].used < w->s[old].used)
                old = i;
        drop(w, old);
    }
    session *s = &w->s[w->n++];
    random_hex(s->id);
    random_hex(s->csrf);
    s->token = mem_strdup(token);
    s->person = mem_strdup(person);
    s->created = s->used = now;
    memcpy(id, s->id, sizeof s->id);
    memcpy(csrf, s->csrf, sizeof s->csrf);
    pthread_mutex_unlock(&w->mu);
}

static int find(web_sessions *w, const char *id) {
    if (!id || strlen(id) != WEB_SESSION_ID_LEN)
        return -1;
    for (int i = 0; i < w->n; i++)
        if (!sodium_memcmp(w->s[i].id, id, WEB_SESSION_ID_LEN))
            return i;
    return -1;
}

int web_session_get(web_sessions *w, const char *id, uint64_t now, web_session_info *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&w->mu);
    int i = find(w, id);
    if (i >= 0 && expired(w, &w->s[i], now)) {
        drop(w, i);
        i = -1;
    }
    if (i >= 0) {
        session *s = &w->s[i];
        s->used = now;
        out->token = mem_strdup(s->token);
        out->person = mem_strdup(s->person);
        memcpy(out->csrf, s->csrf, sizeof s->csrf);
        uint64_t abs_left = s->created + w->max - now;
        out->idle_left = w->idle < abs_left ? w->idle : abs_left;
    }
    pthread_mutex_unlock(&w->mu);
    return i >= 0 ? 0 : -1;
}

void web_session_end(web_sessions *w, const char *id) {
    pthread_mutex_lock(&w->mu);
    int i = find(w, id);
    if (i >= 0)
        drop(w, i);
    pthread_mutex_unlock(&w->mu);
}

int web_session_csrf_ok(const web_session_info *info, const char *csrf) {
    return csrf && strlen(csrf) == WEB_SESSION_ID_LEN &&
           !sodium_memcmp(info->csrf, csrf, WEB_SESSION_ID_LEN);
}

void web_session_info_close(web_session_info *info) {
    if (info->token) {
        sodium_memzero(info->token, strlen(info->token));
        free(info->token);
    }
    free(info->person);
    memset(info, 0, sizeof *info);
}
