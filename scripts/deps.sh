#!/usr/bin/env bash
# Install every Debian package shrike needs to build and to run all test
# tiers. Idempotent: when everything is present it installs nothing and
# does not touch the network.
set -euo pipefail

PKGS=(
	# build
	cmake make gcc pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
	# userspace libraries
	libseccomp-dev libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libnl-nf-3-dev
	libyaml-dev libcjson-dev libcurl4-openssl-dev libcmocka-dev libmicrohttpd-dev
	# the TLS output test (its own CA and HTTPS server)
	libssl-dev
	# fuzzing (clang's sanitizer and libFuzzer runtimes)
	libclang-rt-14-dev
	# system tests
	iproute2 util-linux procps coreutils python3
	# reverse-shell and miner tests: real tools, run against loopback
	ncat socat netcat-traditional
	# vm tier
	qemu-system-x86 busybox-static cpio
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run this script as root" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
