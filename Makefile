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
LDLIBS_TEST := -lcmocka -lbpf -lelf -lz -lyaml

BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
	      -I. -I/usr/include/$(MULTIARCH)

LIB_SRCS := $(wildcard lib/*.c)
LOADER_SRCS := $(wildcard loader/*.c)
CTL_SRCS := $(wildcard ctl/*.c)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
HDRS := $(wildcard maps/*.h lib/*.h loader/*.h ctl/*.h bpf/*.h bpf/lib/*.h tests/unit/*.h)

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LOADER_OBJS := $(LOADER_SRCS:%.c=$(B)/%.o)
CTL_OBJS := $(CTL_SRCS:%.c=$(B)/%.o)
TESTS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps deps-matrix check test unit lab demo bench matrix clean format
all: $(B)/mwan.bpf.o $(B)/mwan-loader $(B)/bpfctl

$(B)/mwan.bpf.o: bpf/mwan.bpf.c $(HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/mwan.skel.h: $(B)/mwan.bpf.o
	$(BPFTOOL) gen skeleton $< name mwan_bpf > $@

$(B)/%.o: %.c $(HDRS) $(B)/mwan.skel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/mwan-loader: $(LOADER_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS_LOADER)

$(B)/bpfctl: $(CTL_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS_CTL)

# Each unit test links the shared library code plus whatever loader modules
# it names in a "// link: loader/foo.c" line (any of them may have changed).
$(B)/tests/%: tests/unit/%.c $(LIB_OBJS) $(LOADER_OBJS) $(HDRS) $(B)/mwan.skel.h $(B)/mwan.bpf.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(patsubst %.c,$(B)/%.o,$(shell sed -n 's@^// link: @@p' $<)) \
		-o $@ $(LDLIBS_TEST) $(LDLIBS_LOADER)

unit: all $(TESTS)
	@scripts/run-tests.sh unit $(TESTS)

lab: all
	@scripts/run-tests.sh lab

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
