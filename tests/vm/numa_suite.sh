# SPDX-License-Identifier: LGPL-2.1-or-later
# NUMA checks the guest init runs after the functional tests (sourced by init.sh).
# shellcheck shell=dash

# shellcheck disable=SC2153 # the settings below come from init.sh
# Uses from init.sh: GUEST POOLS HOLD SHRINK OVERCOMMIT RECORD VM POOLCTL
# REQUIRE_HUGETLB, and check/info. Each check_* / *_holders function is one
# check: output explains, the return status is the result.

NODE=/sys/devices/system/node
GHP=/sys/kernel/mm/hugepages
HOLD_PID=
SHRUNK=
OLD_OVERCOMMIT=

node_ids() {
	local d
	for d in "$NODE"/node[0-9]*; do
		[ -d "$d" ] && echo "${d##*/node}"
	done | sort -n
}

# Page sizes in kB of the hugepages-*kB folders under $1, ascending.
sizes_kb() {
	local d s
	for d in "$1"/hugepages-*kB; do
		[ -d "$d" ] || continue
		s=${d##*/hugepages-}
		echo "${s%kB}"
	done | sort -n
}

node_2m() {
	echo "$NODE/node$1/hugepages/hugepages-2048kB"
}

set_pools() {
	local spec node count got fail=0 n line asked
	if [ -z "$POOLS" ]; then
		echo "no rp.pool= given, pools left as booted"
		return 0
	fi
	for spec in $(echo "$POOLS" | tr , ' '); do
		node=${spec%%:*}
		count=${spec#*:}
		echo "$count" > "$(node_2m "$node")/nr_hugepages" || fail=1
	done
	for spec in $(echo "$POOLS" | tr , ' '); do
		node=${spec%%:*}
		count=${spec#*:}
		got=$(cat "$(node_2m "$node")/nr_hugepages")
		if [ "$got" = "$count" ]; then
			echo "node $node: $got 2M pages"
		else
			echo "node $node: asked for $count 2M pages, got $got"
			fail=1
		fi
	done
	if [ -d "$GHP/hugepages-1048576kB" ]; then
		line=
		for n in $(node_ids); do
			line="$line node$n=$(cat "$NODE/node$n/hugepages/hugepages-1048576kB/nr_hugepages")"
		done
		asked=$(sed -n 's/.*hugepagesz=1G hugepages=\([^ ]*\).*/\1/p' /proc/cmdline)
		info "1G pages per node:$line (asked for: ${asked:-none})"
	fi
	return $fail
}

# What poolctl status -J must say, read straight from sysfs, in the form
# json_norm prints.
expect_status() {
	local n kb d
	for n in $(node_ids); do
		echo "node $n"
		for kb in $(sizes_kb "$NODE/node$n/hugepages"); do
			d=$NODE/node$n/hugepages/hugepages-${kb}kB
			echo "pool $n $((kb * 1024)) $(cat "$d/nr_hugepages") $(cat "$d/free_hugepages") $(cat "$d/surplus_hugepages")"
		done
	done
	for kb in $(sizes_kb "$GHP"); do
		d=$GHP/hugepages-${kb}kB
		echo "global $((kb * 1024)) $(cat "$d/nr_hugepages") $(cat "$d/free_hugepages") $(cat "$d/resv_hugepages") $(cat "$d/surplus_hugepages") $(cat "$d/nr_overcommit_hugepages")"
	done
}

check_status() {
	local i
	for i in 1 2 3; do
		expect_status > /tmp/st.expect
		if ! "$POOLCTL" status -J > /tmp/st.json 2> /tmp/st.err; then
			echo "poolctl status -J failed:"
			cat /tmp/st.err
			return 1
		fi
		expect_status > /tmp/st.expect2
		cmp -s /tmp/st.expect /tmp/st.expect2 && break
		echo "sysfs changed while poolctl ran, reading again"
	done
	echo "sysfs: node N / pool N size total free surplus / global size total free resv surplus overcommit"
	sed 's/^/  /' /tmp/st.expect
	if ! "$VM/json_norm" status /tmp/st.json > /tmp/st.got; then
		echo "poolctl printed:"
		cat /tmp/st.json
		return 1
	fi
	if ! diff -u /tmp/st.expect /tmp/st.got; then
		echo "poolctl status -J differs from sysfs (-sysfs +poolctl); it printed:"
		cat /tmp/st.json
		return 1
	fi
	# The comparison must be able to fail: change one count and look.
	sed 's/"free_pages": *\([0-9]\)/"free_pages":9\1/' /tmp/st.json > /tmp/st.bad
	"$VM/json_norm" status /tmp/st.bad > /tmp/st.badgot 2>&1
	if cmp -s /tmp/st.expect /tmp/st.badgot; then
		echo "self-check: a changed free_pages went unnoticed"
		return 1
	fi
	echo "ok: poolctl status -J equals sysfs for every node and page size"
	return 0
}

# Copy (cat) the files a capacity reader needs into $1, as the fixtures.
record_tree() {
	local dest=$1 f d h n
	rec() {
		mkdir -p "$dest/${1%/*}"
		cat "/$1" > "$dest/$1"
	}
	rm -rf "$dest"
	rec proc/meminfo
	rec proc/mounts
	rec proc/cmdline
	for f in online possible; do
		rec sys/devices/system/cpu/$f
	done
	for f in online possible has_cpu has_memory has_normal_memory; do
		rec sys/devices/system/node/$f
	done
	for n in $(node_ids); do
		d=sys/devices/system/node/node$n
		for f in cpulist cpumap meminfo numastat distance; do
			rec "$d/$f"
		done
		for h in /"$d"/hugepages/hugepages-*; do
			[ -d "$h" ] || continue
			for f in nr free surplus; do
				rec "${h#/}/${f}_hugepages"
			done
		done
	done
	for h in "$GHP"/hugepages-*; do
		for f in nr free resv surplus nr_overcommit; do
			rec "${h#/}/${f}_hugepages"
		done
		rec "${h#/}/nr_hugepages_mempolicy"
	done
}

# Print "path=value" lines of $1 with the paths listed in $2 masked as "*".
mask_paths() {
	awk 'NR == FNR { vol[$0] = 1; next }
	     { p = substr($0, 1, index($0, "=") - 1)
	       if (p in vol) print p "=*"; else print }' "$2" "$1"
}

check_sysroot() {
	local t=/tmp/tree
	if ! "$POOLCTL" status -J > /tmp/live1.json 2> /tmp/live.err; then
		echo "poolctl status -J failed:"
		cat /tmp/live.err
		return 1
	fi
	record_tree "$t"
	"$POOLCTL" status -J > /tmp/live2.json 2> /tmp/live.err
	if ! "$POOLCTL" --sysroot "$t" status -J > /tmp/replay.json 2> /tmp/replay.err; then
		echo "poolctl --sysroot $t status -J failed:"
		cat /tmp/replay.err
		return 1
	fi
	echo "recorded $(find "$t" -type f | wc -l) files into $t"

	"$VM/json_norm" status /tmp/live1.json > /tmp/live1.st || return 1
	"$VM/json_norm" status /tmp/replay.json > /tmp/replay.st || return 1
	if ! diff -u /tmp/live1.st /tmp/replay.st; then
		echo "pools differ between live (-) and --sysroot replay (+)"
		return 1
	fi

	# usage[] is the pool's ledger on this host: a replay of a recorded
	# tree has none (status prints it live only)
	"$VM/json_norm" flat /tmp/live1.json | grep -v '^usage\[' > /tmp/live1.flat || return 1
	"$VM/json_norm" flat /tmp/replay.json | grep -v '^usage\[' > /tmp/replay.flat || return 1
	if cmp -s /tmp/live1.json /tmp/live2.json &&
	   cmp -s /tmp/live1.json /tmp/replay.json; then
		echo "ok: --sysroot replay prints exactly what the live run printed ($(wc -c < /tmp/live1.json) bytes)"
		return 0
	fi

	# Free memory moves all the time, also while the tree is recorded and
	# back between the two live reads: those keys, and any other key that
	# moved between the live reads, are compared by presence; the hugepage
	# pools were compared exactly above.
	"$VM/json_norm" flat /tmp/live2.json | grep -v '^usage\[' > /tmp/live2.flat || return 1
	{
		diff /tmp/live1.flat /tmp/live2.flat |
			sed -n 's/^[-+]\([^-+][^=]*\)=.*/\1/p'
		sed -n 's/^\([^=]*\.\(mem_free\|mem_available\|shmem\)\)=.*/\1/p' \
			/tmp/live1.flat
	} | sort -u > /tmp/volatile
	echo "compared by presence only (free memory, or moved between two live reads):" \
		"$(tr '\n' ' ' < /tmp/volatile)"
	mask_paths /tmp/live1.flat /tmp/volatile > /tmp/live1.masked
	mask_paths /tmp/replay.flat /tmp/volatile > /tmp/replay.masked
	if ! diff -u /tmp/live1.masked /tmp/replay.masked; then
		echo "live (-) and --sysroot replay (+) differ"
		return 1
	fi
	echo "ok: --sysroot replay equals the live run in every key that was stable"
	return 0
}

emit_tree() {
	echo "@@TREE-BEGIN $GUEST"
	tar -C /tmp/tree -czf - . | base64
	echo "@@TREE-END $GUEST"
}

start_holders() {
	local specs spec n f big="" i
	specs=$(echo "$HOLD" | tr , ' ')
	# One populated 1G page on the last node that has a free one.
	for n in $(node_ids); do
		f=$NODE/node$n/hugepages/hugepages-1048576kB/free_hugepages
		if [ -r "$f" ] && [ "$(cat "$f")" -ge 1 ]; then
			big=$n
		fi
	done
	[ -n "$big" ] && specs="$specs $big:1:0:1024"

	OLD_OVERCOMMIT=$(cat "$GHP/hugepages-2048kB/nr_overcommit_hugepages")
	echo "$OVERCOMMIT" > "$GHP/hugepages-2048kB/nr_overcommit_hugepages"
	echo "2M nr_overcommit_hugepages: $OVERCOMMIT"

	if [ -n "$specs" ]; then
		echo "holding (node:populated:reserved[:MiB page]): $specs"
		# shellcheck disable=SC2086 # one argument per spec
		"$VM/hold" $specs > /tmp/hold.out 2>&1 &
		HOLD_PID=$!
		i=0
		until grep -q '^ready' /tmp/hold.out; do
			if ! kill -0 "$HOLD_PID" 2>/dev/null || [ $i -ge 240 ]; then
				cat /tmp/hold.out
				echo "holder did not get ready"
				return 1
			fi
			i=$((i + 1))
			sleep 0.5
		done
	fi

	# Shrinking a pool under pages in use turns them into surplus pages.
	SHRUNK=
	for spec in $(echo "$SHRINK" | tr , ' '); do
		n=${spec%%:*}
		SHRUNK="$SHRUNK $n:$(cat "$(node_2m "$n")/nr_hugepages")"
		echo "${spec#*:}" > "$(node_2m "$n")/nr_hugepages"
		echo "node $n: 2M pool shrunk to ${spec#*:}: nr $(cat "$(node_2m "$n")/nr_hugepages") free $(cat "$(node_2m "$n")/free_hugepages") surplus $(cat "$(node_2m "$n")/surplus_hugepages")"
	done
	return 0
}

stop_holders() {
	local spec n f want got fail=0
	if [ -n "$HOLD_PID" ]; then
		kill "$HOLD_PID" 2>/dev/null
		wait "$HOLD_PID" 2>/dev/null
		HOLD_PID=
	fi
	for spec in $SHRUNK; do
		echo "${spec#*:}" > "$(node_2m "${spec%%:*}")/nr_hugepages"
	done
	[ -n "$OLD_OVERCOMMIT" ] &&
		echo "$OLD_OVERCOMMIT" > "$GHP/hugepages-2048kB/nr_overcommit_hugepages"
	for spec in $(echo "$POOLS" | tr , ' '); do
		n=${spec%%:*}
		want=${spec#*:}
		got="$(cat "$(node_2m "$n")/nr_hugepages") $(cat "$(node_2m "$n")/free_hugepages") $(cat "$(node_2m "$n")/surplus_hugepages")"
		if [ "$got" != "$want $want 0" ]; then
			echo "node $n: 2M nr/free/surplus $got, want $want $want 0"
			fail=1
		fi
	done
	for f in resv surplus; do
		got=$(cat "$GHP/hugepages-2048kB/${f}_hugepages")
		if [ "$got" != 0 ]; then
			echo "global 2M ${f}_hugepages $got after the holder left"
			fail=1
		fi
	done
	[ $fail -eq 0 ] && echo "ok: pools back to $POOLS, nothing reserved"
	return $fail
}

run_probe() {
	RAMPOOL_TEST_REQUIRE_HUGETLB=$REQUIRE_HUGETLB \
		timeout -s KILL "$TEST_TIMEOUT" "$VM/placement_probe" "$1"
}

# A WARN, BUG or oops anywhere in the run (tests, suite, boot) taints the kernel.
check_taint() {
	local t
	t=$(cat /proc/sys/kernel/tainted)
	if [ "$t" != 0 ]; then
		echo "kernel tainted ($t); kernel log:"
		dmesg | grep -A 30 -E 'cut here|BUG|Oops|WARNING' | head -n 80
		return 1
	fi
	echo "ok: kernel not tainted"
	return 0
}

numa_suite() {
	check numa-status-idle check_status
	check numa-hold start_holders
	check numa-status check_status
	check numa-sysroot check_sysroot
	[ "$RECORD" = 1 ] && [ -d /tmp/tree ] && emit_tree
	check numa-restore stop_holders
	check numa-placement run_probe bind
	check numa-fact5b run_probe fact5b
	check kernel-taint check_taint
}
