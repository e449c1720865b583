/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libFuzzer harness: any bytes as mwan.yaml, parsed, refused with FILE:LINE or accepted whole. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cfgdiff.h"
#include "lib/config.h"
#include "lib/filter.h"

/* A refusal names the file and a line, and nothing is left allocated
 * (the sanitizers see a leak); an accepted config yields its filter
 * lists and compares with itself as unchanged.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mwan_filter_rule r[MWAN_FILTER_RULES_MAX];
	static struct mwan_config cfg;
	char err[MWAN_ERR_LEN] = "", diff[256];

	if (mwan_config_parse((const char *)data, size, "f.yaml", &cfg, err,
			      sizeof(err))) {
		if (strncmp(err, "f.yaml:", 7) || err[7] < '1' || err[7] > '9')
			abort(); /* a refusal without FILE:LINE */
		return 0;
	}
	if (mwan_ingress_rules(&cfg, r) > MWAN_FILTER_RULES_MAX ||
	    mwan_egress_rules(&cfg, r) > MWAN_FILTER_RULES_MAX ||
	    !mwan_config_same_interfaces(&cfg, &cfg))
		abort();
	mwan_config_describe_diff(&cfg, &cfg, diff, sizeof(diff));
	if (strcmp(diff, "0 mapping(s) added, 0 removed, 0 changed"))
		abort();
	mwan_config_free(&cfg);
	return 0;
}
