# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make install / make uninstall, included from the Makefile.
#
#   make install [DESTDIR=/tmp/stage] [PREFIX=/usr/local] [SYSCONFDIR=/etc]
#
# The loader finds its BPF object as $(SBINDIR)/../lib/mwan/mwan.bpf.o: keep
# MWAN_LIBDIR there, or it falls back to the copy built into it.
# The example config is installed only when there is none: an existing
# $(SYSCONFDIR)/mwan/mwan.yaml is never overwritten (nor removed by
# uninstall).

PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR ?= $(PREFIX)/sbin
MWAN_LIBDIR ?= $(PREFIX)/lib/mwan
MANDIR ?= $(PREFIX)/share/man
ifeq ($(PREFIX),/usr)
SYSTEMDUNITDIR ?= /lib/systemd/system
else
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif
INSTALL ?= install

MAN8 := man/mwan-loader.8 man/bpfctl.8
MAN5 := man/mwan.yaml.5
HOOKS := hooks/mwan-dhcpcd-hook hooks/mwan-odhcp6c-script
UNIT := mwan-loader.service
MWAN_CONF := $(DESTDIR)$(SYSCONFDIR)/mwan/mwan.yaml

.PHONY: install uninstall

# The unit is generated straight into place, so a different SBINDIR never
# meets a stale copy.
install: all
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MWAN_LIBDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/mwan
	$(INSTALL) -m 0755 $(B)/mwan-loader $(B)/bpfctl $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 $(B)/mwan.bpf.o $(DESTDIR)$(MWAN_LIBDIR)/
	$(INSTALL) -m 0755 $(HOOKS) $(DESTDIR)$(MWAN_LIBDIR)/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		systemd/$(UNIT) >$(DESTDIR)$(SYSTEMDUNITDIR)/$(UNIT).tmp
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$(UNIT).tmp
	mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/$(UNIT).tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$(UNIT)
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	@if [ -e $(MWAN_CONF) ]; then \
		echo "install: keeping existing $(MWAN_CONF)"; \
	else \
		echo "$(INSTALL) -m 0644 examples/mwan.yaml $(MWAN_CONF)"; \
		$(INSTALL) -m 0644 examples/mwan.yaml $(MWAN_CONF); \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mwan-loader $(DESTDIR)$(SBINDIR)/bpfctl
	rm -f $(DESTDIR)$(MWAN_LIBDIR)/mwan.bpf.o $(HOOKS:hooks/%=$(DESTDIR)$(MWAN_LIBDIR)/%)
	rmdir $(DESTDIR)$(MWAN_LIBDIR) 2>/dev/null || true
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/$(UNIT)
	rm -f $(MAN8:man/%=$(DESTDIR)$(MANDIR)/man8/%) $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%)
	@echo "uninstall: left $(MWAN_CONF) in place"
