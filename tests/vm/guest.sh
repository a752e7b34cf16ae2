#!/bin/sh
# /init of the VM tier's initramfs: mount what shrike needs, run the cases,
# print one "SHRIKE-VM: PASS|FAIL <case>" line each, then power off.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
echo "SHRIKE-VM-INFO: kernel $(uname -r) lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)"

pass() { echo "SHRIKE-VM: PASS $1"; }
fail() { echo "SHRIKE-VM: FAIL $1${2:+: $2}"; }
check() { # name, pattern, file
	if grep -q "$2" "$3"; then pass "$1"; else fail "$1" "no line matching $2"; fi
}

echo "vm-marker" >/tmp/vm-marker
/bin/shrike trace --json >/tmp/trace.json 2>/tmp/trace.err &
spid=$!
i=0
while ! grep -q ready /tmp/trace.err 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $spid 2>/dev/null; then
		fail sensors-load "$(cat /tmp/trace.err)"
		echo SHRIKE-VM-DONE
		poweroff -f
	fi
	sleep 0.2
done
pass sensors-load

cat /tmp/vm-marker >/dev/null
(cd /tmp && cat ./vm-marker >/dev/null)
mkdir /sys/fs/cgroup/vmtest
sh -c 'echo $$ >/sys/fs/cgroup/vmtest/cgroup.procs; exec /bin/true vm-cgroup-exec'
sleep 2
kill -INT $spid
wait $spid
cat /tmp/trace.err

check exec-event '"event":"exec".*"exe":"/bin/busybox"' /tmp/trace.json
check exec-args '"args":\["cat","/tmp/vm-marker"\]' /tmp/trace.json
check open-abs-path '"event":"openat".*"path":"/tmp/vm-marker"' /tmp/trace.json
check open-relative '"raw":"./vm-marker".*"path":"/tmp/vm-marker"\|"path":"/tmp/vm-marker".*"raw":"./vm-marker"' /tmp/trace.json
# kernfs_node->parent (pre-6.15 layout) resolves the cgroup path
check cgroup-path '"args":\["/bin/true","vm-cgroup-exec"\].*"cgroup":"/vmtest"' /tmp/trace.json
# inode times: i_ctime (pre-6.6 layout) gives a non-zero ctime
if grep '"event":"exec"' /tmp/trace.json | grep -q '"exe_ctime_ns":0,'; then
	fail exe-ctime "zero ctime"
else
	pass exe-ctime
fi
# kernel_cap_t as u32[2] (pre-6.3): root's effective set is non-empty
if grep '"event":"exec"' /tmp/trace.json | grep -q '"cap_eff":"0x0"'; then
	fail caps "empty capability set for root"
else
	pass caps
fi
check no-drops 'drops=0 ' /tmp/trace.err
echo SHRIKE-VM-DONE
poweroff -f
