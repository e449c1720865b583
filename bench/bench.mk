# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark harness (included by the Makefile): bench-micro, bench-forward, bench-scale, bench-report, bench-all.
#
# QUICK=1: smoke mode (seconds per configuration, small counts): checks that
# every configuration forwards and that the outputs are written, not speed.
# RESULTS=DIR: where the outputs go (default results/).

QUICK ?= 0
RESULTS ?= results
BB := $(B)/bench
BENCH_PROGS := micro gen sink redirect
BENCH_BPF_OBJS := $(BENCH_PROGS:%=$(BB)/%.bpf.o)
BENCH_SKELS := $(BENCH_PROGS:%=$(BB)/%.skel.h)
BENCH_BINS := $(BB)/micro $(BB)/gen
BENCH_ENV := QUICK=$(QUICK) RESULTS=$(RESULTS) BENCH_BIN=$(BB) \
	     MWAN_LOADER=$(CURDIR)/$(B)/mwan-loader BENCH_GEN='$(BENCH_GEN)' \
	     BENCH_GEN_WHY='$(BENCH_GEN_WHY)' 

.PHONY: bench-all bench-micro bench-forward bench-scale bench-report \
	bench-build
.SECONDARY: $(BENCH_BPF_OBJS) $(BENCH_SKELS)

$(BENCH_BPF_OBJS): $(BB)/%.bpf.o: bench/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BENCH_SKELS): $(BB)/%.skel.h: $(BB)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# The C sources are built by the Makefile's rule for every object (into
# build/bench/), with the bench skeletons' directory on the include path and
# the skeletons generated first.
GEN_SRCS := bench/gen.c bench/gen_send.c bench/gen_stats.c
BENCH_OBJS := $(BB)/micro.o $(GEN_SRCS:bench/%.c=$(BB)/%.o)
$(BENCH_OBJS): CFLAGS += -I$(BB)
$(BENCH_OBJS): | $(BENCH_SKELS)

$(BB)/micro: $(BB)/micro.o $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS_CTL)

# It reads mwan_stats by the map table's name (lib/maptable.o).
GEN_LIB_OBJS := $(B)/lib/maptable.o $(B)/lib/err.o
$(BB)/gen: $(GEN_SRCS:bench/%.c=$(BB)/%.o) $(GEN_LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ -lxdp -lbpf -lelf -lz -lpthread

bench-build: all $(BENCH_BINS)

MICRO_ARGS := $(if $(filter 1,$(QUICK)),-r 20000 -n 3,-r 1000000 -n 5)

bench-micro: bench-build
	@mkdir -p $(RESULTS)
	$(BB)/micro $(MICRO_ARGS) -o $(RESULTS)/micro.json

bench-forward: bench-build
	@mkdir -p $(RESULTS)
	$(BENCH_ENV) bench/forward.sh forward

bench-scale: bench-build
	@mkdir -p $(RESULTS)
	$(BENCH_ENV) bench/forward.sh scale

bench-report:
	$(BENCH_ENV) bench/report.py

# One after the other, never in parallel: they share the two CPUs. The
# generator is probed once (BENCH_GEN=METHOD picks one instead): the
# forwarded and the scale runs use the same.
bench-all: bench-build
	$(MAKE) --no-print-directory bench-micro
	@probe=$$($(BENCH_ENV) bench/forward.sh probe) && \
	echo "bench: generator $${probe%%	*} ($${probe#*	})" && \
	$(MAKE) --no-print-directory bench-forward bench-scale \
		BENCH_GEN="$${probe%%	*}" BENCH_GEN_WHY="$${probe#*	}"
	$(MAKE) --no-print-directory bench-report
