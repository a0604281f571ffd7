# SPDX-License-Identifier: LGPL-2.1-or-later
# Makefile: builds librampool, poolctl and the tests; installs missing packages first.

VERSION   := 0.5.0
SOMAJOR   := 0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
PCDIR     ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# Debian bookworm's is /lib/systemd/system (debian/rules says so)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
UNITS     := $(wildcard systemd/*.service systemd/*.timer)
DESTDIR   ?=

CC        ?= cc
SANITIZE  ?= 0
VALGRIND  ?= 0
WERROR    ?= 1
ifeq ($(SANITIZE),1)
BUILD     ?= build-san
else
BUILD     ?= build
endif

V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS      := numa json-c sqlite3 cmocka
comma     := ,
WARN      := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
	     -Wstrict-prototypes -Wpointer-arith -Wvla
ifeq ($(WERROR),1)
WARN      += -Werror
endif
OPT       ?= -O2 -g
SANFLAGS  :=
ifeq ($(SANITIZE),1)
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=all
endif
CFLAGS    ?=
BASEFLAGS := -std=gnu11 $(OPT) $(WARN) $(SANFLAGS) -D_GNU_SOURCE -Iinclude
LIBFLAGS  := $(BASEFLAGS) -fPIC -fvisibility=hidden $(CFLAGS)
LDFLAGS   ?=

# Package flags are looked up only after `deps` has run (lazy `=`).
pc_cflags  = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs    = $(shell pkg-config --libs $(1) 2>/dev/null)
LIBDEPS    = $(call pc_libs,numa json-c sqlite3) -lhugetlbfs -lpthread

LIB_SRC   := $(wildcard backend/*.c) $(wildcard pool/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
SONAME    := librampool.so.$(SOMAJOR)
SOLIB     := $(BUILD)/librampool.so.$(VERSION)
ARLIB     := $(BUILD)/librampool.a
POOLCTL   := $(BUILD)/poolctl

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
FUNC_SRC  := $(wildcard tests/func/*.c)
# The reservation tests of issue 7: all of them in make check-res; make
# check leaves out RES_PENDING (tests waiting for a library fix; none now).
RES_NAMES := res_race res_crash res_guarantee res_security res_qemu res_scrub \
	     res_functional res_busy res_1g res_postcopy
RES_PENDING :=
RES_BIN   := $(RES_NAMES:%=$(BUILD)/tests/func/%)
RES_CHECK := $(filter-out $(RES_PENDING:%=$(BUILD)/tests/func/%),$(RES_BIN))
FUNC_BIN  := $(filter-out $(RES_BIN),\
	     $(patsubst tests/func/%.c,$(BUILD)/tests/func/%,\
	     $(filter-out tests/func/t_%.c,$(FUNC_SRC))))
RES_SH    := $(wildcard tests/res/res_*)
T_OBJ     := $(BUILD)/obj/tests/func/t_util.o $(BUILD)/obj/tests/func/t_res.o \
	     $(BUILD)/obj/tests/func/t_kid.o $(BUILD)/obj/tests/func/t_qemu.o

.PHONY: all deps check check-vm demo bench fuzz install uninstall clean \
	check-unit check-func check-res check-deb

all: $(SOLIB) $(ARLIB) $(POOLCTL) $(BUILD)/rampool.pc

# Installs exactly the Debian packages that are missing (nothing when all are
# present). EXTRA_DEPS adds packages for optional targets.
# Runs on every make (a dpkg query, ~0.1 s) so a removed package is noticed;
# targets depend on it order-only, so it never forces a rebuild.
deps:
	$(Q)./scripts/deps $(EXTRA_DEPS)

$(BUILD)/obj/%.o: %.c include/rampool.h $(wildcard backend/*.h pool/*.h) \
		  | deps
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(LIBFLAGS) $(call pc_cflags,json-c) -c $< -o $@

$(SOLIB): $(LIB_OBJ) librampool.map
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(SANFLAGS) -Wl,-soname,$(SONAME) \
		-Wl,--version-script=librampool.map -Wl,--no-undefined \
		-o $@ $(LIB_OBJ) $(LIBDEPS) $(LDFLAGS)
	$(Q)ln -sf librampool.so.$(VERSION) $(BUILD)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(BUILD)/librampool.so

$(ARLIB): $(LIB_OBJ)
	@[ "$(V)" = 1 ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

TOOL_SRC  := $(wildcard tools/*.c)
TOOL_DEPS := $(TOOL_SRC) $(wildcard tools/*.h) include/rampool.h $(SOLIB)

$(POOLCTL): $(TOOL_DEPS)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(call pc_cflags,json-c) $(TOOL_SRC) -o $@ \
		-L$(BUILD) -lrampool -Wl,-rpath,'$$ORIGIN' \
		$(call pc_libs,json-c) $(LDFLAGS)

# installed copy: no rpath
$(BUILD)/poolctl.install: $(TOOL_DEPS)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(call pc_cflags,json-c) $(TOOL_SRC) -o $@ \
		-L$(BUILD) -lrampool $(call pc_libs,json-c) $(LDFLAGS)

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	     -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|'

$(BUILD)/rampool.pc: rampool.pc.in Makefile
	@mkdir -p $(BUILD)
	$(Q)$(PC_SED) $< > $@

# ---- tests ------------------------------------------------------------------

$(BUILD)/tests/unit/%: tests/unit/%.c $(ARLIB) $(wildcard tests/unit/*.h) \
		       tests/t_compat.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) -Wno-missing-prototypes $(CFLAGS) -I. \
		$(call pc_cflags,cmocka json-c) $< -o $@ $(ARLIB) \
		$(call pc_libs,cmocka) $(LIBDEPS) $(LDFLAGS)

# poolctl's parsers (tools/parse.c, libc only) with the unit test.
$(BUILD)/tests/unit/test_cli_parse: tests/unit/test_cli_parse.c \
				    tests/unit/cli_drive.h tools/parse.c \
				    tools/parse.h include/rampool.h | deps
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) -Wno-missing-prototypes $(CFLAGS) -I. \
		$(call pc_cflags,cmocka) $< tools/parse.c -o $@ \
		$(call pc_libs,cmocka) $(LDFLAGS)

# rampool.conf(5)'s parser (tools/conf.c, libc only) with its unit test.
$(BUILD)/tests/unit/test_conf: tests/unit/test_conf.c tools/conf.c \
			       tools/conf.h tools/parse.c tools/parse.h \
			       include/rampool.h | deps
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) -Wno-missing-prototypes $(CFLAGS) -I. \
		$(call pc_cflags,cmocka) $< tools/conf.c tools/parse.c -o $@ \
		$(call pc_libs,cmocka) $(LDFLAGS)

$(T_OBJ): $(BUILD)/obj/tests/func/%.o: tests/func/%.c tests/func/t_util.h \
				      tests/func/t_res.h tests/func/t_kid.h \
				      tests/func/t_qemu.h tests/t_compat.h | deps
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(call pc_cflags,json-c) -c $< -o $@

$(BUILD)/tests/func/%: tests/func/%.c $(T_OBJ) $(SOLIB) tests/func/t_util.h \
		       tests/func/t_res.h tests/t_compat.h tests/func/t_uffd.h \
		       tests/func/t_kid.h tests/func/t_qemu.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) -Wno-missing-prototypes $(CFLAGS) \
		$(call pc_cflags,json-c) $< $(T_OBJ) -o $@ \
		-L$(BUILD) -lrampool -Wl,-rpath,'$$ORIGIN/../..' \
		$(call pc_libs,numa json-c) -lhugetlbfs -lpthread $(LDFLAGS)

# Failure injection: the static library, with each call it makes to these
# functions routed through the test's counters first (seed 000).
WRAP_FNS := malloc calloc realloc strdup mmap memfd_create fallocate madvise \
	    pthread_create
$(BUILD)/tests/func/inject_%: tests/func/inject_%.c tests/func/t_inject.c \
			      $(T_OBJ) $(ARLIB) tests/func/t_inject.h \
			      tests/func/t_util.h tests/t_compat.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) -Wno-missing-prototypes $(CFLAGS) $< \
		tests/func/t_inject.c $(T_OBJ) \
		-o $@ $(ARLIB) $(addprefix -Wl$(comma)--wrap=,$(WRAP_FNS)) \
		$(LIBDEPS) $(LDFLAGS)

# Tests of internal interfaces (pool/block.h): the static library, whose
# internal symbols are not hidden from a program linked with it.
$(BUILD)/tests/func/internal_%: tests/func/internal_%.c $(T_OBJ) $(ARLIB) \
				tests/func/t_util.h tests/t_compat.h \
				$(wildcard pool/*.h backend/*.h)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) -Wno-missing-prototypes $(CFLAGS) -I. $< $(T_OBJ) \
		-o $@ $(ARLIB) $(LIBDEPS) $(LDFLAGS)

# scrub_live tests backend primitives (scrub, resmount) on the real kernel:
# linked with the static library, whose internal symbols it can reach.
$(BUILD)/tests/func/scrub_live: tests/func/scrub_live.c $(T_OBJ) $(ARLIB) \
				tests/func/t_util.h tests/t_compat.h \
				backend/scrub.h backend/resmount.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) -Wno-missing-prototypes $(CFLAGS) -I. $< $(T_OBJ) \
		-o $@ $(ARLIB) $(LIBDEPS) $(LDFLAGS)

TEST_ENV := BUILD=$(abspath $(BUILD)) SRC=$(CURDIR) VALGRIND=$(VALGRIND) \
	    SANITIZE=$(SANITIZE)

check: EXTRA_DEPS += $(if $(filter 1,$(VALGRIND)),valgrind) systemd
check: deps all $(UNIT_BIN) $(FUNC_BIN) $(RES_BIN)
	$(Q)$(TEST_ENV) tests/run $(UNIT_BIN) $(FUNC_BIN) $(RES_CHECK) $(RES_SH) \
		tests/golden/check-golden tests/cli/check-cli tests/cli/check-res \
		tests/cli/check-completion \
		tests/cli/check-pages tests/cli/check-apply tests/build/check-units \
		tests/build/check-install tests/build/check-readme \
		tests/build/check-man tests/build/check-examples

check-unit: all $(UNIT_BIN)
	$(Q)$(TEST_ENV) tests/run $(UNIT_BIN)

check-func: all $(FUNC_BIN)
	$(Q)$(TEST_ENV) tests/run $(FUNC_BIN)

check-res: all $(RES_BIN)
	$(Q)$(TEST_ENV) tests/run $(RES_BIN) $(RES_SH)

check-vm: all $(FUNC_BIN)
	$(Q)tests/vm/run --build-dir $(BUILD)

# The Debian packages (debian/): dpkg-buildpackage from a clean copy of the
# tree, unpacked into a temporary root, the README's example built against
# them, lintian without errors (tests/build/check-deb, ~30 s). Not in make
# check: it needs debhelper and lintian (installed here), no hugepages.
check-deb: EXTRA_DEPS += build-essential debhelper dpkg-dev lintian
check-deb: deps
	$(Q)SRC=$(CURDIR) tests/build/check-deb

demo: all
	$(Q)scripts/hplock ./scripts/demo $(BUILD)

# Regenerates the golden files from the fixtures (review the diff!).
golden: all
	$(Q)$(TEST_ENV) tests/golden/check-golden --update

# Prints figures, never fails on them (bench/README.md). BENCH_ARGS is passed
# on, e.g. make bench BENCH_ARGS='--size 1G --json'.
BENCH_ARGS ?=
$(BUILD)/bench/prealloc: bench/prealloc.c bench/report.c bench/util.c \
		bench/prealloc.h bench/util.h \
		include/rampool.h $(SOLIB)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(call pc_cflags,json-c) \
		$(filter %.c,$^) -o $@ \
		-L$(BUILD) -lrampool -Wl,-rpath,'$$ORIGIN/..' \
		$(call pc_libs,json-c) -lpthread $(LDFLAGS)

$(BUILD)/bench/reserve: bench/reserve.c include/rampool.h $(SOLIB)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $< -o $@ \
		-L$(BUILD) -lrampool -Wl,-rpath,'$$ORIGIN/..' $(LDFLAGS)

# The benches on bench/util.c: one rule.
BENCH_UTIL := discard uffd uffd_minor check warm
$(BENCH_UTIL:%=$(BUILD)/bench/%): $(BUILD)/bench/%: bench/%.c bench/util.c \
		bench/util.h include/rampool.h $(SOLIB)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(call pc_cflags,json-c) \
		$(filter %.c,$^) -o $@ \
		-L$(BUILD) -lrampool -Wl,-rpath,'$$ORIGIN/..' \
		$(call pc_libs,json-c) -lpthread $(LDFLAGS)

# The scrub rate of issue 10: backend primitives, so the static library.
$(BUILD)/bench/scrub: bench/scrub.c bench/util.c bench/util.h $(ARLIB) \
		backend/scrub.h backend/prealloc.h backend/resmount.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -I. $(call pc_cflags,json-c) \
		$(filter %.c,$^) -o $@ $(ARLIB) \
		$(call pc_libs,json-c) $(LIBDEPS) $(LDFLAGS)

# RESERVE_ARGS is passed to bench/reserve, e.g. RESERVE_ARGS='-i 50 -n 1000';
# DISCARD_ARGS to bench/discard, e.g. DISCARD_ARGS='--size 1G --repeat 9';
# UFFD_ARGS to bench/uffd, e.g. UFFD_ARGS='--size 256M --repeat 5';
# MINOR_ARGS to bench/uffd_minor, e.g. MINOR_ARGS='--size 256M';
# SCRUB_ARGS to bench/scrub, e.g. SCRUB_ARGS='-r 5';
# WARM_ARGS to bench/warm, e.g. WARM_ARGS='-n 50 -r 5 --no-qemu'.
RESERVE_ARGS ?=
DISCARD_ARGS ?=
UFFD_ARGS ?=
MINOR_ARGS ?=
SCRUB_ARGS ?=
WARM_ARGS ?=
bench: all $(BUILD)/bench/prealloc $(BUILD)/bench/reserve $(BUILD)/bench/discard \
	$(BUILD)/bench/uffd $(BUILD)/bench/uffd_minor $(BUILD)/bench/check \
	$(BUILD)/bench/scrub $(BUILD)/bench/warm
	$(Q)scripts/hplock $(BUILD)/bench/prealloc $(BENCH_ARGS)
	$(Q)scripts/hplock $(BUILD)/bench/reserve $(RESERVE_ARGS)
	$(Q)scripts/hplock $(BUILD)/bench/discard $(DISCARD_ARGS)
	$(Q)scripts/hplock $(BUILD)/bench/uffd $(UFFD_ARGS)
	$(Q)scripts/hplock $(BUILD)/bench/uffd_minor $(MINOR_ARGS)
	$(Q)scripts/hplock $(BUILD)/bench/check
	$(Q)scripts/hplock $(BUILD)/bench/scrub $(SCRUB_ARGS)
	$(Q)scripts/hplock $(BUILD)/bench/warm $(WARM_ARGS)

FUZZ_CC ?= clang
# the manifest reader and what it calls, libc and json-c only
MANIFEST_SRC := pool/plan_manifest.c pool/manifest_json.c pool/plan.c \
		pool/pool.c backend/parse.c backend/bitmap.c backend/log.c
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude
# Each harness runs FUZZ_SECONDS (default 60) on its corpus; what libFuzzer
# finds new goes to $(BUILD)/fuzz/<harness>/, the checked-in seeds stay.
fuzz: EXTRA_DEPS += clang
fuzz: deps
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/cli_corpus \
		$(BUILD)/fuzz/manifest_corpus $(BUILD)/fuzz/qstream_corpus \
		$(BUILD)/fuzz/conf_corpus
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_parse.c backend/parse.c \
		backend/bitmap.c -o $(BUILD)/fuzz/fuzz_parse
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_cli.c tools/parse.c \
		-o $(BUILD)/fuzz/fuzz_cli
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) $(call pc_cflags,json-c) \
		tests/fuzz/fuzz_manifest.c $(MANIFEST_SRC) \
		-o $(BUILD)/fuzz/fuzz_manifest $(call pc_libs,json-c)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_qstream.c backend/qstream.c \
		-o $(BUILD)/fuzz/fuzz_qstream
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_conf.c tools/conf.c \
		tools/parse.c -o $(BUILD)/fuzz/fuzz_conf
	$(Q)$(BUILD)/fuzz/fuzz_parse -max_total_time=$${FUZZ_SECONDS:-60} \
		-dict=tests/fuzz/parse.dict $(BUILD)/fuzz/corpus tests/fuzz/corpus
	$(Q)$(BUILD)/fuzz/fuzz_cli -max_total_time=$${FUZZ_SECONDS:-60} \
		-dict=tests/fuzz/cli.dict $(BUILD)/fuzz/cli_corpus \
		tests/fuzz/cli_corpus
	$(Q)$(BUILD)/fuzz/fuzz_manifest -max_total_time=$${FUZZ_SECONDS:-60} \
		-dict=tests/fuzz/manifest.dict $(BUILD)/fuzz/manifest_corpus \
		tests/fuzz/corpus/manifest
	$(Q)$(BUILD)/fuzz/fuzz_qstream -max_total_time=$${FUZZ_SECONDS:-60} \
		-max_len=4096 -dict=tests/fuzz/qstream.dict \
		$(BUILD)/fuzz/qstream_corpus tests/fuzz/corpus/qstream
	$(Q)$(BUILD)/fuzz/fuzz_conf -max_total_time=$${FUZZ_SECONDS:-60} \
		-max_len=4096 -dict=tests/fuzz/conf.dict \
		$(BUILD)/fuzz/conf_corpus tests/fuzz/corpus/conf

# ---- install ----------------------------------------------------------------

MAN3 := $(wildcard man/*.3)
install: all $(BUILD)/poolctl.install
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(SOLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf librampool.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/librampool.so
	install -m 0644 $(ARLIB) $(DESTDIR)$(LIBDIR)/
	install -m 0644 include/rampool.h $(DESTDIR)$(INCDIR)/
	$(PC_SED) rampool.pc.in > $(DESTDIR)$(PCDIR)/rampool.pc
	install -m 0755 $(BUILD)/poolctl.install $(DESTDIR)$(SBINDIR)/poolctl
	install -m 0644 man/poolctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/rampool.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 man/rampool-manifest.5 man/rampool.conf.5 \
		$(DESTDIR)$(MANDIR)/man5/
	$(if $(MAN3),install -m 0644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/)
	install -m 0644 completion/poolctl $(DESTDIR)$(BASHCOMPDIR)/poolctl
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in $(notdir $(UNITS)); do \
		sed 's|/usr/sbin/poolctl|$(SBINDIR)/poolctl|' systemd/$$u \
			> $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u; \
	done

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/librampool.so* $(DESTDIR)$(LIBDIR)/librampool.a \
		$(DESTDIR)$(INCDIR)/rampool.h $(DESTDIR)$(PCDIR)/rampool.pc \
		$(DESTDIR)$(SBINDIR)/poolctl $(DESTDIR)$(MANDIR)/man8/poolctl.8 \
		$(DESTDIR)$(MANDIR)/man7/rampool.7 \
		$(DESTDIR)$(MANDIR)/man5/rampool-manifest.5 \
		$(DESTDIR)$(MANDIR)/man5/rampool.conf.5 \
		$(DESTDIR)$(BASHCOMPDIR)/poolctl \
		$(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(notdir $(UNITS))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))

clean:
	rm -rf build build-san
