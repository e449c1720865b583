/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libFuzzer harness: any bytes as a control-socket request, parsed against a fixed config. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/control.h"

static struct mwan_config cfg;

static const char config[] =
	"lan: { interface: eth3, ipv4: 10.250.250.0/29, ipv6: 3d06:bad:b01:fe::/64 }\n"
	"wans:\n"
	"  att: { interface: eth1, gateway4: 100.64.1.1, npt: { subnet: 0xfe } }\n"
	"  webpass: { interface: eth2, gateway4: 100.64.2.1,\n"
	"             npt: { subnet: 0xfe, prefix: 2001:db8:b0:200::/56 } }\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[MWAN_ERR_LEN];

	(void)argc;
	(void)argv;
	if (mwan_config_parse(config, strlen(config), "c.yaml", &cfg, err,
			      sizeof(err))) {
		fprintf(stderr, "fuzz_control: %s\n", err);
		exit(1);
	}
	return 0;
}

/* A request is accepted (naming a configured WAN) or refused with a
 * message that fits a reply; never anything else.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[MWAN_CONTROL_REPLY_MAX];
	struct mwan_ctl_req req;

	memset(err, 0, sizeof(err));
	if (mwan_ctl_parse((const char *)data, size, &cfg, &req, err,
			   sizeof(err))) {
		if (!err[0] || strlen(err) >= sizeof(err))
			abort();
		return 0;
	}
	if (req.op == MWAN_CTL_RELOAD)
		return 0;
	if (req.wan >= cfg.n_wans)
		abort();
	return 0;
}
