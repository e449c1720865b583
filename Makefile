# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Builds the BPF object, its skeleton, mwan-loader, bpfctl and the unit tests into build/.

CLANG ?= $(shell command -v clang-16 || command -v clang)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
CC ?= gcc
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

B := build
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -I. -I$(B) -D_GNU_SOURCE \
	  $(shell pkg-config --cflags libnl-3.0 libnl-route-3.0 2>/dev/null)
LDLIBS_LOADER := -pthread -lxdp -lbpf -lelf -lz -lyaml -lnl-route-3 -lnl-3 -lsystemd
LDLIBS_CTL := -lbpf -lelf -lz -lyaml

BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
	      -I. -I/usr/include/$(MULTIARCH)

LIB_SRCS := $(wildcard lib/*.c)
LOADER_SRCS := $(wildcard loader/*.c)
CTL_SRCS := $(wildcard ctl/*.c)
TEST_SRCS := $(wildcard tests/unit/test_*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LOADER_OBJS := $(LOADER_SRCS:%.c=$(B)/%.o)
CTL_OBJS := $(CTL_SRCS:%.c=$(B)/%.o)
TESTS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps deps-matrix check test unit lab style demo bench matrix clean format
all: $(B)/mwan.bpf.o $(B)/mwan-loader $(B)/bpfctl

# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:

# Every compile writes a .d file next to its object (-MMD -MP): the headers
# it included, as its prerequisites. They are read back at the end of this
# file; a clean tree has none and rebuilds everything anyway.
DEPFLAGS := -MMD -MP

$(B)/mwan.bpf.o: bpf/mwan.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/mwan.skel.h: $(B)/mwan.bpf.o
	$(BPFTOOL) gen skeleton $< name mwan_bpf > $@

# The skeleton exists before the first compile (order-only: it is generated
# and may be included); from then on the .d files name it for the objects
# that include it.
$(B)/%.o: %.c | $(B)/mwan.skel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/mwan-loader: $(LOADER_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS_LOADER)

$(B)/bpfctl: $(CTL_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS_CTL)

# ---- unit tests ----
# build/tests/test_NAME is tests/unit/test_NAME.c linked with exactly the
# sources in TEST_LINK_test_NAME (lib/, loader/: as .c paths, built into
# build/) and the libraries in TEST_LIBS_test_NAME, after -lcmocka. To add a
# test: create tests/unit/test_NAME.c and give it both variables below (the
# linker names what is missing: add the source that defines it). A renamed
# or split lib/ or loader/ file is renamed here too.
TEST_LINK_test_bpfctl := lib/maptable.c lib/metrics.c lib/npt.c lib/print.c \
	lib/rundir.c lib/steer.c lib/steermap.c lib/err.c
TEST_LIBS_test_bpfctl := -lbpf
TEST_LINK_test_config := lib/cfgdiff.c lib/config.c lib/filter.c \
	lib/syscheck.c lib/yamlwalk.c lib/err.c
TEST_LIBS_test_config := -lyaml
TEST_LINK_test_control := lib/config.c lib/control.c lib/npt.c lib/yamlwalk.c \
	lib/steer.c lib/err.c
TEST_LIBS_test_control := -lyaml
TEST_LINK_test_dataplane := lib/config.c lib/filter.c lib/npt.c lib/steer.c \
	lib/steermap.c lib/yamlwalk.c lib/err.c
TEST_LIBS_test_dataplane := -lbpf -lyaml
TEST_LINK_test_health := lib/health.c lib/steer.c
TEST_LIBS_test_health := -lbpf
TEST_LINK_test_kernel := loader/kernel.c loader/log.c lib/objcalls.c
TEST_LIBS_test_kernel := -lbpf -lelf
TEST_LINK_test_maptable := lib/maptable.c lib/err.c
TEST_LIBS_test_maptable := -lbpf
TEST_LINK_test_metrics := loader/metrics.c loader/log.c lib/maptable.c \
	lib/metrics.c lib/steer.c lib/steermap.c lib/err.c
TEST_LIBS_test_metrics := -lbpf
TEST_LINK_test_npt := lib/npt.c lib/steer.c lib/steermap.c lib/err.c
TEST_LIBS_test_npt := -lbpf
TEST_LINK_test_probe := loader/echo.c
TEST_LIBS_test_probe :=
TEST_LINK_test_rundir := lib/rundir.c
TEST_LIBS_test_rundir :=
TEST_LINK_test_steermap := lib/steermap.c lib/steer.c lib/maptable.c lib/err.c
TEST_LIBS_test_steermap := -lbpf
TEST_LINK_test_yamlwalk := lib/yamlwalk.c lib/err.c
TEST_LIBS_test_yamlwalk := -lyaml

.SECONDEXPANSION:
$(TESTS): $(B)/tests/%: $(B)/tests/unit/%.o $$(addprefix $(B)/,$$(TEST_LINK_$$*:.c=.o))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ -lcmocka $(TEST_LIBS_$*)

unit: all $(TESTS)
	@scripts/run-tests.sh unit $(TESTS)

lab: all
	@scripts/run-tests.sh lab

# clang-format and shellcheck (tests/style.sh); make check runs them first.
style:
	@scripts/run-tests.sh style

# Benchmarks: one script per line; each writes its results under results/.
bench: all
	$(MAKE) --no-print-directory bench-all
	MWAN_RESULTS=$(RESULTS) scripts/bench-failover.sh

# The README's test command: installs what it needs, builds, runs everything.
check: deps
	$(MAKE) all $(TESTS) fuzz-build
	@scripts/run-tests.sh all $(TESTS)

test: check

deps:
	@scripts/install-deps.sh

# The users' kernels (Debian 12's 6.1, Debian 13's 6.12) booted under qemu,
# tests/matrix.list in each: slow without KVM, so not part of `make check`.
matrix: deps-matrix
	$(MAKE) all $(TESTS)
	scripts/matrix.sh

deps-matrix:
	@scripts/install-deps.sh matrix

demo: deps
	$(MAKE) all
	scripts/demo.sh

clean:
	rm -rf $(B)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# The benchmark harness (make bench) keeps its rules next to its sources.
-include bench/bench.mk
# So do the fuzzers (make fuzz).
include tests/fuzz/fuzz.mk
include install.mk

# The headers each object included when it was last built (see DEPFLAGS).
-include $(shell find $(B) -name '*.d' 2>/dev/null)
