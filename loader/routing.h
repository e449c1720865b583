/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Policy routing: each WAN's fwmark rule and routing table, the LAN rule, kept current. */
#ifndef MWAN_LOADER_ROUTING_H
#define MWAN_LOADER_ROUTING_H

/* Policy routing: WAN i uses fwmark MWAN_FWMARK_BASE + i, routing table
 * MWAN_TABLE_BASE + i and a rule at MWAN_RULE_PRIO + 1 + i; the rule at
 * MWAN_RULE_PRIO keeps traffic to the LAN in the main table whatever its
 * mark. IPv6 has the same rules, tables and marks (for WANs with a
 * gateway6; the LAN rule with lan.ipv6).
 */
#define MWAN_FWMARK_BASE 0x6d770100U
#define MWAN_TABLE_BASE 27900U
#define MWAN_RULE_PRIO 9000U
/* Each WAN table ends with `unreachable default` at this metric. */
#define MWAN_ROUTE_LAST_METRIC 0xffffffffU

struct loader;

/* Rules and tables for the config (start, reload); the old ones a
 * previous config left go.
 */
int routing_install(struct loader *l);
/* --cleanup and a failed start: every rule and table of ours. */
void routing_remove(struct loader *l);
/* A WAN's gateway route back after its link or address returned. */
int routing_refresh(struct loader *l);

#endif
