# Spoor — one build for every program, library, test, fuzz target and benchmark.
#
#   make            build everything into build/
#   make check      install what is missing (ops/setup), build, run all tests
#   make asan       the same tests under AddressSanitizer + UBSan (build-asan/)
#   make fuzz       clang libFuzzer targets (build-fuzz/), each run briefly
#   make bench      benchmarks, printed as a table
#   make demo       the main job on a local stack
#   make install    PREFIX=/usr/local DESTDIR=
#
# Layout: every folder's non-program .c files form one static library; a
# program is a .c file named spoor*.c.  Program folders never include each
# other's headers: they share code only through lib/.

PREFIX  ?= /usr/local
DESTDIR ?=
B       ?= build
CC      ?= cc
PKGS     = libpq rdkafka libzstd libuv jansson libsodium libcrypto libssl zlib libh2o
PKG_CONFIG ?= pkg-config
# ops/setup installs what is missing; `make check` and `make demo` run it and
# then build in a sub-make, because these flags are computed when a make reads
# this file: on a fresh machine that is before the -dev packages exist.
SETUP   ?= ops/setup
# What `check` and `demo` build after setup (a test narrows it).
BUILD_GOALS ?= all

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libh2o is linked into spoor-api only (the one program that speaks HTTP).
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(filter-out libh2o,$(PKGS)) 2>/dev/null)
H2O_LIBS   := $(shell $(PKG_CONFIG) --libs libh2o 2>/dev/null)

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN      = -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS = $(WARN) -D_GNU_SOURCE -DSPOOR_SQLDIR='"$(PREFIX)/share/spoor/sql"' -DSPOOR_WEBDIR='"$(PREFIX)/share/spoor/web"' -Ilib -I$(B)/gen $(PKG_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS    = $(PKG_LIBS) -lm $(EXTRA_LDFLAGS)

LIB_SRC    := $(filter-out lib/spoor%.c,$(wildcard lib/*.c))
INGEST_SRC := $(filter-out ingest/spoor%.c,$(wildcard ingest/*.c))
COLLECT_SRC := $(filter-out collect/spoor%.c,$(wildcard collect/*.c))
QUERY_SRC  := $(filter-out query/spoor%.c,$(wildcard query/*.c))

LIBSPOOR   := $(B)/libspoor.a
LIBINGEST  := $(B)/libspoor-ingest.a
LIBCOLLECT := $(B)/libspoor-collect.a
LIBQUERY   := $(B)/libspoor-query.a

INGEST_PROGS := $(patsubst ingest/%.c,$(B)/%,$(wildcard ingest/spoor*.c))
COLLECT_PROGS := $(patsubst collect/%.c,$(B)/%,$(wildcard collect/spoor*.c))
QUERY_PROGS  := $(patsubst query/%.c,$(B)/%,$(wildcard query/spoor*.c))
LEGAL_PROGS  := $(patsubst legal/%.c,$(B)/%,$(wildcard legal/spoor*.c))
PROGS        := $(COLLECT_PROGS) $(INGEST_PROGS) $(QUERY_PROGS) $(LEGAL_PROGS)

TEST_SRC   := $(wildcard tests/unit/test_*.c)
TESTS      := $(patsubst tests/unit/%.c,$(B)/tests/%,$(TEST_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOLS      := $(patsubst tests/tools/%.c,$(B)/tests/%,$(TOOL_SRC))

# Keep objects that pattern rules treat as intermediate.
.SECONDARY:

# The PostgreSQL module (sql/ext): always a plain build in build/pgext, since
# the server loads it (a sanitizer runtime would not be there).
PGEXT := build/pgext/spoor_evidence.so
PG_SERVER_INC := $(shell pg_config --includedir-server 2>/dev/null)

.PHONY: all build check asan fuzz bench demo install clean format format-check setup
all: $(PROGS) $(TESTS) $(TOOLS) $(PGEXT)

# A build that cannot go ahead without a library says which, instead of a
# compiler error about a missing header.
ifneq ($(filter all $(B)/%,$(MAKECMDGOALS) $(if $(MAKECMDGOALS),,all)),)
ifeq ($(PKG_CFLAGS)$(PKG_LIBS),)
$(warning pkg-config found none of: $(PKGS); missing: $(shell for p in $(PKGS); do $(PKG_CONFIG) --exists $$p 2>/dev/null || printf '%s ' $$p; done)(run ops/setup, or make check / make demo, which run it))
endif
endif

$(PGEXT): sql/ext/spoor_evidence.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -fPIC -shared -O2 -g \
	  -I$(PG_SERVER_INC) $< -o $@ $(shell $(PKG_CONFIG) --libs libzstd)

# Constants defined once for C and SQL: the advisory lock keys are
# spoor.lock_keys() (sql/functions/audit.sql), the SMTP event kinds
# spoor.smtp_kinds() (sql/functions/ingest.sql); C gets them generated.
GEN_HEADERS := $(B)/gen/lock_keys.h $(B)/gen/smtp_kinds.h $(B)/gen/nat_kinds.h
$(B)/gen/lock_keys.h: sql/functions/audit.sql ops/gen-constants
	@mkdir -p $(dir $@)
	ops/gen-constants $< lock_keys LOCK_KEY string >$@.tmp && mv $@.tmp $@
$(B)/gen/smtp_kinds.h: sql/functions/ingest.sql ops/gen-constants
	@mkdir -p $(dir $@)
	ops/gen-constants $< smtp_kinds SMTP_KIND >$@.tmp && mv $@.tmp $@
$(B)/gen/nat_kinds.h: sql/functions/nat.sql ops/gen-constants
	@mkdir -p $(dir $@)
	ops/gen-constants $< nat_kinds NAT_KIND >$@.tmp && mv $@.tmp $@

$(B)/%.o: %.c | $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBSPOOR): $(LIB_SRC:%.c=$(B)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBINGEST): $(INGEST_SRC:%.c=$(B)/%.o)
	rm -f $@ && ar rcs $@ $^
$(LIBCOLLECT): $(COLLECT_SRC:%.c=$(B)/%.o)
	rm -f $@ && ar rcs $@ $^
$(LIBQUERY): $(QUERY_SRC:%.c=$(B)/%.o)
	rm -f $@ && ar rcs $@ $^

$(INGEST_PROGS): $(B)/%: $(B)/ingest/%.o $(LIBINGEST) $(LIBSPOOR)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)
$(COLLECT_PROGS): $(B)/%: $(B)/collect/%.o $(LIBCOLLECT) $(LIBSPOOR)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)
$(QUERY_PROGS): $(B)/%: $(B)/query/%.o $(LIBQUERY) $(LIBSPOOR)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)
# legal/ has programs only: what they share with spoor-api is in lib/.
$(LEGAL_PROGS): $(B)/%: $(B)/legal/%.o $(LIBSPOOR)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)
# The one program that drops partitions links neither librdkafka nor libuv:
# it parses no untrusted input and talks to nothing but PostgreSQL.
$(B)/spoor-api: LDLIBS = $(PKG_LIBS) $(H2O_LIBS) -lm $(EXTRA_LDFLAGS)
$(B)/spoor-retention: LDLIBS = $(shell $(PKG_CONFIG) --libs libpq jansson) -lm $(EXTRA_LDFLAGS)

# Unit tests may test any folder's library; the harness lives in tests/unit.
TEST_LIBS := $(LIBCOLLECT) $(LIBINGEST) $(LIBQUERY) $(LIBSPOOR)
$(B)/tests/%: $(B)/tests/unit/%.o $(B)/tests/unit/check.o $(B)/tests/unit/golden.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icollect -Iingest -Iquery -o $@ $^ $(LDLIBS)
$(B)/tests/unit/%.o: tests/unit/%.c | $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icollect -Iingest -Iquery -Ilegal -MMD -MP -c $< -o $@
# Test tools (data generator, golden dumpers, load generators).
$(B)/tests/%: $(B)/tests/tools/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/tests/tools/%.o: tests/tools/%.c | $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icollect -Iingest -Iquery -Ilegal -MMD -MP -c $< -o $@

setup:
	@echo "== setup: Debian packages and the Kafka broker (ops/setup)"
	@$(SETUP)

# Setup, then the build in a fresh sub-make that reads the library flags
# only now that the libraries are installed.
build: setup
	@echo "== build: $(BUILD_GOALS)"
	@$(MAKE) --no-print-directory $(BUILD_GOALS)

check: build
	B=$(B) tests/run

asan: setup
	$(MAKE) B=build-asan OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" all
	rm -rf build-asan/sanitizer && mkdir -p build-asan/sanitizer
	ASAN_OPTIONS=detect_leaks=1:log_path=$(CURDIR)/build-asan/sanitizer/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/build-asan/sanitizer/ubsan \
	  SPOOR_SANITIZER_LOGS=$(CURDIR)/build-asan/sanitizer B=build-asan SPOOR_TEST_SLOT=2 tests/run

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
fuzz:
	B=build-fuzz tests/fuzz/run $(FUZZ_SRC)

bench: build
	B=$(B) tests/bench/run

demo: build
	B=$(B) ops/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/spoor/sql
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/spoor/sql/functions
	install -m 0644 sql/*.sql sql/superseded.sha256 $(DESTDIR)$(PREFIX)/share/spoor/sql/
	install -m 0644 sql/functions/*.sql $(DESTDIR)$(PREFIX)/share/spoor/sql/functions/
	install -m 0644 legal/etsi-102657-spoor.xsd $(DESTDIR)$(PREFIX)/share/spoor/
	install -d $(DESTDIR)$(PREFIX)/share/spoor/web
	install -m 0644 web/*.html web/*.css web/*.js web/*.svg $(DESTDIR)$(PREFIX)/share/spoor/web/
	install -d $(DESTDIR)$$(pg_config --pkglibdir)
	install -m 0755 $(PGEXT) $(DESTDIR)$$(pg_config --pkglibdir)/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "format: clean"

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
