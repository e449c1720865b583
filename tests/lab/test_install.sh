#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install tests: make install/uninstall, the systemd unit (systemd-analyze verify), the man pages, the Debian package.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UNIT=mwan-loader.service
DEB_TIMEOUT=900 # seconds for the one full package build
# What `make install PREFIX=/usr` installs, relative to DESTDIR, with modes.
EXPECTED=(
	"755 usr/sbin/mwan-loader"
	"755 usr/sbin/bpfctl"
	"644 usr/lib/mwan/mwan.bpf.o"
	"755 usr/lib/mwan/mwan-dhcpcd-hook"
	"755 usr/lib/mwan/mwan-odhcp6c-script"
	"644 lib/systemd/system/$UNIT"
	"644 etc/mwan/mwan.yaml"
	"644 usr/share/man/man8/mwan-loader.8"
	"644 usr/share/man/man8/bpfctl.8"
	"644 usr/share/man/man5/mwan.yaml.5"
)
MANS=(man/mwan-loader.8 man/bpfctl.8 man/mwan.yaml.5)

# Set in main (checks run in subshells: what they set does not last).
WORK= # every file this test makes lives under it
NS=   # the network namespace of the example-config check
DEST= # make install DESTDIR (PREFIX=/usr)
SRC=  # the copy of the tree the package is built in
DEB=  # the .deb that build makes

install_cleanup() {
	local rc=$? pid i
	trap - EXIT
	if [[ -n $WORK && -f $WORK/build.pid ]]; then
		pid=$(cat "$WORK/build.pid")
		kill -TERM "$pid" 2>/dev/null || true # timeout passes it on to the build
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	[[ -z $NS ]] || ip netns del "$NS" 2>/dev/null || true
	[[ -z $WORK ]] || rm -rf "$WORK"
	exit "$rc"
}

# run_make LOG ARGS...: make in the repository, output in LOG; on failure
# its tail and the reason.
run_make() {
	local log=$1 rc=0
	shift
	make -C "$LAB_REPO" --no-print-directory "$@" >"$log" 2>&1 || rc=$?
	((rc == 0)) && return 0
	tail -n 12 "$log"
	fail "make $* exited with status $rc"
}

# tree_listing DIR: "MODE PATH" for every non-directory under DIR, sorted.
tree_listing() { (cd "$1" && find . ! -type d -printf '%m %P\n' | LC_ALL=C sort -k2); }

# unit_value FILE KEY: the value of the first KEY= line.
unit_value() { sed -n "s/^$2=//p" "$1" | head -n 1; }

# ---- make install / uninstall -------------------------------------------------------

check_install() {
	local want got unit f
	run_make "$WORK/install.log" install DESTDIR="$DEST" PREFIX=/usr
	want=$(printf '%s\n' "${EXPECTED[@]}" | LC_ALL=C sort -k2)
	got=$(tree_listing "$DEST")
	if [[ $got != "$want" ]]; then
		diff <(echo "$want") <(echo "$got") | grep '^[<>]' || true
		fail "installed files or modes differ from the list (< missing, > unexpected)"
	fi
	for f in mwan-loader bpfctl; do
		cmp -s "$LAB_REPO/build/$f" "$DEST/usr/sbin/$f" || fail "usr/sbin/$f is not build/$f"
	done
	cmp -s "$LAB_REPO/build/mwan.bpf.o" "$DEST/usr/lib/mwan/mwan.bpf.o" ||
		fail "usr/lib/mwan/mwan.bpf.o is not build/mwan.bpf.o"
	cmp -s "$LAB_REPO/examples/mwan.yaml" "$DEST/etc/mwan/mwan.yaml" ||
		fail "etc/mwan/mwan.yaml is not examples/mwan.yaml"
	unit=$DEST/lib/systemd/system/$UNIT
	! grep -n '@[A-Z]*@' "$unit" || fail "placeholders left in the installed unit"
	[[ $(unit_value "$unit" ExecStart) == "/usr/sbin/mwan-loader -c /etc/mwan/mwan.yaml" ]] ||
		fail "ExecStart= is '$(unit_value "$unit" ExecStart)'"
	[[ $(unit_value "$unit" ExecStartPre) == "/usr/sbin/mwan-loader -c /etc/mwan/mwan.yaml --check" ]] ||
		fail "ExecStartPre= is '$(unit_value "$unit" ExecStartPre)'"
	echo "${#EXPECTED[@]} files; ExecStart=$(unit_value "$unit" ExecStart)"
}

check_config_kept() {
	local conf=$DEST/etc/mwan/mwan.yaml before
	[[ -f $conf ]] || fail "no installed config to edit"
	echo "# edited by test_install.sh" >>"$conf"
	before=$(sha256sum <"$conf")
	run_make "$WORK/install2.log" install DESTDIR="$DEST" PREFIX=/usr
	[[ $(sha256sum <"$conf") == "$before" ]] || fail "a second make install replaced the edited config"
	grep -q "keeping existing" "$WORK/install2.log" || fail "make install did not say it kept the config"
	grep "keeping existing" "$WORK/install2.log"
}

# The default PREFIX (/usr/local): unit next to it, naming the binary there.
check_default_prefix() {
	local d=$WORK/local unit f
	run_make "$WORK/install-local.log" install DESTDIR="$d"
	for f in usr/local/sbin/mwan-loader usr/local/sbin/bpfctl usr/local/lib/mwan/mwan.bpf.o \
		usr/local/lib/systemd/system/$UNIT usr/local/share/man/man8/bpfctl.8 etc/mwan/mwan.yaml; do
		[[ -f $d/$f ]] || fail "missing $f"
	done
	unit=$d/usr/local/lib/systemd/system/$UNIT
	[[ $(unit_value "$unit" ExecStart) == "/usr/local/sbin/mwan-loader -c /etc/mwan/mwan.yaml" ]] ||
		fail "ExecStart= is '$(unit_value "$unit" ExecStart)'"
	echo "ExecStart=$(unit_value "$unit" ExecStart)"
}

check_uninstall() {
	local d=$WORK/local left
	[[ -d $d ]] || fail "nothing installed under $d"
	run_make "$WORK/uninstall.log" uninstall DESTDIR="$d"
	left=$(tree_listing "$d")
	[[ $left == "644 etc/mwan/mwan.yaml" ]] || fail "left behind: $(tr '\n' ' ' <<<"$left")"
	echo "only etc/mwan/mwan.yaml is left"
}

# ---- the systemd unit ---------------------------------------------------------------

# verify_root ROOT: systemd-analyze verify on ROOT's unit, silent and
# successful. It also resolves the Exec*= binaries inside ROOT.
verify_root() {
	local out rc=0
	out=$(systemd-analyze verify --man=no --root="$1" "$UNIT" 2>&1) || rc=$?
	echo "$out"
	((rc == 0)) || return 1
	[[ -z $out ]]
}

# verify_copy NAME: a copy of the installed tree (plus /bin/kill, which
# ExecReload= names) to verify or break.
verify_copy() {
	local root=$WORK/verify-$1
	rm -rf "$root"
	cp -a "$DEST" "$root"
	install -D -m 0755 "$(type -P kill)" "$root/bin/kill"
	echo "$root"
}

check_verify() {
	local root
	[[ -f $DEST/lib/systemd/system/$UNIT ]] || fail "no installed unit"
	root=$(verify_copy ok)
	verify_root "$root" || fail "systemd-analyze verify complains about the installed unit"
	echo "systemd-analyze verify --root: clean"
}

# The same verification must fail on broken copies, or it proves nothing.
check_verify_catches() {
	local root out
	[[ -f $DEST/lib/systemd/system/$UNIT ]] || fail "no installed unit"
	root=$(verify_copy typo)
	sed -i 's/^NoNewPrivileges=/NoNewPrivilege=/' "$root/lib/systemd/system/$UNIT"
	grep -q '^NoNewPrivilege=' "$root/lib/systemd/system/$UNIT" || fail "could not break the unit"
	! out=$(verify_root "$root") || fail "a misspelled directive passed verification"
	grep -q "NoNewPrivilege" <<<"$out" || fail "the complaint does not name the directive: $out"
	root=$(verify_copy nobin)
	rm "$root/usr/sbin/mwan-loader"
	! verify_root "$root" >/dev/null || fail "a missing ExecStart= binary passed verification"
	echo "caught: $(head -n 1 <<<"$out")"
}

# ---- man pages ----------------------------------------------------------------------

check_man_render() {
	local m out
	for m in "${MANS[@]}"; do
		out=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$LAB_REPO/$m" 2>&1 >/dev/null) ||
			fail "man -l $m failed: $out"
		[[ -z $out ]] || fail "$m: $out"
		[[ $(MANWIDTH=80 man -E UTF-8 -l "$LAB_REPO/$m" 2>/dev/null | wc -l) -gt 40 ]] ||
			fail "$m renders to almost nothing"
	done
	echo "${#MANS[@]} pages, no warnings"
}

# man_text PAGE: rendered, unhyphenated, on one line (phrases do not break).
man_text() {
	MANWIDTH=1000 MANROFFOPT=-rHY=0 man -E UTF-8 -l "$LAB_REPO/$1" 2>/dev/null |
		sed 's/‐/-/g' | tr -s ' \n' '  '
}

# man_has PAGE WORD...: every WORD appears in PAGE's text.
man_has() {
	local page=$1 text w missing=()
	shift
	text=$(man_text "$page")
	for w in "$@"; do
		[[ $text == *"$w"* ]] || missing+=("$w")
	done
	((${#missing[@]} == 0)) || fail "$page does not mention: ${missing[*]}"
}

# man_tags PAGE [SECTION]: the tag lines of PAGE's tagged paragraphs (.TP),
# of one section or all, unescaped and without quotes and font changes.
man_tags() {
	awk -v sec="${2:-}" '/^\.SH/ { on = sec == "" || $2 == sec; prev = ""; next }
		on && prev == ".TP" { print } { prev = $0 }' "$LAB_REPO/$1" |
		sed 's/\\-/-/g; s/\\f[BIRP]//g; s/"//g; s/^\.[A-Z]* //'
}

# need_tags PAGE WHAT TAGS WORD...: every WORD is in TAGS (one per line).
need_tags() {
	local page=$1 what=$2 tags=$3 w missing=()
	shift 3
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$tags" || missing+=("$w")
	done
	((${#missing[@]} == 0)) || fail "$page has no entry for the $what: ${missing[*]}"
}

# long_options FILE: --NAME for every entry of FILE's struct option table.
long_options() {
	sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", [a-z_]*_argument.*/--\1/p' "$LAB_REPO/$1"
}

check_man_loader() {
	local opts
	mapfile -t opts < <(long_options loader/main.c)
	((${#opts[@]} >= 5)) || fail "found only ${#opts[@]} options in loader/main.c"
	need_tags mwan-loader.8 options "$(man_tags man/mwan-loader.8 OPTIONS | grep -oE -- '--[a-z-]+')" \
		"${opts[@]}"
	need_tags mwan-loader.8 signals "$(man_tags man/mwan-loader.8 SIGNALS | tr -cs '[:upper:]' '\n')" \
		SIGTERM SIGINT SIGHUP
	man_has man/mwan-loader.8 "-c FILE" "leave the dataplane attached and forwarding" "frozen" \
		"layout version" "atomically" "Type=notify" "WATCHDOG=1" "READY=1" "RELOADING=1" \
		"STOPPING=1" "fwmark" "9000" "27900" /etc/mwan/mwan.yaml /run/mwan/control \
		/run/mwan/status /sys/fs/bpf/mwan "journalctl" "EXIT STATUS" "SEE ALSO"
	echo "options: ${opts[*]}"
}

check_man_bpfctl() {
	local cmds opts
	# every command and long option of bpfctl, from its tables
	mapfile -t cmds < <(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", cmd_.*/\1/p' "$LAB_REPO/ctl/bpfctl.c" | sort -u)
	mapfile -t opts < <(long_options ctl/bpfctl.c)
	((${#cmds[@]} >= 8)) || fail "found only ${#cmds[@]} commands in ctl/bpfctl.c"
	need_tags bpfctl.8 commands "$(man_tags man/bpfctl.8 COMMANDS | cut -d' ' -f1)" "${cmds[@]}"
	need_tags bpfctl.8 options "$(man_tags man/bpfctl.8 OPTIONS | grep -oE -- '--[a-z-]+')" "${opts[@]}"
	man_has man/bpfctl.8 "stats [--prometheus]" "Prometheus text" "reload" \
		"pd WAN PREFIX/LEN" "wan NAME up|down|auto" "wan-of IFNAME" "EXIT STATUS" "EXAMPLES"
	echo "commands: ${cmds[*]}; options: ${opts[*]}"
}

check_man_yaml() {
	local keys
	# every key the parser knows
	mapfile -t keys < <(grep -o '\.key = "[a-z_0-9]*"' "$LAB_REPO/lib/config.c" |
		sed 's/.*"\(.*\)"/\1:/' | sort -u)
	((${#keys[@]} >= 30)) || fail "found only ${#keys[@]} keys in lib/config.c"
	need_tags mwan.yaml.5 keys "$(man_tags man/mwan.yaml.5 | cut -d' ' -f1)" "${keys[@]}"
	man_has man/mwan.yaml.5 "metrics:" "textfile:" "interval:" "Default: 15" \
		"atomically" "node-exporter" "EXAMPLE"
	echo "${#keys[@]} keys"
}

# The full example of mwan.yaml(5) passes --check (with its interfaces).
check_man_example() {
	local ex=$WORK/example.yaml ifs i out
	MANWIDTH=200 man -E UTF-8 -l "$LAB_REPO/man/mwan.yaml.5" 2>/dev/null |
		awk '/^EXAMPLE/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
		sed -n '/^ *pin_dir:/,$p' >"$ex.raw"
	[[ -s $ex.raw ]] || fail "no example found in mwan.yaml(5)"
	i=$(head -n 1 "$ex.raw" | sed 's/[^ ].*//' | wc -c)
	cut -c "$i"- "$ex.raw" | sed 's/‐/-/g' >"$ex"
	mapfile -t ifs < <(sed -n 's/^ *interface: *//p' "$ex")
	((${#ifs[@]} >= 2)) || fail "the example names ${#ifs[@]} interfaces"
	ip netns add "$NS"
	# a router forwards (the loader checks it)
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for i in "${ifs[@]}"; do
		ip -n "$NS" link add "$i" type veth peer name "p-$i"
	done
	out=$(ip netns exec "$NS" "$LAB_LOADER" -c "$ex" --check 2>&1) || fail "$out"
	ip netns del "$NS"
	echo "$out"
}

# ---- the Debian package -------------------------------------------------------------

# copy_tree DIR: the repository's files (tracked and new, not ignored: no
# build/, results/ or .git) into DIR, as a clean checkout would have them.
copy_tree() {
	mkdir -p "$1"
	if git -C "$LAB_REPO" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$LAB_REPO" ls-files -z -co --exclude-standard |
			(cd "$LAB_REPO" && while IFS= read -r -d '' f; do
				if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi # not deleted
			done) |
			tar -C "$LAB_REPO" -cf - --null -T - | tar -C "$1" -xf -
	else
		tar -C "$LAB_REPO" --exclude=./build --exclude=./results --exclude=./.git -cf - . |
			tar -C "$1" -xf -
	fi
}

check_deb_build() {
	local rc=0
	copy_tree "$SRC"
	[[ ! -e $SRC/build ]] || fail "the copy has a build/ directory"
	# the source package too (quick): format and version must agree
	(cd "$WORK/src" && dpkg-source --build mwan) >"$WORK/source.log" 2>&1 ||
		fail "dpkg-source --build: $(tail -n 1 "$WORK/source.log")"
	# timeout runs the build in a process group of its own, which a Ctrl-C
	# of the test does not reach: install_cleanup stops it through its pid.
	(cd "$SRC" && exec timeout "$DEB_TIMEOUT" dpkg-buildpackage -us -uc -b -J"$(nproc)") \
		>"$WORK/deb.log" 2>&1 &
	echo $! >"$WORK/build.pid"
	wait $! || rc=$?
	rm -f "$WORK/build.pid"
	if ((rc != 0)); then
		grep -iE 'error|warning:' "$WORK/deb.log" | tail -n 8 || true
		tail -n 8 "$WORK/deb.log"
		((rc != 124)) || fail "dpkg-buildpackage still running after $DEB_TIMEOUT s"
		fail "dpkg-buildpackage -us -uc -b exited with status $rc"
	fi
	[[ -f $DEB ]] || fail "no $(basename "$DEB"): $(cd "$WORK/src" && echo ./*.deb)"
	basename "$DEB"
}

check_deb_contents() {
	local list f info unit x=$WORK/deb-root
	[[ -f $DEB ]] || fail "no package was built"
	list=$(dpkg-deb -c "$DEB")
	for f in ./usr/sbin/mwan-loader ./usr/sbin/bpfctl ./usr/lib/mwan/mwan.bpf.o \
		./usr/lib/mwan/mwan-dhcpcd-hook ./usr/lib/mwan/mwan-odhcp6c-script \
		./lib/systemd/system/$UNIT ./etc/mwan/mwan.yaml \
		./usr/share/man/man8/mwan-loader.8.gz ./usr/share/man/man8/bpfctl.8.gz \
		./usr/share/man/man5/mwan.yaml.5.gz; do
		grep -qE " $f\$" <<<"$list" || fail "the package lacks $f"
	done
	grep -qE '^-rwxr-xr-x .* \./usr/sbin/mwan-loader$' <<<"$list" || fail "mwan-loader is not 0755"
	info=$(dpkg-deb -I "$DEB" conffiles) || fail "the package has no conffiles"
	grep -qx /etc/mwan/mwan.yaml <<<"$info" || fail "conffiles: $info"
	dpkg-deb -f "$DEB" Depends | grep -q iproute2 || fail "Depends lacks iproute2"
	# maintainer scripts: not started on install, try-restart on upgrade,
	# dataplane removed on removal
	info=$(dpkg-deb -I "$DEB" postinst)
	grep -q 'try-restart' <<<"$info" || fail "postinst does not restart the service on upgrade"
	! grep -q '_dh_action=start' <<<"$info" || fail "postinst starts the service on install"
	dpkg-deb -I "$DEB" prerm | grep -q -- '--cleanup' || fail "prerm does not clean the dataplane up"
	dpkg-deb -x "$DEB" "$x"
	unit=$x/lib/systemd/system/$UNIT
	[[ $(unit_value "$unit" ExecStart) == "/usr/sbin/mwan-loader -c /etc/mwan/mwan.yaml" ]] ||
		fail "the package's unit has ExecStart=$(unit_value "$unit" ExecStart)"
	readelf -d "$x/usr/sbin/mwan-loader" | grep -q BIND_NOW || fail "mwan-loader is not linked with -z now"
	echo "$(grep -c . <<<"$list") entries; conffile /etc/mwan/mwan.yaml"
}

# Nothing of the package build lands in or next to the repository.
check_tree_clean() {
	local f left=()
	for f in debian/mwan debian/.debhelper debian/files debian/debhelper-build-stamp \
		debian/mwan.substvars; do
		[[ ! -e $LAB_REPO/$f ]] || left+=("$f")
	done
	for f in "$LAB_REPO"/../mwan_*; do
		[[ ! -e $f ]] || left+=("$f")
	done
	((${#left[@]} == 0)) || fail "left behind: ${left[*]}"
}

main() {
	t_install_traps
	trap install_cleanup EXIT
	T_PREFIX=install
	WORK=$(mktemp -d /tmp/mwan-install.XXXXXX)
	DEST=$WORK/dest
	NS=mwi$$-example
	SRC=$WORK/src/mwan
	DEB=$WORK/src/mwan_$(dpkg-parsechangelog -l "$LAB_REPO/debian/changelog" -S Version)_$(dpkg --print-architecture).deb
	check "make install DESTDIR PREFIX=/usr installs exactly the expected files" check_install
	check "a second make install keeps an edited /etc/mwan/mwan.yaml" check_config_kept
	check "make install with the default PREFIX=/usr/local" check_default_prefix
	check "make uninstall removes everything but the config" check_uninstall
	check "systemd-analyze verify passes on the installed unit" check_verify
	check "systemd-analyze verify catches a misspelled directive and a missing binary" \
		check_verify_catches
	check "man pages render without warnings" check_man_render
	check "mwan-loader(8) documents options, signals, restarts, systemd, files" check_man_loader
	check "bpfctl(8) documents every command and option" check_man_bpfctl
	check "mwan.yaml(5) documents every config key and metrics" check_man_yaml
	check "the example in mwan.yaml(5) passes --check" check_man_example
	check "dpkg-buildpackage -us -uc -b builds the package from a copy of the tree" check_deb_build
	check "the package has the files, conffile and maintainer scripts" check_deb_contents
	check "the package build leaves nothing in or next to the tree" check_tree_clean
	exit $((T_FAILED > 0))
}

main "$@"
