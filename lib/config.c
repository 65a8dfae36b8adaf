#include "config.h"
#include "conf.h"

#include <limits.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#ifndef SPOOR_WEBDIR
#define SPOOR_WEBDIR "/usr/local/share/spoor/web"
#endif

#define F(field) offsetof(spoor_config, field)
#define NOB 0, 0

static const conf_def config_defs[] = {
    {"dsn", CONF_STR, "", NOB, F(dsn), 1,
     "libpq connection string (empty: libpq defaults, PG* variables)"},
    {"kafka.brokers", CONF_STR, "127.0.0.1:29092", NOB, F(kafka_brokers), 0, "bootstrap servers"},
    {"kafka.topic.smtp", CONF_STR, "spoor.smtp", NOB, F(kafka_topic_smtp), 0, "mail log topic"},
    {"kafka.topic.nat", CONF_STR, "spoor.nat", NOB, F(kafka_topic_nat), 0,
     "carrier-grade NAT log topic"},
    {"kafka.topic.radius", CONF_STR, "spoor.radius", NOB, F(kafka_topic_radius), 0,
     "RADIUS accounting topic"},
    {"kafka.group", CONF_STR, "spoor-ingest", NOB, F(kafka_group), 0,
     "consumer group of spoor-ingest"},
    {"ingest.batch_records", CONF_INT, "20000", 1, 1000000, F(ingest_batch_records), 0,
     "records per transaction"},
    {"ingest.batch_ms", CONF_INT, "500", 1, 600000, F(ingest_batch_ms), 0,
     "longest wait before a partial batch commits"},
    {"ingest.metrics_listen", CONF_STR, "127.0.0.1:9187", NOB, F(ingest_metrics_listen), 0,
     "Prometheus endpoint (empty: off)"},
    {"ingest.default_zone", CONF_STR, "UTC", NOB, F(ingest_default_zone), 0,
     "zone of RFC 3164 times and detail files"},
    {"ingest.host_zones", CONF_STR, "", NOB, F(ingest_host_zones), 0,
     "host=Zone,... per source host"},
    {"ingest.correlate_window", CONF_DURATION, "2d", 60, 30 * 86400, F(ingest_correlate_window), 0,
     "how long a Postfix queue ID is tied to its message"},
    {"ingest.nice", CONF_INT, "0", 0, 19, F(ingest_nice), 0,
     "CPU priority below lookups, for spoor-ingest and its database sessions (0: none)"},
    {"ingest.max_line", CONF_SIZE, "64k", 256, 16 * 1024 * 1024, F(ingest_max_line), 0,
     "longer lines are quarantined"},
    {"evidence.block_bytes", CONF_SIZE, "256k", 4096, 64 * 1024 * 1024, F(evidence_block_bytes), 0,
     "raw bytes per evidence block"},
    {"evidence.zstd_level", CONF_INT, "1", 1, 19, F(evidence_zstd_level), 0,
     "zstd level of evidence blocks"},
    {"trace.tolerance", CONF_DURATION, "60s", 0, 3600, F(trace_tolerance), 0,
     "clock skew allowed between MTA and NAS"},
    {"trace.interim_timeout", CONF_DURATION, "2h", 60, 30 * 86400, F(trace_interim_timeout), 0,
     "a session silent this long is closed"},
    {"trace.max_open_session", CONF_DURATION, "7d", 3600, 400 * 86400, F(trace_max_open_session), 0,
     "longest a session without Stop or interims is taken to last"},
    {"trace.our_mta_hosts", CONF_STR, "", NOB, F(trace_our_mta_hosts), 0,
     "our MTAs' names and addresses, comma separated"},
    {"api.listen", CONF_STR, "127.0.0.1:8443", NOB, F(api_listen), 0,
     "spoor-api address (loopback by default)"},
    {"api.max_body", CONF_SIZE, "1M", 1024, 64 * 1024 * 1024, F(api_max_body), 0,
     "largest request body"},
    {"api.rate", CONF_INT, "20", 0, 100000, F(api_rate), 0,
     "requests per second per bearer token, in bursts of twice that (0: no limit); more get 429"},
    {"api.max_connections", CONF_INT, "256", 1, 100000, F(api_max_connections), 0,
     "open connections spoor-api serves at once (more are refused with 503)"},
    {"api.timeout", CONF_DURATION, "30s", 1, 3600, F(api_timeout), 0,
     "deadline for a connection's next complete request (headers and body)"},
    {"api.tls_cert_file", CONF_STR, "", NOB, F(api_tls_cert_file), 0,
     "spoor-api certificate chain (PEM); with api.tls_key_file: HTTPS and HTTP/2"},
    {"api.tls_key_file", CONF_STR, "", NOB, F(api_tls_key_file), 0,
     "spoor-api private key (PEM, readable by spoor-api only)"},
    {"api.tls_client_ca_file", CONF_STR, "", NOB, F(api_tls_client_ca_file), 0,
     "CA whose client certificates spoor-api requires (mutual TLS; empty: none)"},
    {"api.web_root", CONF_STR, SPOOR_WEBDIR, NOB, F(api_web_root), 0,
     "folder of the web console's files (empty: no console)"},
    {"api.cookie_secure", CONF_BOOL, "no", 0, 1, F(api_cookie_secure), 0,
     "console cookie Secure and __Host- even without api.tls_cert_file (TLS ends at a proxy)"},
    {"api.session_idle", CONF_DURATION, "15m", 1, 86400, F(api_session_idle), 0,
     "a console session unused this long is signed out"},
    {"api.session_max", CONF_DURATION, "12h", 60, 7 * 86400, F(api_session_max), 0,
     "a console session ends this long after sign-in, used or not"},
    {"legal.signing_key", CONF_STR, "", NOB, F(legal_signing_key), 0,
     "Ed25519 secret key file (mode 0400) that signs disclosure packages"},
    {"legal.csp_id", CONF_STR, "spoor-isp", NOB, F(legal_csp_id), 0,
     "our CSP ID in ETSI TS 102 657 answers"},
    {"legal.country", CONF_STR, "XX", NOB, F(legal_country), 0,
     "ISO 3166-1 alpha-2 country code of the requests we answer"},
    {"legal.mta_addresses", CONF_STR, "", NOB, F(legal_mta_addresses), 0,
     "our MTAs' addresses for ETSI serverID when no syslog peer was recorded: HOST=ADDRESS,..."},
    {"retention.ahead_days", CONF_INT, "7", 1, 60, F(retention_ahead_days), 0,
     "days of partitions spoor-retention maintain creates ahead"},
    {"retention.lock_timeout", CONF_DURATION, "0", 0, 3600, F(retention_lock_timeout), 0,
     "how long a run waits for another run's lock (0: exit at once)"},
    {"retention.compact_after_days", CONF_INT, "2", 1, 365, F(retention_compact_after_days), 0,
     "whole days after its end that a day is closed and compacted"},
    {"retention.compact_level", CONF_INT, "12", 1, 19, F(retention_compact_level), 0,
     "zstd level of event packs and of recompressed evidence"},
    {"retention.pack_open_after_minutes", CONF_INT, "60", 0, 10080,
     F(retention_pack_open_after_minutes), 0,
     "minutes after which spoor-retention compact packs the events of a day still open, in "
     "whole hours (0: only closed days)"},
    {"retention.archive_after_days", CONF_INT, "90", 1, 3650, F(retention_archive_after_days), 0,
     "whole days after its end that a compacted day moves to the archive PostgreSQL (the foreign "
     "server spoor_archive), with spoor-retention archive"},
    {"collect.radius_listen", CONF_STR, "", NOB, F(collect_radius_listen), 0,
     "UDP ADDR:PORT for RADIUS accounting (empty: off)"},
    {"collect.radius_clients", CONF_STR, "", NOB, F(collect_radius_clients), 0,
     "NAS_ADDRESS=SECRET_FILE,... (each file holds one shared secret)"},
    {"collect.nat_listen", CONF_STR, "", NOB, F(collect_nat_listen), 0,
     "syslog TCP+UDP address for carrier-grade NAT logs (peers from collect.syslog_sources), to "
     "kafka.topic.nat"},
    {"collect.ipfix_listen", CONF_STR, "", NOB, F(collect_ipfix_listen), 0,
     "UDP ADDR:PORT for a CGN's IPFIX or NetFlow v9 NAT event logging (RFC 8158), to "
     "kafka.topic.nat (empty: off)"},
    {"collect.ipfix_exporters", CONF_STR, "", NOB, F(collect_ipfix_exporters), 0,
     "exporters that may send IPFIX: ADDRESS=CGN_NAME:PROFILE,... (PROFILE iana or junos: how "
     "the CGN numbers natEvent); others refused"},
    {"collect.syslog_listen", CONF_STR, "", NOB, F(collect_syslog_listen), 0,
     "ADDR:PORT for syslog over TCP and UDP (empty: off)"},
    {"collect.syslog_tls_listen", CONF_STR, "", NOB, F(collect_syslog_tls_listen), 0,
     "ADDR:PORT for syslog over TLS (RFC 5425), client certificates required (empty: off)"},
    {"collect.tls_cert_file", CONF_STR, "", NOB, F(collect_tls_cert_file), 0,
     "spoor-collect's certificate chain (PEM) for syslog over TLS"},
    {"collect.tls_key_file", CONF_STR, "", NOB, F(collect_tls_key_file), 0,
     "its private key (PEM, mode 0400)"},
    {"collect.tls_client_ca_file", CONF_STR, "", NOB, F(collect_tls_client_ca_file), 0,
     "the CA (PEM) the senders' client certificates must chain to"},
    {"collect.syslog_sources", CONF_STR, "", NOB, F(collect_syslog_sources), 0,
     "peers that may send syslog and the hosts each may speak for: ADDR[/BITS]=HOST|HOST,... or "
     "=* (others refused; a line naming another host is quarantined)"},
    {"collect.detail_dir", CONF_STR, "", NOB, F(collect_detail_dir), 0,
     "FreeRADIUS detail-file folder to follow (empty: off)"},
    {"collect.state_dir", CONF_STR, "/var/lib/spoor-collect", NOB, F(collect_state_dir), 0,
     "where spoor-collect keeps its detail-file positions"},
    {"collect.radius_dedup_window", CONF_DURATION, "60s", 1, 3600, F(collect_radius_dedup_window),
     0, "how long a RADIUS retransmission is answered again and produced once"},
    {"collect.radius_max_skew", CONF_DURATION, "1d", 1, 30 * 86400, F(collect_radius_max_skew), 0,
     "a request with Event-Timestamp arriving further than this from it (+ Acct-Delay-Time) is "
     "refused as stale or replayed"},
    {"collect.radius_replay_keep", CONF_DURATION, "7d", 60, 400 * 86400,
     F(collect_radius_replay_keep), 0,
     "how long each NAS's accepted request authenticators are kept (state_dir) to refuse replays"},
    {"collect.radius_require_event_timestamp", CONF_BOOL, "no", 0, 1,
     F(collect_radius_require_event_timestamp), 0,
     "refuse Accounting-Requests without Event-Timestamp (their replays are caught only while "
     "kept)"},
    {"collect.max_buffer", CONF_SIZE, "64M", 65536, 4LL * 1024 * 1024 * 1024, F(collect_max_buffer),
     0, "bytes of records awaiting Kafka before RADIUS acks stop and TCP reads pause"},
    {"sql_dir", CONF_STR, "", NOB, F(sql_dir), 0, "migrations folder (empty: built-in location)"},
    {"log.level", CONF_STR, "info", NOB, F(log_level), 0, "error, warn, info or debug"},
    {"log.file", CONF_STR, "", NOB, F(log_file), 0, "log file (empty: stderr)"},
    {NULL, CONF_STR, NULL, 0, 0, 0, 0, NULL},
};

int config_load(spoor_config *c, const char *path, error *e) {
    error scratch;
    if (!e)
        e = &scratch;
    error_clear(e);
    memset(c, 0, sizeof *c);
    if (conf_defaults(config_defs, c, e) < 0)
        goto fail;
    if (!path && getenv("SPOOR_CONFIG") && *getenv("SPOOR_CONFIG"))
        path = getenv("SPOOR_CONFIG"); /* set by `spoor` for the programs it runs */
    if (!path && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
        path = CONFIG_DEFAULT_PATH;
    if (path && conf_load_file(config_defs, c, path, e) < 0)
        goto fail;
    if (conf_load_env(config_defs, c, e) < 0)
        goto fail;
    return 0;
fail:
    /* On failure nothing is left for the caller to free. */
    conf_free(config_defs, c);
    snprintf(e->code, sizeof e->code, "config");
    return -1;
}

int config_set(spoor_config *c, const char *name, const char *value, error *e) {
    error scratch;
    if (!e)
        e = &scratch;
    error_clear(e);
    if (conf_set(config_defs, c, name, value, "command line", e) < 0) {
        snprintf(e->code, sizeof e->code, "config");
        return -1;
    }
    return 0;
}

void config_print(const spoor_config *c, FILE *out) {
    conf_print(config_defs, c, out);
}

void config_free(spoor_config *c) {
    conf_free(config_defs, c);
}
