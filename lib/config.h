/*
 * config: the one spoor.conf schema, shared by every Spoor program.
 *
 * Precedence: built-in defaults < the file (--config FILE, else
 * /etc/spoor/spoor.conf if it exists) < SPOOR_* environment variables
 * (SPOOR_DSN, SPOOR_KAFKA_BROKERS, ...) < command-line flags (config_set).
 * The database connection otherwise follows libpq's own defaults, so PGHOST,
 * PGPORT, PGUSER and PGDATABASE work.  `spoor config` prints the effective
 * configuration with config_print (passwords redacted).
 * Errors: config_load returns -1 with "file:line: what" in ERR.
 */
#ifndef SPOOR_CONFIG_H
#define SPOOR_CONFIG_H

#include "error.h"

#include <stddef.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/spoor/spoor.conf"

typedef struct spoor_config {
    char *dsn; /* libpq connection string; "" = libpq defaults */
    char *kafka_brokers;
    char *kafka_topic_smtp;
    char *kafka_topic_radius;
    char *kafka_topic_nat;
    char *kafka_group;
    long long ingest_batch_records;
    long long ingest_batch_ms;
    char *ingest_metrics_listen;
    char *ingest_default_zone;
    char *ingest_host_zones; /* "host=Zone,host2=Zone2" for RFC 3164 lines and detail files */
    long long ingest_correlate_window;
    long long ingest_max_line;
    long long ingest_nice;
    long long evidence_block_bytes;
    long long evidence_zstd_level;
    long long trace_tolerance;
    long long trace_interim_timeout;
    long long trace_max_open_session;
    char *trace_our_mta_hosts; /* our MTAs' names and addresses, for `spoor trace headers` */
    char *api_listen;
    long long api_max_body;
    long long api_timeout;
    long long api_max_connections;
    long long api_rate;
    char *api_tls_cert_file, *api_tls_key_file, *api_tls_client_ca_file;
    char *api_web_root;          /* the console's files ("" : no console) */
    long long api_cookie_secure; /* console cookie Secure (__Host-) without our own TLS */
    long long api_session_idle;  /* console session: idle expiry, seconds */
    long long api_session_max;   /* console session: absolute expiry, seconds */
    char *legal_signing_key;     /* Ed25519 secret key file (0400) that signs disclosure packages */
    char *legal_csp_id;          /* our CSP ID in ETSI TS 102 657 answers */
    char *legal_country;         /* ISO 3166 country code of the requests we answer */
    char *legal_mta_addresses;   /* HOST=ADDRESS,... for ETSI serverID */
    long long retention_ahead_days;
    long long retention_lock_timeout;
    long long retention_compact_after_days;
    long long retention_compact_level;
    long long retention_pack_open_after_minutes;
    long long retention_archive_after_days;
    char *collect_radius_listen;
    char *collect_radius_clients; /* "ADDR=SECRET_FILE,..." per-NAS shared secrets, in files */
    char *collect_syslog_listen;
    char *collect_nat_listen;
    char *collect_ipfix_listen;    /* UDP ADDR:PORT for IPFIX / NetFlow v9 NAT event logging */
    char *collect_ipfix_exporters; /* "ADDRESS=NAME:PROFILE,...": who may send, as which CGN */
    char *collect_syslog_sources;  /* "ADDR[/BITS]=HOST|HOST,...": who may send, as whom */
    char *collect_syslog_tls_listen;
    char *collect_tls_cert_file, *collect_tls_key_file, *collect_tls_client_ca_file;
    char *collect_detail_dir;
    char *collect_state_dir;
    long long collect_max_buffer;
    long long collect_radius_dedup_window; /* seconds */
    long long collect_radius_max_skew;     /* seconds */
    long long collect_radius_replay_keep;  /* seconds */
    int collect_radius_require_event_timestamp;
    char *sql_dir;
    char *log_level;
    char *log_file;
} spoor_config;

/* Loads defaults, then PATH (NULL: $SPOOR_CONFIG, else the default path if it exists), then
 * the environment.  On failure nothing needs freeing; ERR (code "config")
 * names the file, line or variable and the key. */
int config_load(spoor_config *c, const char *path, error *err);
/* Sets NAME to VALUE as if given on the command line; -1 with ERR set. */
int config_set(spoor_config *c, const char *name, const char *value, error *err);
void config_print(const spoor_config *c, FILE *out);
void config_free(spoor_config *c);

#endif
