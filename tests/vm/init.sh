#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest /init of the rampool VM test bed: sets the pools, runs the tests, powers off.
# shellcheck shell=dash

# Runs as PID 1 under busybox sh. Configuration comes from the kernel command
# line (rp.* parameters, see tests/vm/run). Everything the host needs is
# printed on the console as lines starting with "@@":
#   @@START <guest>                     init is running
#   @@BEGIN <guest> <name>              a check starts; its output follows
#   @@RESULT <guest> <name> <rc>        0 pass, 77 skip, anything else fail
#   @@INFO <guest> <text>               something worth showing on the host
#   @@TREE-BEGIN/@@TREE-END <guest>     base64 tar.gz of a recorded tree
#   @@DONE <guest> <uptime>             all checks ran; poweroff follows

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
umask 022

GUEST=unknown
POOLS=
HOLD=
SHRINK=
OVERCOMMIT=0
REQUIRE_HUGETLB=1
TEST_TIMEOUT=240
RECORD=0
RP=/rp
VM=/rp/vm

mount_all() {
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev
	mount -t tmpfs tmp /tmp
	mkdir -p /run
	mount -t tmpfs run /run
	mkdir -p /dev/shm
	mount -t tmpfs shm /dev/shm
	# Where a host's init system would mount them.
	mkdir -p /dev/hugepages
	mount -t hugetlbfs none /dev/hugepages -o pagesize=2M
	if [ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ]; then
		mkdir -p /dev/hugepages1G
		mount -t hugetlbfs none /dev/hugepages1G -o pagesize=1G
	fi
}

# The accounts every host has: the reservation tests name owners by name
# (root, nobody) and look a uid up as a host's poolctl would.
make_accounts() {
	mkdir -p /etc
	[ -e /etc/passwd ] || printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > /etc/passwd
	[ -e /etc/group ] || printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' \
		> /etc/group
}

read_cmdline() {
	# shellcheck disable=SC2013 # words are what we want
	for arg in $(cat /proc/cmdline); do
		case $arg in
		rp.guest=*)		GUEST=${arg#*=} ;;
		rp.pool=*)		POOLS=${arg#*=} ;;
		rp.hold=*)		HOLD=${arg#*=} ;;
		rp.shrink=*)		SHRINK=${arg#*=} ;;
		rp.overcommit=*)	OVERCOMMIT=${arg#*=} ;;
		rp.require_hugetlb=*)	REQUIRE_HUGETLB=${arg#*=} ;;
		rp.test_timeout=*)	TEST_TIMEOUT=${arg#*=} ;;
		rp.record=*)		RECORD=${arg#*=} ;;
		esac
	done
}

uptime_s() {
	read -r up _ < /proc/uptime
	echo "$up"
}

info() {
	echo "@@INFO $GUEST $*"
}

# check NAME COMMAND...: run one check, its output framed by markers.
check() {
	local name=$1 rc
	shift
	echo "@@BEGIN $GUEST $name"
	"$@" < /dev/null 2>&1
	rc=$?
	echo "@@RESULT $GUEST $name $rc"
	return 0
}

run_func() {
	local rc
	(cd "$RP" && RAMPOOL_TEST_REQUIRE_HUGETLB=$REQUIRE_HUGETLB \
		timeout -s KILL "$TEST_TIMEOUT" "$1")
	rc=$?
	if [ "$rc" -eq 137 ]; then
		echo "killed (SIGKILL) after at most ${TEST_TIMEOUT}s"
	fi
	return "$rc"
}

# Every counter a test could leave changed, and files left in hugetlbfs.
hugetlb_state() {
	local d f n
	for d in /sys/kernel/mm/hugepages/hugepages-*; do
		for f in nr free resv surplus nr_overcommit; do
			echo "${d##*/} ${f}_hugepages $(cat "$d/${f}_hugepages")"
		done
	done
	for d in /sys/devices/system/node/node*/hugepages/hugepages-*; do
		n=${d#/sys/devices/system/node/}
		n=${n%%/*}
		for f in nr free surplus; do
			echo "$n ${d##*/} ${f}_hugepages $(cat "$d/${f}_hugepages")"
		done
	done
	find /dev/hugepages /dev/hugepages1G -type f 2>/dev/null |
		sed 's/^/file left: /'
}

check_leftovers() {
	hugetlb_state > /tmp/hugetlb.after
	if diff -u /tmp/hugetlb.before /tmp/hugetlb.after; then
		echo "ok: hugetlb counters and hugetlbfs files as before the tests"
		return 0
	fi
	echo "the functional tests left the hugetlb state changed (above)"
	return 1
}

run_func_tests() {
	local t n=0
	hugetlb_state > /tmp/hugetlb.before
	for t in "$RP"/tests/func/*; do
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then
			continue
		fi
		case ${t##*/} in
		inject_res)
			# hundreds of reservations under TCG pass the per-test
			# limit, and nothing in it depends on the nodes: the
			# host's make check runs it
			info "${t##*/}: left to the host's make check"
			continue ;;
		esac
		n=$((n + 1))
		check "${t##*/}" run_func "$t"
	done
	if [ "$n" -eq 0 ]; then
		info "no functional tests in tests/func"
		return
	fi
	check func-leftovers check_leftovers
	# Start the NUMA suite from the pools it expects either way.
	if ! cmp -s /tmp/hugetlb.before /tmp/hugetlb.after; then
		set_pools > /dev/null 2>&1
		info "pools set again to $POOLS after the functional tests"
	fi
}

main() {
	mount_all
	make_accounts
	exec < /dev/console > /dev/console 2>&1
	read_cmdline
	echo "@@START $GUEST $(uptime_s)"
	info "kernel $(uname -r), cmdline: $(cat /proc/cmdline)"
	export LD_LIBRARY_PATH="$RP"
	export PATH="$RP:$PATH"
	export POOLCTL="$RP/poolctl"
	# tools the guest does not carry (promtool) are checked on the host
	export RAMPOOL_TEST_IN_GUEST=1
	. "$VM/numa_suite.sh"

	check numa-pools set_pools
	run_func_tests
	numa_suite

	echo "@@DONE $GUEST $(uptime_s)"
}

main
sync
poweroff -f
# Not reached unless poweroff failed; PID 1 must not return.
echo o > /proc/sysrq-trigger
sleep 5
