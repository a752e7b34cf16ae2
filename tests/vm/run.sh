#!/usr/bin/env bash
# VM tier: boot Debian's own kernel (6.1, BPF-LSM active) in qemu with an
# initramfs carrying shrike, run the guest tests, and parse the verdict from
# the console. Proves the CO-RE sensors on a kernel other than the build
# host's, and the lsm backend of kernel enforcement, which this host
# refuses (DESIGN.md section 3, "Test tiers").
#
#   tests/vm/run.sh --build DIR
#
# Fails on any failed case, and on no verdict at all (boot failure, timeout).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
build=""
timeout_s="${SHRIKE_VM_TIMEOUT:-600}"
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build="$2"; shift 2 ;;
	*) echo "tests/vm/run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$build" ] || { echo "tests/vm/run.sh: --build DIR is required" >&2; exit 2; }
build="$(cd "$build" && pwd)"
work="$build/vm"
mkdir -p "$work"

# 1. The kernel: the version Debian's linux-image-amd64 points at.
pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
if [ -z "$pkg" ]; then
	echo "vm: skipped: apt offers no linux-image-amd64 kernel here"
	exit 0
fi
kdir="$work/$pkg"
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
	(cd "$work" && rm -f ./*.deb && apt-get -o APT::Sandbox::User=root download "$pkg" >/dev/null)
	rm -rf "$kdir" && dpkg -x "$work"/"$pkg"_*.deb "$kdir"
fi
vmlinuz="$(ls "$kdir"/boot/vmlinuz-* | head -1)"
echo "vm: kernel $(basename "$vmlinuz")"

# 2. The initramfs: busybox, shrike and its shared libraries, the guest script.
root="$work/initramfs"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,lib64,usr/bin}
cp /bin/busybox "$root/bin/busybox"
for app in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
copy_with_libs() {
	local bin="$1" dest="$2"
	cp "$bin" "$root$dest"
	ldd "$bin" | awk '/=>/ {print $3; next} $1 ~ /^\// {print $1}' | while read -r lib; do
		[ -f "$lib" ] || continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
copy_with_libs "$build/shrike" /bin/shrike
# the enforcement cases' probe, static: one binary copied around the guest
cc -static -O2 -Wall -Wextra -Werror -o "$root/bin/vmtry" "$here/vmtry.c"
mkdir -p "$root/etc/shrike-vm"
cp "$here/deny.yaml" "$root/etc/shrike-vm/deny.yaml"
cp "$here/guest.sh" "$root/init"
chmod +x "$root/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

# 3. Boot. TCG: KVM is not available here.
log="$work/console.log"
echo "vm: booting (log: $log)"
set +e
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 \
	-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet lsm=lockdown,capability,landlock,yama,apparmor,bpf" \
	-nographic -no-reboot </dev/null >"$log" 2>&1
rc=$?
set -e

# 4. Verdict.
grep -a 'SHRIKE-VM' "$log" || true
if ! grep -aq 'SHRIKE-VM-DONE' "$log"; then
	echo "vm: FAILED: no verdict from the guest (qemu exit $rc); last console lines:"
	tail -30 "$log"
	exit 1
fi
if grep -aq 'SHRIKE-VM: FAIL' "$log"; then
	echo "vm: FAILED"
	exit 1
fi
if ! grep -aq 'SHRIKE-VM: PASS' "$log"; then
	echo "vm: FAILED: the guest ran no case"
	exit 1
fi
echo "vm: passed"
