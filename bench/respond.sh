#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Response latency: time from the kernel event (its timestamp) to the
# completion of the action, as shrike reports it in each alert's response
# (latency_us), over N trials per action:
#   kill: process      a victim binary is exec'd and killed; the rule fits the
#                      kernel policy, so the kernel kills it at the exec
#                      (latency 0: at the event itself)
#   kill (userspace)   the same with a condition only userspace can decide
#                      (proc.vpid): killed by the executor after the alert
#   freeze: container  a process exec'd inside a runtime-named cgroup v2
#                      container is frozen (then thawed and removed)
#   isolate: container the same, isolated (then released and removed)
# Prints p50/p99/max per action and PASS/FAIL against the issue's targets
# (kill p50 and p99 < 1 ms, both ways; freeze and isolate p99 < 5 ms).
#
#   bench/respond.sh [--build DIR] [-n N]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
N=1000
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	-n) N=$2; shift 2 ;;
	-h|--help) sed -n '3,16p' "$0"; exit 0 ;;
	*) echo "respond.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "respond.sh: needs root" >&2; exit 77; }
SHRIKE=$BUILD/shrike
[ -x "$SHRIKE" ] || { echo "respond.sh: build first ($SHRIKE missing)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/shrike-respond.XXXXXX)
CG2=$(awk '$(NF-2) == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
PARENT=$CG2/shrike-bench.slice
SPID=
cleanup() {
	[ -n "$SPID" ] && kill -INT "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null || true
	for d in "$PARENT"/*/; do
		[ -d "$d" ] || continue
		echo 0 >"$d/cgroup.freeze" 2>/dev/null || true
		echo 1 >"$d/cgroup.kill" 2>/dev/null || true
		rmdir "$d" 2>/dev/null || true
	done
	rmdir "$PARENT" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$PARENT"
cp /bin/sleep "$TMP/shk-victim-kill"
cp /bin/sleep "$TMP/shk-victim-ukil"
cp /bin/sleep "$TMP/shk-victim-freeze"
cp /bin/sleep "$TMP/shk-victim-iso"

cat >"$TMP/policy.yaml" <<'POL'
- policy: bench
  rate_limit: {per_rule: 1000000, global: 100000}
- rule: Bench kill
  desc: bench
  condition: evt.type = execve and evt.dir = < and proc.name = shk-victim-kill
  output: kill %proc.pid
  priority: CRITICAL
  actions: [kill]
  mode: enforce
- rule: Bench kill userspace
  desc: bench
  condition: evt.type = execve and evt.dir = < and proc.name = shk-victim-ukil and proc.vpid > 0
  output: kill %proc.pid
  priority: CRITICAL
  actions: [kill]
  mode: enforce
- rule: Bench freeze
  desc: bench
  condition: evt.type = execve and evt.dir = < and proc.name = shk-victim-free
  output: freeze %proc.pid
  priority: CRITICAL
  actions: [{freeze: container}]
  mode: enforce
- rule: Bench isolate
  desc: bench
  condition: evt.type = execve and evt.dir = < and proc.name = shk-victim-iso
  output: isolate %proc.pid
  priority: CRITICAL
  actions: [{isolate: container}]
  mode: enforce
POL

"$SHRIKE" run --json --policy "$TMP/policy.yaml" --state-dir "$TMP/state" --control "$TMP/control.sock" ${SHRIKE_RUN_ARGS:-} >"$TMP/alerts.jsonl" 2>"$TMP/err" &
SPID=$!
for _ in $(seq 1 100); do grep -q "shrike: ready" "$TMP/err" && break; sleep 0.05; done
grep -q "shrike: ready" "$TMP/err" || { cat "$TMP/err" >&2; exit 1; }

wait_alerts() { # rule count
	for _ in $(seq 1 200); do
		[ "$(grep -c "\"rule\":\"$1\"" "$TMP/alerts.jsonl" || true)" -ge "$2" ] && return 0
		sleep 0.01
	done
	return 1
}

echo "kill: process x$N"
for i in $(seq 1 "$N"); do
	{ "$TMP/shk-victim-kill" 5; } 2>/dev/null || true # in braces, bash's "Killed" report is silenced too
done
wait_alerts "Bench kill" "$N" || echo "warning: fewer kill alerts than trials"
echo "kill: process (userspace) x$N"
for i in $(seq 1 "$N"); do
	{ "$TMP/shk-victim-ukil" 5; } 2>/dev/null || true
done
wait_alerts "Bench kill userspace" "$N" || echo "warning: fewer kill alerts than trials"

# a runtime-named container cgroup per trial (docker-<64 hex>.scope)
container_trial() { # victim rule
	local id d
	id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	d=$PARENT/docker-$id.scope
	mkdir "$d"
	sh -c "echo \$\$ > $d/cgroup.procs; exec $TMP/$1 5" &
	local pid=$!
	for _ in $(seq 1 200); do
		grep -q "\"rule\":\"$2\".*\"target\":\"cgroup /shrike-bench.slice/docker-$id.scope\"" "$TMP/alerts.jsonl" && break
		sleep 0.002
	done
	echo 0 >"$d/cgroup.freeze" 2>/dev/null || true
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rmdir "$d" 2>/dev/null || true
}

echo "freeze: container x$N"
for i in $(seq 1 "$N"); do container_trial shk-victim-freeze "Bench freeze"; done
echo "isolate: container x$N"
for i in $(seq 1 "$N"); do container_trial shk-victim-iso "Bench isolate"; done
sleep 0.3
kill -INT "$SPID"; wait "$SPID" || true; SPID=
tail -1 "$TMP/err"

python3 - "$TMP/alerts.jsonl" "$N" <<'PY'
import json, sys
lat = {"Bench kill": [], "Bench kill userspace": [], "Bench freeze": [], "Bench isolate": []}
outcomes = {}
where = {}
for line in open(sys.argv[1]):
    a = json.loads(line)
    r = (a.get("response") or [{}])[0]
    t = r.get("target") or ""
    where.setdefault(a["rule"], set()).add(t[t.index("(kernel") + 1:-1] if "(kernel" in t else "userspace")
    outcomes.setdefault(a["rule"], {}).setdefault(r.get("outcome"), 0)
    outcomes[a["rule"]][r.get("outcome")] += 1
    if r.get("outcome") == "done" and a["rule"] in lat:
        lat[a["rule"]].append(r["latency_us"])
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")
targets = {"Bench kill": (1000, 1000), "Bench kill userspace": (1000, 1000),
           "Bench freeze": (None, 5000), "Bench isolate": (None, 5000)}
fails = 0
print(f"{'action':16} {'trials':>6} {'done':>5} {'p50 us':>8} {'p99 us':>8} {'max us':>8}  {'where':16} outcomes")
for rule, v in lat.items():
    p50, p99 = pct(v, 50), pct(v, 99)
    w = ",".join(sorted(where.get(rule, [])))
    print(f"{rule[6:]:16} {int(sys.argv[2]):6} {len(v):5} {p50:8} {p99:8} {max(v) if v else 'nan':>8}  {w:16} {outcomes.get(rule)}")
for rule, (t50, t99) in targets.items():
    v = lat[rule]
    ok = len(v) >= int(sys.argv[2]) * 0.99 and (t50 is None or pct(v, 50) < t50) and pct(v, 99) < t99
    fails += not ok
    want = (f"p50 < {t50} us and " if t50 else "") + f"p99 < {t99} us"
    print(("PASS " if ok else "FAIL ") + f"{rule[6:]}: {want}")
sys.exit(1 if fails else 0)
PY
