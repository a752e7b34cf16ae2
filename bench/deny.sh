#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Kernel deny benchmark (issue 5): the workload loops with 100 and with
# 1,000 deny rules loaded that never match (bench/run.sh --agent deny), the
# cost per iteration side by side, and how long a denied exec lives under
# the signal backend (bench/killlat: execve entry to death, median and p99).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
ROUNDS=5
KILL_N=2000

usage() {
	cat <<EOF
usage: bench/deny.sh [--build DIR] [--rounds R] [--kill-n N]

Runs bench/run.sh --agent deny with 100 and with 1000 deny rules, prints
the overhead per loop iteration for both (it must not grow with the rule
count), then measures a denied exec's lifetime with N execs (default
$KILL_N). Needs root (exit 77 otherwise). Exit 1 if a target is missed.
EOF
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--kill-n) KILL_N=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
if [[ $EUID -ne 0 ]]; then
	echo "deny.sh: must run as root; skipped" >&2
	exit 77
fi
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
[[ -f $BUILD/CMakeCache.txt ]] || cmake -B "$BUILD" -S "$ROOT" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target shrike bench_workload bench_tiny bench_killlat >/dev/null

TMP=$(mktemp -d "${TMPDIR:-/tmp}/shrike-bench-deny.XXXXXX")
SPID=
cleanup() {
	[[ -z $SPID ]] || { kill -INT "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null || true; }
	rm -rf "$TMP"
}
trap cleanup EXIT

status=0
for n in 100 1000; do
	echo "=== $n deny rules"
	bash "$ROOT/bench/run.sh" --build "$BUILD" --rounds "$ROUNDS" --agent deny --deny-rules "$n" \
		--raw "$TMP/raw-$n.csv" | tee "$TMP/out-$n.txt" || status=1
	echo
done

# ns of overhead per iteration: median(on) - median(off), per loop
per_iter() { # CSV LOOP
	awk -F, -v l="$2" '$1 == l && $3 == "off" { off[++a] = $5; n = $4 }
		$1 == l && $3 == "on" { on[++b] = $5 }
		function med(x, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
			return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2 }
		END { printf "%.0f", (med(on, b) - med(off, a)) / n }' "$1"
}
echo "=== cost per iteration (ns, median on - median off): 100 vs 1000 deny rules"
printf '%-8s %10s %10s\n' loop 100 1000
for loop in open exec connect; do
	printf '%-8s %10s %10s\n' "$loop" "$(per_iter "$TMP/raw-100.csv" "$loop")" \
		"$(per_iter "$TMP/raw-1000.csv" "$loop")"
done
echo "(the same lookups per event whatever the number of rules: the two columns"
echo " differ by noise, not by a factor of ten)"
echo

echo "=== a denied exec's lifetime (signal backend)"
cp "$BUILD/bench/tiny" "$TMP/denied-tiny"
cat >"$TMP/kill.yaml" <<EOF
- rule: bench denied exec
  desc: d
  condition: evt.type in (execve, execveat) and proc.exepath = $TMP/denied-tiny
  output: denied
  priority: CRITICAL
  actions: [deny]
  mode: enforce
EOF
"$BUILD/shrike" run --policy "$TMP/kill.yaml" >/dev/null 2>"$TMP/kill.err" &
SPID=$!
for _ in $(seq 1 200); do grep -q "shrike: ready" "$TMP/kill.err" && break; sleep 0.05; done
grep -q "shrike: ready" "$TMP/kill.err" || { cat "$TMP/kill.err" >&2; exit 1; }
"$BUILD/bench/killlat" "$KILL_N" "$TMP/denied-tiny" || status=1
kill -INT "$SPID"
wait "$SPID" || true
SPID=
grep "backend" "$TMP/kill.err" || true
exit $status
