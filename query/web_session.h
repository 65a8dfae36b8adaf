/*
 * web_session: the web console's sign-in sessions, kept by spoor-api.
 *
 * A person signs in with a bearer token they created (`spoor token create`);
 * the console never sees it again: the browser holds only a session id in an
 * HttpOnly cookie, and spoor-api passes the person's token to PostgreSQL on
 * each call exactly as for a bearer call, so the legal gate, the op table and
 * the audit are the same.  A session ends when signed out, when unused for
 * IDLE seconds, MAX seconds after sign-in, when PostgreSQL no longer takes
 * the token (revoked or expired: every call checks it there), or when its
 * person signs in a ninth time (their least recently used session goes).
 *
 * Each session also has a CSRF secret, given to the page in the sign-in
 * answer (not in a cookie): every state-changing call must echo it in the
 * X-CSRF-Token header, so a form or script on another site cannot act with
 * the cookie.  Ids and secrets are 32 random bytes (libsodium), compared in
 * constant time.
 *
 * Thread-safe (one mutex): spoor-api's workers call it.  Ownership: the
 * store copies what it is given; web_session_get copies out into the
 * caller's struct, whose strings the caller frees (web_session_info_close).
 * The store lives in memory: a restart of spoor-api signs everyone out.
 */
#ifndef SPOOR_WEB_SESSION_H
#define SPOOR_WEB_SESSION_H

#include <stdint.h>

#define WEB_SESSION_ID_LEN 64    /* hex of 32 bytes */
#define WEB_SESSION_PER_PERSON 8 /* more: the person's least recently used goes */

typedef struct web_sessions web_sessions;

typedef struct web_session_info {
    char *token, *person;
    char csrf[WEB_SESSION_ID_LEN + 1];
    uint64_t idle_left; /* seconds before the idle expiry */
} web_session_info;

/* A store whose sessions expire after IDLE seconds unused and MAX seconds
 * in all; at most CAP sessions at once (the oldest then goes). */
web_sessions *web_session_new(uint64_t idle, uint64_t max, int cap);
void web_session_free(web_sessions *s);

/* A new session for PERSON and TOKEN at NOW (seconds): its id and CSRF
 * secret into ID and CSRF (WEB_SESSION_ID_LEN + 1 bytes each). */
void web_session_create(web_sessions *s, const char *token, const char *person, uint64_t now,
                        char *id, char *csrf);
/* The live session ID (touched: its idle time starts again) into OUT;
 * 0, or -1 if there is none (unknown, expired: then it is gone). */
int web_session_get(web_sessions *s, const char *id, uint64_t now, web_session_info *out);
/* Ends session ID (no error if there is none). */
void web_session_end(web_sessions *s, const char *id);
/* True if CSRF is session ID's secret (constant time). */
int web_session_csrf_ok(const web_session_info *info, const char *csrf);
void web_session_info_close(web_session_info *info);

#endif
