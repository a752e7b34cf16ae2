#!/bin/sh
# /init of the VM tier's initramfs: mount what shrike needs, run the cases,
# print one "SHRIKE-VM: PASS|FAIL <case>" line each, then power off.
# Cases: the CO-RE sensors on this kernel (shrike trace), then the lsm
# backend of kernel enforcement (shrike run --enforcer lsm with
# /etc/shrike-vm/deny.yaml, probed with /bin/vmtry), enforcing and dry-run.
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
# name, wanted last line of output, command...
expect() {
	name=$1 want=$2
	shift 2
	got=$("$@" 2>&1 | tail -1)
	if [ "$got" = "$want" ]; then pass "$name"; else fail "$name" "want '$want', got '$got'"; fi
}
# name, file that must not exist
absent() {
	if [ -e "$2" ]; then fail "$1" "$2 exists"; else pass "$1"; fi
}
# name, an alert of rule $2 in $4 whose response has outcome $3 (action
# $5, default deny)
alert() {
	a=${5:-deny}
	if grep -F "\"rule\":\"$2\"" "$4" | grep -q "\"action\":\"$a\"[^}]*\"outcome\":\"$3\""; then
		pass "$1"
	else
		fail "$1" "no alert of '$2' with $a outcome $3"
	fi
}
# Start shrike with "$@" (stdout to $out, stderr to $err); wait until ready.
start() {
	"$@" >"$out" 2>"$err" &
	spid=$!
	i=0
	while ! grep -q 'shrike: ready' "$err" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 $spid 2>/dev/null; then
			return 1
		fi
		sleep 0.2
	done
}
stop() {
	kill -INT $spid
	wait $spid
}

echo "vm-marker" >/tmp/vm-marker
/bin/shrike trace --json >/tmp/trace.json 2>/tmp/trace.err &
spid=$!
i=0
while ! grep -q ready /tmp/trace.err 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $spid 2>/dev/null; then
		fail sensors-load "$(cat /tmp/trace.err)"
		# the verifier's reason, for the harness's log
		/bin/shrike trace -v 2>&1 | grep -B40 "END PROG LOAD LOG" | tail -n 60 |
			sed 's/^/SHRIKE-VM-LOG: /'
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
# without tracefs there are no syscall tracepoints to attach to: the
# sys_enter/sys_exit dispatchers capture instead, with the same records
# (--no-mount-tracefs: shrike would otherwise mount it, checked below)
# trace_open NAME ARGS...: shrike trace ARGS into /tmp/trace-NAME.{json,err}
# while a relative open of the marker runs
trace_open() {
	n=$1
	shift
	/bin/shrike trace "$@" >/tmp/trace-$n.json 2>/tmp/trace-$n.err &
	spid=$!
	i=0
	while ! grep -q ready /tmp/trace-$n.err 2>/dev/null && [ $i -lt 600 ] && kill -0 $spid 2>/dev/null; do
		i=$((i + 1))
		sleep 0.2
	done
	(cd /tmp && cat ./vm-marker >/dev/null)
	sleep 1
	stop
}
umount /sys/kernel/tracing
trace_open nt --no-mount-tracefs --json --event openat,setuid
check no-tracefs-notice 'told not to mount it: capturing through the sys_enter/sys_exit dispatchers' /tmp/trace-nt.err
# where nothing mounted tracefs, shrike mounts it and uses the tracepoints
trace_open mt --json --event openat
check tracefs-mounted 'mounted tracefs on /sys/kernel/tracing' /tmp/trace-mt.err
check tracefs-mounted-open '"raw":"./vm-marker".*"path":"/tmp/vm-marker"\|"path":"/tmp/vm-marker".*"raw":"./vm-marker"' /tmp/trace-mt.json
if grep -q ' /sys/kernel/tracing .* - tracefs ' /proc/self/mountinfo; then
	pass tracefs-stays-mounted
else
	fail tracefs-stays-mounted "no tracefs on /sys/kernel/tracing after shrike stopped"
	mount -t tracefs tracefs /sys/kernel/tracing
fi
check no-tracefs-open '"raw":"./vm-marker".*"path":"/tmp/vm-marker"\|"path":"/tmp/vm-marker".*"raw":"./vm-marker"' /tmp/trace-nt.json
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

# ---- kernel enforcement, lsm backend ------------------------------------
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
mkdir -p /tmp/vmt/bin /tmp/vmt/data /tmp/vmt/m /var/lib/shrike /run
# each its own bytes (a trailer past the ELF image): a copy of a denied
# binary is denied by content, and vmtry itself runs every case
for b in evil good vmpriv killme; do
	cp /bin/vmtry /tmp/vmt/bin/$b && echo "$b" >>/tmp/vmt/bin/$b
done
# a copy of evil; and one of its size and first bytes that differs at its end
cp /tmp/vmt/bin/evil /tmp/vmt/copy
cp /bin/vmtry /tmp/vmt/near && echo evim >>/tmp/vmt/near
ln -s /tmp/vmt/bin/evil /tmp/vmt/sym
ln /tmp/vmt/bin/evil /tmp/vmt/hard
echo secret >/tmp/vmt/data/secret
echo sibling >/tmp/vmt/data/sibling
ln -s /tmp/vmt/data/secret /tmp/vmt/secret-link

# The denied image's first action would be to create its marker.
lsm_cases() { # case prefix; denied outcome (EPERM, or ok in dry-run)
	p=$1 d=$2
	expect $p-exec-denied $d vmtry exec /tmp/vmt/bin/evil evil mark /tmp/vmt/m/$p-evil
	[ $d = EPERM ] && absent $p-exec-no-instruction /tmp/vmt/m/$p-evil
	expect $p-exec-neighbour ok vmtry exec /tmp/vmt/bin/good good mark /tmp/vmt/m/$p-good
	expect $p-exec-symlink $d vmtry exec /tmp/vmt/sym sym mark /tmp/vmt/m/$p-sym
	expect $p-exec-hardlink $d vmtry exec /tmp/vmt/hard hard mark /tmp/vmt/m/$p-hard
	expect $p-exec-dotdot $d vmtry exec /tmp/vmt/bin/../bin/evil evil mark /tmp/vmt/m/$p-dd
	expect $p-exec-relative $d sh -c "cd /tmp/vmt/bin && vmtry exec ./evil evil mark /tmp/vmt/m/$p-rel"
	expect $p-execveat-fd $d vmtry execfd /tmp/vmt/bin/evil evil mark /tmp/vmt/m/$p-fd
	[ $d = EPERM ] && absent $p-exec-evasions-no-instruction /tmp/vmt/m/$p-sym
	expect $p-open-denied $d vmtry open /tmp/vmt/data/secret
	expect $p-open-neighbour ok vmtry open /tmp/vmt/data/sibling
	expect $p-open-dotdot $d vmtry open /tmp/vmt/data/../data/secret
	expect $p-open-relative $d sh -c "cd /tmp/vmt/data && vmtry open secret"
	expect $p-openat-dirfd $d vmtry openat /tmp/vmt/data secret
	expect $p-open-symlink $d vmtry open /tmp/vmt/secret-link
	expect $p-connect-denied $d vmtry connect 4444
	expect $p-connect-neighbour ok vmtry connect 4445
	# the process-only classes: hooks task_fix_setuid, sb_mount,
	# path_symlink; the same calls by vmtry (another name) go through
	expect $p-setuid-denied $d vmtry exec /tmp/vmt/bin/vmpriv vmpriv setuid 0
	expect $p-setuid-neighbour ok vmtry setuid 0
	mkdir -p /tmp/vmt/mnt-$p-a /tmp/vmt/mnt-$p-b
	expect $p-mount-denied $d vmtry exec /tmp/vmt/bin/vmpriv vmpriv mount /tmp/vmt/mnt-$p-a
	expect $p-mount-neighbour ok vmtry mount /tmp/vmt/mnt-$p-b
	expect $p-symlink-denied $d vmtry exec /tmp/vmt/bin/vmpriv vmpriv symlink /x /tmp/vmt/l-$p-a
	expect $p-symlink-neighbour ok vmtry symlink /x /tmp/vmt/l-$p-b
	# path_link, ptrace_access_check, bpf, kernel_read_file (a module
	# that is not one: allowed, the loader says ENOEXEC)
	expect $p-link-denied $d vmtry exec /tmp/vmt/bin/vmpriv vmpriv link /tmp/vmt/data/sibling /tmp/vmt/h-$p-a
	expect $p-link-neighbour ok vmtry link /tmp/vmt/data/sibling /tmp/vmt/h-$p-b
	expect $p-ptrace-denied $d vmtry exec /tmp/vmt/bin/vmpriv vmpriv ptrace
	expect $p-ptrace-neighbour ok vmtry ptrace
	expect $p-bpf-denied $d vmtry exec /tmp/vmt/bin/vmpriv vmpriv bpf
	expect $p-bpf-neighbour ok vmtry bpf
	[ $d = EPERM ] && dm=EPERM || dm=ENOEXEC
	expect $p-module-denied $dm vmtry exec /tmp/vmt/bin/vmpriv vmpriv module /tmp/vmt/data/sibling
	expect $p-module-neighbour ENOEXEC vmtry module /tmp/vmt/data/sibling
	[ $d = EPERM ] && k=rc=137 || k=rc=0
	# a copy: stopped at exec, compared in full by shrike, killed
	expect $p-exec-copy $k sh -c "vmtry exec /tmp/vmt/copy evil mark /tmp/vmt/m/$p-copy >/dev/null; echo rc=\$?"
	[ $d = EPERM ] && absent $p-exec-copy-no-instruction /tmp/vmt/m/$p-copy
	expect $p-exec-near-copy rc=0 sh -c "vmtry exec /tmp/vmt/near evil mark /tmp/vmt/m/$p-near >/dev/null; echo rc=\$?"
	# kill: process decided in the kernel: the lsm hook refuses the exec
	# and the caller dies (SIGKILL) before execve returns to it
	expect $p-kill-exec $k sh -c "vmtry exec /tmp/vmt/bin/killme killme mark /tmp/vmt/m/$p-kill >/dev/null; echo rc=\$?"
	[ $d = EPERM ] && absent $p-kill-no-instruction /tmp/vmt/m/$p-kill
	# fileless: the image never runs, so its marker never appears
	expect $p-execmemfd-denied $d vmtry execmemfd /tmp/vmt/bin/good fileless mark /tmp/vmt/m/$p-memfd
	[ $d = EPERM ] && absent $p-execmemfd-no-instruction /tmp/vmt/m/$p-memfd
}

out=/tmp/lsm.json err=/tmp/lsm.err
if ! start /bin/shrike run --enforcer lsm --json --policy /etc/shrike-vm/deny.yaml; then
	fail lsm-start "$(cat $err)"
else
	check lsm-backend 'using lsm backend' $err
	lsm_cases lsm EPERM
	sleep 1
	stop
	cat $err
	alert lsm-alert-exec 'vm deny exec' done $out
	alert lsm-alert-open 'vm deny open' done $out
	alert lsm-alert-connect 'vm deny connect' done $out
	alert lsm-alert-privileged 'vm deny privileged' done $out
	alert lsm-alert-fileless 'vm deny fileless' done $out
	alert lsm-alert-kill 'vm kill exec' done $out kill
	check lsm-kill-in-kernel '"rule":"vm kill exec".*"target":"pid [0-9]* (kernel: lsm)"' $out
	check lsm-verdicts-counted 'kp_verdicts=[1-9]' $err
	check lsm-no-missed 'kp_missed=0$' $err
fi

# a reload under lsm adds and removes a deny rule without a restart; the
# rules kept stay in force
cp /etc/shrike-vm/deny.yaml /tmp/vmt/reload.yaml
out=/tmp/rl.json err=/tmp/rl.err
if ! start /bin/shrike run --enforcer lsm --json --policy /tmp/vmt/reload.yaml; then
	fail reload-start "$(cat $err)"
else
	expect reload-before ok vmtry exec /tmp/vmt/bin/good good mark /tmp/vmt/m/rl-1
	cat >>/tmp/vmt/reload.yaml <<'EOF'
- rule: vm deny good too
  desc: added by a reload
  condition: evt.type in (execve, execveat) and proc.exepath = /tmp/vmt/bin/good
  output: "vm: reloaded rule (exe=%proc.exepath)"
  priority: CRITICAL
  actions: [deny]
  mode: enforce
EOF
	if /bin/shrike reload | grep -q '^reloaded'; then pass reload-added-cmd; else fail reload-added-cmd; fi
	expect reload-added EPERM vmtry exec /tmp/vmt/bin/good good mark /tmp/vmt/m/rl-2
	expect reload-kept EPERM vmtry exec /tmp/vmt/bin/evil evil mark /tmp/vmt/m/rl-3
	cp /etc/shrike-vm/deny.yaml /tmp/vmt/reload.yaml
	if /bin/shrike reload | grep -q '^reloaded'; then pass reload-removed-cmd; else fail reload-removed-cmd; fi
	expect reload-removed ok vmtry exec /tmp/vmt/bin/good good mark /tmp/vmt/m/rl-4
	expect reload-still-kept EPERM vmtry exec /tmp/vmt/bin/evil evil mark /tmp/vmt/m/rl-5
	stop
	alert reload-alert 'vm deny good too' done $out
fi

out=/tmp/dry.json err=/tmp/dry.err
if ! start /bin/shrike run --enforcer lsm --dry-run --json --policy /etc/shrike-vm/deny.yaml; then
	fail dry-start "$(cat $err)"
else
	lsm_cases dry ok
	if [ -e /tmp/vmt/m/dry-evil ]; then pass dry-exec-ran; else fail dry-exec-ran "no marker"; fi
	sleep 1
	stop
	alert dry-alert-exec 'vm deny exec' would $out
	alert dry-alert-open 'vm deny open' would $out
	alert dry-alert-connect 'vm deny connect' would $out
	alert dry-alert-privileged 'vm deny privileged' would $out
	alert dry-alert-fileless 'vm deny fileless' would $out
	alert dry-alert-kill 'vm kill exec' would $out kill
fi
echo SHRIKE-VM-DONE
poweroff -f
