# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The fuzzers (included by the Makefile): `make fuzz`, bounded; a short run of each is in make check (tests/lab/test_fuzz.sh).

BF := $(B)/fuzz
# libFuzzer with ASan and UBSan: a finding stops the run with its input
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=undefined -I. -I$(B) -D_GNU_SOURCE
FUZZ_LIB_SRCS := lib/config.c lib/yamlwalk.c lib/err.c lib/health.c lib/filter.c \
		 lib/cfgdiff.c lib/control.c lib/npt.c lib/steer.c
FUZZ_BINS := $(BF)/fuzz_config $(BF)/fuzz_control $(BF)/fuzz_packets
# make fuzz: FUZZ_TIME seconds per libFuzzer harness, FUZZ_PACKETS cases
FUZZ_TIME ?= 60
FUZZ_PACKETS ?= 1000000
FUZZ_SEED ?= $(shell date +%s) # a violation prints it: -s SEED replays

.PHONY: fuzz fuzz-build

# The libFuzzer harnesses and the library sources they link, each compiled
# with the sanitizers into build/fuzz/ (build/fuzz/lib/config.o, ...).
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(BF)/%.o)
$(BF)/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BF)/fuzz_config: $(BF)/tests/fuzz/fuzz_config.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) $^ -o $@ -lyaml

$(BF)/fuzz_control: $(BF)/tests/fuzz/fuzz_control.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) $^ -o $@ -lyaml

# Not libFuzzer: the programs run in the kernel (BPF_PROG_TEST_RUN); it
# generates and mutates frames itself, from a seed. Built like the unit
# tests (build/tests/fuzz/fuzz_packets.o).
$(BF)/fuzz_packets: $(B)/tests/fuzz/fuzz_packets.o $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS_CTL)

fuzz-build: all $(FUZZ_BINS)

# Each libFuzzer harness writes what it finds new under build/fuzz and
# reads the corpus kept in tests/fuzz/corpus.
fuzz: deps
	$(MAKE) --no-print-directory fuzz-build
	$(BF)/fuzz_packets -n $(FUZZ_PACKETS) -s $(FUZZ_SEED) -c tests/fuzz/corpus/packets
	@mkdir -p $(BF)/new-config $(BF)/new-control
	$(BF)/fuzz_config -max_total_time=$(FUZZ_TIME) -max_len=4096 \
		-dict=tests/fuzz/config.dict $(BF)/new-config tests/fuzz/corpus/config
	$(BF)/fuzz_control -max_total_time=$(FUZZ_TIME) -max_len=300 \
		$(BF)/new-control tests/fuzz/corpus/control
