#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Overhead benchmark: each workload loop without shrike and with
# `shrike trace --json >/dev/null` (every syscall it knows + exec/fork/exit),
# interleaved off/on so both sides see the same machine state.
# See bench/README.md for what is measured and how to read the output.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
ROUNDS=5
LOOPS="open exec connect"
N_OPEN=500000
N_EXEC=3000
N_CONNECT=40000
READY_TIMEOUT_S=10
TRACE_ARGS=()
RAW=
AGENT=trace
RULES_DIR="$ROOT/../shared/falco-rules"
DENY_N=100
DENY_POLICY=

# Targets (from the issue). Ratios are with/without shrike.
declare -A MAX_RATIO=([open]=1.15 [exec]=1.05 [connect]=1.15)
MAX_RSS_KIB=$((32 * 1024))
MAX_READY_MS=1000

usage() {
	cat <<EOF
usage: bench/run.sh [options]

Runs each loop of bench/workload without shrike and with
'shrike trace --json >/dev/null', alternating off/on for several rounds,
and checks the overhead targets. Must run as root (exit 77 otherwise).

options:
  --build DIR        build directory (default: $ROOT/build); configured
                     and built (shrike, bench_workload, bench_tiny) if needed
  --rounds R         off/on pairs per loop (default $ROUNDS)
  --loops LIST       loops to run, comma or space separated (default: open,exec,connect)
  --open-n N         iterations of the open loop (default $N_OPEN)
  --exec-n N         iterations of the exec loop (default $N_EXEC)
  --connect-n N      iterations of the connect loop (default $N_CONNECT)
  --trace-args ARGS  extra arguments for 'shrike trace' (e.g. "--event openat");
                     diagnostic only: the targets are for all events
  --agent trace|run  what runs beside the workload: 'trace' (default) is
                     'shrike trace --json'; 'run' is 'shrike run --json' with
                     the three upstream Falco files (targets 1.25x each)
                     'deny' is 'shrike run --json' with --deny-rules N kernel
                     deny rules (miners, droppers, reverse shells, sensitive
                     files, pool connects) that never match the workload
                     (targets: exec 1.05x, open 1.10x, connect 1.10x)
  --deny-rules N     deny rules for --agent deny (default $DENY_N; 0: the cost
                     of shrike run itself, with no rule)
  --rules DIR        where the upstream Falco files are (default
                     ../shared/falco-rules beside the checkout)
  --raw FILE         also write one CSV line per run to FILE
  -h, --help         this help

Exit status: 0 all targets met, 1 a target missed or an error, 77 not root.
EOF
}

die() {
	echo "run.sh: error: $*" >&2
	exit 1
}

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs an argument"; }
need_n() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1: '$2' is not a positive integer"; }

while [[ $# -gt 0 ]]; do
	case $1 in
	--build) need_arg "$@"; BUILD=$2; shift 2 ;;
	--rounds) need_arg "$@"; need_n "$1" "$2"; ROUNDS=$2; shift 2 ;;
	--loops) need_arg "$@"; LOOPS=${2//,/ }; shift 2 ;;
	--open-n) need_arg "$@"; need_n "$1" "$2"; N_OPEN=$2; shift 2 ;;
	--exec-n) need_arg "$@"; need_n "$1" "$2"; N_EXEC=$2; shift 2 ;;
	--connect-n) need_arg "$@"; need_n "$1" "$2"; N_CONNECT=$2; shift 2 ;;
	--trace-args) need_arg "$@"; read -r -a TRACE_ARGS <<<"$2"; shift 2 ;;
	--agent) need_arg "$@"; AGENT=$2; shift 2 ;;
	--rules) need_arg "$@"; RULES_DIR=$2; shift 2 ;;
	--deny-rules) need_arg "$@"; [[ $2 =~ ^[0-9]+$ ]] || die "$1: '$2' is not a number"; DENY_N=$2; shift 2 ;;
	--raw) need_arg "$@"; RAW=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
for l in $LOOPS; do
	[[ -v "MAX_RATIO[$l]" ]] || die "unknown loop '$l' (open, exec, connect)"
done
# N deny rules in five realistic families, none matching the workload: a
# miner's name, a binary in a dropper's directory, a reverse shell (a shell
# whose stdin is a socket), a sensitive file read, a mining-pool connect.
gen_deny_policy() {
	local n=$1 i
	echo "- macro: bench_spawned"
	echo "  condition: (evt.type in (execve, execveat) and evt.dir=<)"
	echo "- macro: bench_open_read"
	echo "  condition: (evt.type in (open, openat, openat2) and evt.is_open_read=true and fd.typechar='f' and fd.num>=0)"
	for ((i = 0; i < n; i++)); do
		case $((i % 5)) in
		0) printf -- '- rule: bench miner %d\n  desc: d\n  condition: bench_spawned and proc.name in (bminer%d, xmr%d)\n' "$i" "$i" "$i" ;;
		1) printf -- '- rule: bench dropper %d\n  desc: d\n  condition: bench_spawned and proc.exepath startswith /var/tmp/.bench-%d/\n' "$i" "$i" ;;
		2) printf -- '- rule: bench shell %d\n  desc: d\n  condition: bench_spawned and proc.name = bsh%d and proc.stdin.type in (ipv4, ipv6)\n' "$i" "$i" ;;
		3) printf -- '- rule: bench secret %d\n  desc: d\n  condition: bench_open_read and fd.name = /etc/bench-secret-%d and not user.uid = 0\n' "$i" "$i" ;;
		4) printf -- '- rule: bench pool %d\n  desc: d\n  condition: evt.type = connect and fd.rport = %d and fd.rnet = 192.0.2.0/24\n' "$i" $((20000 + i)) ;;
		esac
		printf '  output: bench deny\n  priority: CRITICAL\n  actions: [deny]\n  mode: enforce\n'
	done
}

# The agent under test. 'run' evaluates the three upstream Falco files, in
# Falco's order, on every event; the rule-engine issue's end-to-end target
# is 1.25x for every loop.
case $AGENT in
trace) AGENT_CMD=(trace --json "${TRACE_ARGS[@]}") ;;
run)
	for f in falco_rules.yaml falco-incubating_rules.yaml falco-sandbox_rules.yaml; do
		[[ -r $RULES_DIR/$f ]] || { echo "bench: $RULES_DIR/$f not found (--rules DIR)" >&2; exit 77; }
	done
	AGENT_CMD=(run --json --policy "$RULES_DIR/falco_rules.yaml"
		--policy "$RULES_DIR/falco-incubating_rules.yaml"
		--policy "$RULES_DIR/falco-sandbox_rules.yaml")
	MAX_RATIO=([open]=1.25 [exec]=1.25 [connect]=1.25)
	;;
deny)
	DENY_POLICY=$(mktemp "${TMPDIR:-/tmp}/shrike-bench-deny.XXXXXX")
	gen_deny_policy "$DENY_N" >"$DENY_POLICY"
	AGENT_CMD=(run --json --policy "$DENY_POLICY")
	MAX_RATIO=([open]=1.10 [exec]=1.05 [connect]=1.10)
	;;
*) die "--agent: expected trace, run or deny" ;;
esac

if [[ $EUID -ne 0 ]]; then
	echo "run.sh: must run as root (shrike loads BPF sensors); skipped" >&2
	exit 77
fi

# ---------------------------------------------------------------- build
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
BUILD_LOG=$BUILD/bench-build.log
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
	echo "run.sh: configuring $BUILD" >&2
	cmake -B "$BUILD" -S "$ROOT" >"$BUILD_LOG" 2>&1 ||
		{ tail -n 30 "$BUILD_LOG" >&2; die "cmake configure failed (log: $BUILD_LOG)"; }
fi
cmake --build "$BUILD" -j"$(nproc)" --target shrike bench_workload bench_tiny >>"$BUILD_LOG" 2>&1 ||
	{ tail -n 30 "$BUILD_LOG" >&2; die "build failed (log: $BUILD_LOG)"; }
SHRIKE=$BUILD/shrike
WORKLOAD=$BUILD/bench/workload
TINY=$BUILD/bench/tiny
for f in "$SHRIKE" "$WORKLOAD" "$TINY"; do
	[[ -x $f ]] || die "$f missing after build"
done

# ---------------------------------------------------------------- helpers
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shrike-bench-run.XXXXXX")
SPID=
cleanup() {
	if [[ -n $SPID ]] && kill -0 "$SPID" 2>/dev/null; then
		kill -INT "$SPID" 2>/dev/null || true
		wait "$SPID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
	[[ -z $DENY_POLICY ]] || rm -f "$DENY_POLICY"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A sleep that forks nothing: read with a timeout on a FIFO nobody writes.
mkfifo "$TMP/nap"
exec {NAPFD}<>"$TMP/nap"
nap() { read -r -t "$1" -u "$NAPFD" _ || true; }

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
CLK_TCK=$(getconf CLK_TCK)

# utime+stime of a process, in clock ticks
cpu_ticks() {
	local line rest f
	read -r line <"/proc/$1/stat" || return 1
	rest=${line##*) }
	read -r -a f <<<"$rest"
	echo $((f[11] + f[12]))
}

status_kib() { # PID FIELD -> kB value from /proc/PID/status
	local k v _u
	while read -r k v _u; do
		[[ $k == "$2:" ]] && { echo "$v"; return 0; }
	done <"/proc/$1/status"
	return 1
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {
	if (NR == 0) { print "nan"; exit }
	if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
minmax() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s %s", lo, hi}'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

workload_args() {
	case $1 in
	open) echo "open $N_OPEN" ;;
	exec) echo "exec $N_EXEC $TINY" ;;
	connect) echo "connect $N_CONNECT" ;;
	esac
}

# Runs the workload; sets WL_NS.
run_workload() {
	local out
	# shellcheck disable=SC2046
	out=$("$WORKLOAD" $(workload_args "$1")) || die "workload $1 failed"
	[[ $out =~ ns=([0-9]+) ]] || die "workload $1: unexpected output '$out'"
	WL_NS=${BASH_REMATCH[1]}
}

# Starts shrike, waits for ready, runs the workload, stops shrike.
# Sets WL_NS READY_MS HWM_KIB CPU_TICKS EVENTS DROPS OTHER.
run_with_shrike() {
	local loop=$1 err=$TMP/shrike.err t0 t1 c0 c1 rc=0 s
	: >"$err"
	t0=$(now_us)
	"$SHRIKE" "${AGENT_CMD[@]}" >/dev/null 2>"$err" &
	SPID=$!
	while :; do
		s=$(<"$err")
		[[ $s == *"shrike: ready"* ]] && break
		if ! kill -0 "$SPID" 2>/dev/null; then
			wait "$SPID" || true
			SPID=
			cat "$err" >&2
			die "shrike exited before it was ready"
		fi
		if (($(now_us) - t0 > READY_TIMEOUT_S * 1000000)); then
			cat "$err" >&2
			die "shrike not ready after ${READY_TIMEOUT_S}s"
		fi
		nap 0.002
	done
	t1=$(now_us)
	READY_MS=$(calc "%.0f" "($t1 - $t0) / 1000")

	c0=$(cpu_ticks "$SPID")
	run_workload "$loop"
	c1=$(cpu_ticks "$SPID")
	CPU_TICKS=$((c1 - c0))
	HWM_KIB=$(status_kib "$SPID" VmHWM) || die "cannot read VmHWM of shrike ($SPID)"

	kill -INT "$SPID"
	wait "$SPID" || rc=$?
	SPID=
	((rc == 0)) || { cat "$err" >&2; die "shrike exited with status $rc"; }
	s=$(<"$err")
	[[ $s =~ stopped:\ events=([0-9]+)\ .*drops=([0-9]+)\ oversize=([0-9]+)\ truncated=([0-9]+)\ malformed=([0-9]+) ]] ||
		{ cat "$err" >&2; die "no summary line from shrike"; }
	EVENTS=${BASH_REMATCH[1]}
	DROPS=${BASH_REMATCH[2]}
	OTHER="oversize=${BASH_REMATCH[3]} truncated=${BASH_REMATCH[4]} malformed=${BASH_REMATCH[5]}"
}

# ---------------------------------------------------------------- run
declare -A OFF ON PAIR EVS EVITER DROPSUM CPU N_OF
ALL_READY=()
MAX_HWM=0
[[ -n $RAW ]] && echo "loop,round,mode,n,ns,events,drops,ready_ms,vmhwm_kib,shrike_cpu_ticks" >"$RAW"

echo "shrike overhead benchmark: $(uname -r), $(nproc) CPUs, rounds=$ROUNDS," \
	"shrike ${AGENT_CMD[*]}"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# The ratios assume an otherwise idle machine: say so when it is not.
cpu_busy_idle() { local _c u n s i w q sq st; read -r _c u n s i w q sq st _ </proc/stat
	echo "$((u + n + s + q + sq + st)) $((i + w))"; }
read -r b0 i0 <<<"$(cpu_busy_idle)"
nap 1
read -r b1 i1 <<<"$(cpu_busy_idle)"
BUSY=$(((b1 - b0) * 100 / (b1 - b0 + i1 - i0 + 1)))
echo "CPU busy before the run (other processes): ${BUSY}%"
((BUSY < 10)) || echo "warning: the machine is not idle; ratios will be noisy and pessimistic" >&2

for loop in $LOOPS; do
	read -r _ n _ <<<"$(workload_args "$loop")"
	N_OF[$loop]=$n
	# warm-up (page cache, binaries, allocator): not counted
	read -r -a warm <<<"$(workload_args "$loop")"
	warm[1]=$((warm[1] / 10 + 1))
	"$WORKLOAD" "${warm[@]}" >/dev/null || die "workload $loop warm-up failed"
	offs=() ons=() pairs=() rates=() per=() cpus=() drops=0
	for ((r = 1; r <= ROUNDS; r++)); do
		run_workload "$loop"
		off=$WL_NS
		offs+=("$off")
		[[ -n $RAW ]] && echo "$loop,$r,off,$n,$off,,,,," >>"$RAW"

		run_with_shrike "$loop"
		on=$WL_NS
		ons+=("$on")
		pairs+=("$(calc "%.4f" "$on / $off")")
		rates+=("$(calc "%.0f" "$EVENTS / ($on / 1e9)")")
		per+=("$(calc "%.2f" "$EVENTS / $n")")
		cpus+=("$(calc "%.1f" "100 * $CPU_TICKS / $CLK_TCK / ($on / 1e9)")")
		drops=$((drops + DROPS))
		ALL_READY+=("$READY_MS")
		((HWM_KIB > MAX_HWM)) && MAX_HWM=$HWM_KIB
		[[ $OTHER == "oversize=0 truncated=0 malformed=0" ]] ||
			echo "run.sh: note: $loop round $r: $OTHER" >&2
		[[ -n $RAW ]] && echo "$loop,$r,on,$n,$on,$EVENTS,$DROPS,$READY_MS,$HWM_KIB,$CPU_TICKS" >>"$RAW"
		printf '  %-7s round %d/%d: off %8.1f ms  on %8.1f ms  (x%s)  events=%s drops=%s ready=%sms\n' \
			"$loop" "$r" "$ROUNDS" "$(calc %.1f "$off / 1e6")" "$(calc %.1f "$on / 1e6")" \
			"${pairs[-1]}" "$EVENTS" "$DROPS" "$READY_MS" >&2
	done
	OFF[$loop]=$(echo "${offs[*]}" | median)
	ON[$loop]=$(echo "${ons[*]}" | median)
	PAIR[$loop]=$(echo "${pairs[*]}" | minmax)
	EVS[$loop]=$(echo "${rates[*]}" | median)
	EVITER[$loop]=$(echo "${per[*]}" | median)
	CPU[$loop]=$(echo "${cpus[*]}" | median)
	DROPSUM[$loop]=$drops
done

# ---------------------------------------------------------------- report
echo
printf '%-8s %8s %9s %9s %7s %13s %6s %9s %7s %6s %10s\n' \
	loop N "off ms" "on ms" ratio "pairs min-max" target "events/s" ev/iter drops "shrike CPU"
for loop in $LOOPS; do
	read -r lo hi <<<"${PAIR[$loop]}"
	printf '%-8s %8s %9.1f %9.1f %6.3fx %6.3f-%-6.3f %5.2fx %9.0f %7.2f %6s %9.0f%%\n' \
		"$loop" "${N_OF[$loop]}" "$(calc %.3f "${OFF[$loop]} / 1e6")" \
		"$(calc %.3f "${ON[$loop]} / 1e6")" "$(calc %.4f "${ON[$loop]} / ${OFF[$loop]}")" \
		"$lo" "$hi" "${MAX_RATIO[$loop]}" "${EVS[$loop]}" "${EVITER[$loop]}" \
		"${DROPSUM[$loop]}" "${CPU[$loop]}"
done
READY_MED=$(echo "${ALL_READY[*]}" | median)
READY_MAX=$(echo "${ALL_READY[*]}" | minmax | cut -d' ' -f2)
echo "off/on ms: medians of $ROUNDS runs; ratio = median(on) / median(off); pairs: on/off of each round"
echo "shrike: peak RSS (VmHWM) $(calc %.1f "$MAX_HWM / 1024") MiB; ready after" \
	"${READY_MED} ms median, ${READY_MAX} ms max (${#ALL_READY[@]} starts)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

FAILS=0
verdict() { # OK? TEXT
	if [[ $1 == 1 ]]; then echo "PASS  $2"; else echo "FAIL  $2"; FAILS=$((FAILS + 1)); fi
}
for loop in open exec connect; do
	if [[ " $LOOPS " != *" $loop "* ]]; then
		echo "SKIP  $loop loop overhead (not run)"
		continue
	fi
	ratio=$(calc %.3f "${ON[$loop]} / ${OFF[$loop]}")
	verdict "$(calc %d "$ratio <= ${MAX_RATIO[$loop]}")" \
		"$loop loop overhead: ${ratio}x (target <= ${MAX_RATIO[$loop]}x)"
done
total_drops=0
for loop in $LOOPS; do total_drops=$((total_drops + DROPSUM[$loop])); done
verdict "$((total_drops == 0))" "no drops: $total_drops events dropped"
if [[ $AGENT == trace ]]; then
	verdict "$((MAX_HWM < MAX_RSS_KIB))" \
		"shrike RSS: peak $(calc %.1f "$MAX_HWM / 1024") MiB (target < 32 MiB)"
	verdict "$((READY_MAX <= MAX_READY_MS))" "ready time: max ${READY_MAX} ms (target <= ${MAX_READY_MS} ms)"
else
	# the RSS and ready targets are shrike trace's (the foundation issue);
	# shrike run also loads rules, policies and outputs
	echo "INFO  shrike RSS: peak $(calc %.1f "$MAX_HWM / 1024") MiB; ready time: max ${READY_MAX} ms" \
		"(targets of shrike trace, not checked for $AGENT)"
fi
if ((${#TRACE_ARGS[@]})); then
	echo "note: ran with 'shrike trace ${TRACE_ARGS[*]}': diagnostic, the targets are for all events"
fi
if ((FAILS)); then
	echo "RESULT: FAIL ($FAILS target(s) missed)"
	exit 1
fi
echo "RESULT: PASS"
