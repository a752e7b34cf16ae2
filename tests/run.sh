#!/usr/bin/env bash
# Build shrike and run every test tier. This is the README's test command.
#
#   tests/run.sh [--build DIR] [--tier unit,system,compat,fuzz,vm]
#
# Installs missing Debian packages first (scripts/deps.sh, idempotent).
# Tiers that cannot run here (no root, no upstream rules) report "skipped"
# with the reason; any failure makes the script exit non-zero.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
build="$here/build"
tiers="unit,system,compat,fuzz,vm"
fuzz_seconds="${SHRIKE_FUZZ_SECONDS:-20}"

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build="$2"; shift 2 ;;
	--tier) tiers="$2"; shift 2 ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	*) echo "tests/run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

has_tier() { [[ ",$tiers," == *",$1,"* ]]; }

"$here/scripts/deps.sh"

echo "== build ($build)"
cmake -B "$build" -S "$here" -DSHRIKE_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

failed=()
run_ctest() {
	local label="$1" verbose=()
	echo "== tier: $label"
	# compat prints a per-file summary worth seeing even when it passes
	[ "$label" = compat ] && verbose=(-V)
	if ! (cd "$build" && ctest -L "^$label\$" --output-on-failure --timeout 600 "${verbose[@]}"); then
		failed+=("$label")
	fi
}

has_tier unit && run_ctest unit
if has_tier system; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "== tier: system: skipped (needs root to load BPF programs)"
	else
		run_ctest system
	fi
fi
has_tier compat && run_ctest compat

if has_tier fuzz; then
	echo "== tier: fuzz (${fuzz_seconds}s per target)"
	if [ -f "$here/tests/fuzz/CMakeLists.txt" ]; then
		fb="$build-fuzz"
		CC=clang cmake -B "$fb" -S "$here" -DSHRIKE_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
		cmake --build "$fb" -j"$(nproc)" --target fuzz_targets
		for f in "$fb"/tests/fuzz/fuzz_*; do
			[ -x "$f" ] || continue
			corpus="$fb/corpus-$(basename "$f")"
			mkdir -p "$corpus"
			seeds="$here/tests/fuzz/seeds/$(basename "$f")"
			echo "-- $(basename "$f")"
			if ! "$f" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
				"$corpus" $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | tail -3; then
				failed+=("fuzz:$(basename "$f")")
			fi
		done
	else
		echo "fuzz: skipped (no fuzz targets yet)"
	fi
fi

if has_tier vm; then
	if [ -x "$here/tests/vm/run.sh" ]; then
		echo "== tier: vm"
		"$here/tests/vm/run.sh" --build "$build" || failed+=("vm")
	else
		echo "== tier: vm: skipped (no VM tests yet: they arrive with the BPF-LSM backend)"
	fi
fi

if [ ${#failed[@]} -ne 0 ]; then
	echo "== FAILED tiers: ${failed[*]}"
	exit 1
fi
echo "== all tiers passed (see above for skips)"
