/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a config asks of the running system: interfaces, addresses, sysctls, paths. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <ifaddrs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "config.h"
#include "err.h"
#include "syscheck.h"
#include "yamlwalk.h"

bool mwan_link_l3(int type)
{
	switch (type) {
	case ARPHRD_NONE: /* tun, WireGuard */
	case ARPHRD_IPGRE:
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_SIT:
	case ARPHRD_PPP:
	case ARPHRD_RAWIP: /* LTE modems (rmnet, qmi_wwan raw-ip) */
		return true;
	}
	return false;
}

/* Why the device cannot be this role; NULL when it can. Every program
 * reads an Ethernet header on a LAN; a WAN may also be an L3 device
 * (WireGuard, GRE, IP-in-IP, tun, PPP), whose packets start at the IP
 * header: the TC programs are told so (MWAN_WAN_L3) and XDP stays off.
 */
static const char *link_refusal(int type, bool wan)
{
	if (type == ARPHRD_ETHER)
		return NULL; /* NICs, virtio, veth, VLAN, bridge, bond, macvlan */
	if (mwan_link_l3(type))
		return wan ? NULL :
			     "has no link-layer header (WireGuard, GRE, tun, PPP); a LAN must be Ethernet";
	if (type == ARPHRD_LOOPBACK)
		return "is the loopback device; mwan supports Ethernet and, as WANs, L3 tunnel and PPP interfaces";
	return "has neither an Ethernet header nor an IP one; mwan supports Ethernet and, as WANs, L3 tunnel and PPP interfaces";
}

int mwan_link_type(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno :
					       ifr.ifr_hwaddr.sa_family;
	close(fd);
	return ret;
}

static int check_if(const struct mwan_config *cfg, const char *ifname,
		    unsigned int line, const char *field, bool wan, char *err,
		    size_t errlen)
{
	const char *why;
	int type;

	if (!if_nametoindex(ifname)) {
		mwan_set_err(err, errlen, "%s:%u: %s: no such interface '%s'",
			     cfg->path, line, field, ifname);
		return -1;
	}
	type = mwan_link_type(ifname);
	if (type < 0) {
		mwan_set_err(err, errlen,
			     "%s:%u: %s: cannot read the link type of '%s': %s",
			     cfg->path, line, field, ifname, strerror(-type));
		return -1;
	}
	why = link_refusal(type, wan);
	if (!why)
		return 0;
	mwan_set_err(err, errlen, "%s:%u: %s: '%s' %s (README: Interfaces)",
		     cfg->path, line, field, ifname, why);
	return -1;
}

/* A mapping onto an address of the router itself would hijack the
 * router's own traffic (its probes' replies, its LAN services): refused,
 * naming the interface that has it.
 */
static int check_router_addresses(const struct mwan_config *cfg, char *err,
				  size_t errlen)
{
	struct ifaddrs *ifa, *a;
	const struct mwan_cfg_nat *n;
	char text[INET_ADDRSTRLEN];
	unsigned int w;
	int ret = 0;

	if (getifaddrs(&ifa)) {
		mwan_set_err(err, errlen,
			     "%s: cannot read the router's addresses: %s",
			     cfg->path, strerror(errno));
		return -1;
	}
	for (a = ifa; a && !ret; a = a->ifa_next) {
		struct in_addr own;

		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET)
			continue;
		own = ((const struct sockaddr_in *)a->ifa_addr)->sin_addr;
		inet_ntop(AF_INET, &own, text, sizeof(text));
		for (n = cfg->nat; n < cfg->nat + cfg->n_nat && !ret; n++) {
			if (n->internal.s_addr == own.s_addr) {
				mwan_set_err(
					err, errlen,
					"%s:%u: nat[%u].internal: address '%s' is the router's own (%s)",
					cfg->path, n->internal_line,
					(unsigned int)(n - cfg->nat), text,
					a->ifa_name);
				ret = -1;
			}
			for (w = 0; w < cfg->n_wans && !ret; w++) {
				if (!n->has_ext[w] ||
				    n->ext[w].s_addr != own.s_addr)
					continue;
				mwan_set_err(
					err, errlen,
					"%s:%u: nat[%u].external.%s: public address '%s' is the router's own (%s)",
					cfg->path, n->ext_line[w],
					(unsigned int)(n - cfg->nat),
					cfg->wans[w].name, text, a->ifa_name);
				ret = -1;
			}
		}
	}
	freeifaddrs(ifa);
	return ret;
}

int mwan_sysctl_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* The kernel's path (mwan's slow path, and the fast path's hand-offs)
 * forwards only with forwarding on, while XDP would forward anyway: the
 * two paths would disagree. Refused, with the line that fixes it.
 */
static int check_forwarding(const struct mwan_config *cfg, char *err,
			    size_t errlen)
{
	static const struct {
		const char *path, *name, *key;
	} need[2] = {
		{ "/proc/sys/net/ipv4/ip_forward", "net.ipv4.ip_forward",
		  "ipv4" },
		{ "/proc/sys/net/ipv6/conf/all/forwarding",
		  "net.ipv6.conf.all.forwarding", "ipv6" },
	};
	unsigned int i;
	int v;

	for (i = 0; i < 2; i++) {
		/* the first LAN's ipv4 line, the ipv6 one's */
		const struct mwan_cfg_lan *lan = &cfg->lans[i ? cfg->lan6 : 0];

		if (i == 1 && !cfg->has_lan6)
			break;
		v = mwan_sysctl_int(need[i].path);
		if (v == 1)
			continue;
		mwan_set_err(
			err, errlen,
			"%s:%u: %s.%s: the kernel does not forward (%s is %d), so its path would drop what XDP forwards; run: sysctl -w %s=1 (and keep it in /etc/sysctl.d)",
			cfg->path, i ? cfg->lan_ipv6_line : lan->ipv4_line,
			lan->field, need[i].key, need[i].name, v, need[i].name);
		return -1;
	}
	return 0;
}

int mwan_rp_filter(const char *ifname, int *all, int *dev)
{
	char path[64 + IF_NAMESIZE];

	*all = mwan_sysctl_int("/proc/sys/net/ipv4/conf/all/rp_filter");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter",
		 ifname);
	*dev = mwan_sysctl_int(path);
	return *all > *dev ? *all : *dev;
}

/* Strict reverse-path filtering on a WAN drops, on the kernel's path
 * only, the replies that arrive on a WAN other than the one the main
 * table routes their source by (every WAN but one): XDP would forward
 * them, the slow path would not. Refused, with the line that fixes it;
 * loose mode (2), Debian's default, and 0 are fine.
 */
static int check_rp_filter(const struct mwan_config *cfg, char *err,
			   size_t errlen)
{
	const struct mwan_cfg_wan *w;
	char dev_fix[64 + IF_NAMESIZE];
	int all, dev;

	for (w = cfg->wans; w < cfg->wans + cfg->n_wans; w++) {
		if (mwan_rp_filter(w->ifname, &all, &dev) != 1)
			continue;
		/* a VLAN's name has a dot, which sysctl's dotted form splits */
		snprintf(dev_fix, sizeof(dev_fix),
			 strchr(w->ifname, '.') ?
				 "net/ipv4/conf/%s/rp_filter=2" :
				 "net.ipv4.conf.%s.rp_filter=2",
			 w->ifname);
		mwan_set_err(
			err, errlen,
			"%s:%u: wans.%s.interface: '%s' filters by reverse path strictly (net.ipv4.conf.all.rp_filter is %d, net.ipv4.conf.%s.rp_filter is %d), so the kernel's path would drop the replies this WAN brings in while XDP forwards them; run: sysctl -w net.ipv4.conf.all.rp_filter=%d %s (loose; keep it in /etc/sysctl.d)",
			cfg->path, w->iface_line, w->name, w->ifname, all,
			w->ifname, dev, all == 1 ? 2 : all, dev_fix);
		return -1;
	}
	return 0;
}

/* The loader renames its file over this path: an existing directory
 * there would fail every write, so it is refused up front. A missing
 * parent is only logged at run time: node-exporter may come later.
 */
static int check_textfile(const struct mwan_config *cfg, char *err,
			  size_t errlen)
{
	struct yw_quoted qv;
	struct stat st;

	if (!cfg->metrics_textfile[0] || stat(cfg->metrics_textfile, &st) ||
	    !S_ISDIR(st.st_mode))
		return 0;
	mwan_set_err(err, errlen,
		     "%s:%u: metrics.textfile: names a directory '%s'",
		     cfg->path, cfg->metrics_textfile_line,
		     yw_quote(&qv, cfg->metrics_textfile));
	return -1;
}

int mwan_config_check_interfaces(const struct mwan_config *cfg, char *err,
				 size_t errlen)
{
	char field[YW_FIELD_LEN];
	unsigned int i;

	for (i = 0; i < cfg->n_lans; i++) {
		snprintf(field, sizeof(field), "%s.interface",
			 cfg->lans[i].field);
		if (check_if(cfg, cfg->lans[i].ifname, cfg->lans[i].iface_line,
			     field, false, err, errlen))
			return -1;
	}
	for (i = 0; i < cfg->n_wans; i++) {
		snprintf(field, sizeof(field), "wans.%s.interface",
			 cfg->wans[i].name);
		if (check_if(cfg, cfg->wans[i].ifname, cfg->wans[i].iface_line,
			     field, true, err, errlen))
			return -1;
	}
	if (check_router_addresses(cfg, err, errlen) ||
	    check_forwarding(cfg, err, errlen) ||
	    check_rp_filter(cfg, err, errlen))
		return -1;
	return check_textfile(cfg, err, errlen);
}
