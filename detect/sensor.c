/* SPDX-License-Identifier: Apache-2.0 */
#include "sensor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "decode.h"
#include "ring.h"
#include "sensor.skel.h"
#include "syscalls.h"

#define DEFAULT_RINGBUF (8u << 20)
#define BTF_PATH "/sys/kernel/btf/vmlinux"

struct shk_sensor {
	struct sensor *skel;
	struct shk_ring ring;
	shk_sensor_fn fn;
	void *ctx;
	int ncpus;
	bool fast_reads;
	bool lsm; /* the LSM hooks are loaded */
	/* the kernel's BTF, parsed once for the checks below (a parse takes
	 * about 0.2 s on a 6.x kernel); dropped once the sensors are up */
	struct btf *vmlinux;
	bool vmlinux_tried;
	const char *warning;
	char notice[256];
	uint64_t received, malformed, abi_mismatch;
	/* per syscall: flags and kernel policy class added to the interest */
	uint8_t extra[SHK_SYSCALL_MAX];
	bool wanted[SHK_SYSCALL_MAX]; /* a rule or the caller wants its records */
	bool noenter[SHK_SYSCALL_MAX]; /* wanted for state only: no entry context */
	uint8_t written[SHK_SYSCALL_MAX]; /* the flags in the interest map */
	/* entry and exit work: per-syscall tracepoints where they exist
	 * (tp[dir][]), else the sys_enter/sys_exit dispatchers (tp_sync) */
	struct bpf_link *tp[2][SHK_SYSCALL_MAX];
	bool absent[2][SHK_SYSCALL_MAX]; /* its tracepoint cannot be attached */
	bool kp;         /* the kernel-policy variants are loaded */
	bool compat_watch; /* keep the sys_exit dispatcher (opts->compat_watch) */
	bool tps;          /* the kernel has syscall tracepoints (tp_sync) */
	uint8_t kp_class[SHK_SYSCALL_MAX];
	struct shk_event ev; /* large: decoded in place, never on the stack */
};

static bool verbose_libbpf;

enum { TP_ENTER, TP_EXIT };

static void tp_sync(struct shk_sensor *s, int dir);
static int sensor_attach_syscalls(struct shk_sensor *s);
static bool syscall_tps_exist(void);
static void tracefs_ensure(struct shk_sensor *s, bool may_mount);

/* libbpf's own messages only with --verbose: otherwise the caller reports
 * a failure once, in one line, with context. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose_libbpf)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool has_cap(uint64_t caps, int cap)
{
	return caps & (1ull << cap);
}

static uint64_t effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long v = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

int shk_sensor_probe(const char **ret_msg)
{
	uint64_t caps = effective_caps();

	/* CAP_SYS_ADMIN = 21, CAP_PERFMON = 38, CAP_BPF = 39 */
	if (!has_cap(caps, 21) && !(has_cap(caps, 38) && has_cap(caps, 39))) {
		*ret_msg = "shrike needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) to load "
			   "its sensors: run it as root or with those capabilities";
		return -EPERM;
	}
	if (access(BTF_PATH, R_OK)) {
		*ret_msg = "this kernel exposes no BTF (" BTF_PATH " is missing): shrike needs a "
			   "kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)";
		return -ENOENT;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		*ret_msg = "this kernel has no BPF ring buffer: shrike needs Linux 5.8 or newer";
		return -EOPNOTSUPP;
	}
	return 0;
}

static size_t pow2_at_least(size_t v);

static struct btf *kernel_btf(struct shk_sensor *s)
{
	if (!s->vmlinux_tried) {
		s->vmlinux = btf__load_vmlinux_btf(); /* NULL on error */
		s->vmlinux_tried = true;
	}
	return s->vmlinux;
}

/*
 * Whether the kernel's BTF names `name`: a search of its string section,
 * without parsing the types (a full parse costs about 0.2 s, and libbpf
 * makes its own when it loads the object). A string that names something
 * else only costs a refused load, which has a fallback.
 */
static bool btf_has_name(const char *name)
{
	struct {
		uint16_t magic;
		uint8_t version, flags;
		uint32_t hdr_len, type_off, type_len, str_off, str_len;
	} h;
	size_t cap = 8u << 20, len = 0, nlen = strlen(name);
	char *buf = NULL, *p, *str, *end;
	bool found = false;
	ssize_t n;
	int fd = open(BTF_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	buf = malloc(cap);
	while (buf && (n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			char *b = realloc(buf, cap * 2);

			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
	}
	close(fd);
	if (!buf || len < sizeof(h))
		goto out;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != 0xeB9F || h.hdr_len < sizeof(h) ||
	    (uint64_t)h.hdr_len + h.str_off + h.str_len > len)
		goto out;
	str = buf + h.hdr_len + h.str_off;
	end = str + h.str_len;
	for (p = str; p < end && p + nlen < end; p += strnlen(p, (size_t)(end - p)) + 1) {
		if (!memcmp(p, name, nlen + 1)) {
			found = true;
			break;
		}
	}
out:
	free(buf);
	return found;
}

/* Whether the kernel has the bpf_rdonly_cast() kfunc the fast reads need
 * (see bpf/sensor.bpf.c). */
static bool have_rdonly_cast(void)
{
	return btf_has_name("bpf_rdonly_cast");
}

/* The kernel function behind an LSM hook, e.g. bpf_lsm_file_open: its
 * number of arguments, or -1 when the kernel has no such hook. */
static int lsm_hook_nargs(const struct btf *vmlinux, const char *hook)
{
	const struct btf_type *t;
	char name[96];
	int id;

	snprintf(name, sizeof(name), "bpf_lsm_%s", hook);
	id = vmlinux ? btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) : -1;
	if (id <= 0)
		return -1;
	t = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}

/*
 * LSM programs load only with lsm: on kernels that refuse them (EPERM)
 * one would fail the whole object. Of the hooks, only those the kernel
 * has (the path hooks need CONFIG_SECURITY_PATH), and of the two bpf
 * programs the one of the kernel's arity (lsm/hooks.bpf.h).
 */
static void lsm_autoload(struct shk_sensor *s, bool lsm)
{
	struct btf *vmlinux = lsm ? kernel_btf(s) : NULL;
	struct bpf_program *p;

	bpf_object__for_each_program(p, s->skel->obj) {
		const char *sec = bpf_program__section_name(p), *hook;
		int nargs;

		if (bpf_program__type(p) != BPF_PROG_TYPE_LSM)
			continue;
		hook = strchr(sec, '/');
		nargs = hook ? lsm_hook_nargs(vmlinux, hook + 1) : -1;
		if (nargs >= 0 && !strcmp(hook + 1, "bpf")) {
			/* shk_lsm_bpf_kernel: the 4-argument hook (v6.16+) */
			bool four = !strcmp(bpf_program__name(p), "shk_lsm_bpf_kernel");

			if (four != (nargs > 3))
				nargs = -1;
		}
		bpf_program__set_autoload(p, lsm && nargs >= 0);
	}
}

/* Open and load the object, with or without fast reads and LSM hooks. */
static int load_skel(struct shk_sensor *s, const struct shk_sensor_opts *opts, bool fast, bool lsm)
{
	sensor__destroy(s->skel);
	s->skel = sensor__open();
	if (!s->skel)
		return -errno;
	lsm_autoload(s, lsm);
	/* One variant of each program: with the kernel policy or plain. The
	 * syscall programs are the per-syscall tracepoint ones where the
	 * kernel has those, else the dispatchers; the exit dispatcher also
	 * when 32-bit syscalls are counted. Each is verified at load, and
	 * the exit program is the biggest: never load one for nothing. */
	s->kp = opts && opts->kp;
	s->tps = syscall_tps_exist();
	bpf_program__set_autoload(s->skel->progs.shk_exec, s->kp);
	bpf_program__set_autoload(s->skel->progs.shk_exec_plain, !s->kp);
	bpf_program__set_autoload(s->skel->progs.shk_sys_enter, s->kp && !s->tps);
	bpf_program__set_autoload(s->skel->progs.shk_sys_enter_plain, !s->kp && !s->tps);
	bpf_program__set_autoload(s->skel->progs.shk_sys_enter_tp, s->kp && s->tps);
	bpf_program__set_autoload(s->skel->progs.shk_sys_enter_tp_plain, !s->kp && s->tps);
	bpf_program__set_autoload(s->skel->progs.shk_sys_exit, s->kp && (!s->tps || s->compat_watch));
	bpf_program__set_autoload(s->skel->progs.shk_sys_exit_plain,
				  !s->kp && (!s->tps || s->compat_watch));
	bpf_program__set_autoload(s->skel->progs.shk_sys_exit_tp, s->kp && s->tps && !s->compat_watch);
	bpf_program__set_autoload(s->skel->progs.shk_sys_exit_tp_plain,
				  !s->kp && s->tps && !s->compat_watch);
	/* the syscall programs are attached by tp_sync(), as wanted */
	bpf_program__set_autoattach(s->skel->progs.shk_sys_enter, false);
	bpf_program__set_autoattach(s->skel->progs.shk_sys_enter_plain, false);
	bpf_program__set_autoattach(s->skel->progs.shk_sys_enter_tp, false);
	bpf_program__set_autoattach(s->skel->progs.shk_sys_enter_tp_plain, false);
	bpf_program__set_autoattach(s->skel->progs.shk_sys_exit, false);
	bpf_program__set_autoattach(s->skel->progs.shk_sys_exit_plain, false);
	bpf_program__set_autoattach(s->skel->progs.shk_sys_exit_tp, false);
	bpf_program__set_autoattach(s->skel->progs.shk_sys_exit_tp_plain, false);
	s->skel->rodata->shk_self_pid = opts ? (uint32_t)opts->self_pid : 0;
	/* each CPU wakes us once it has written its share of wakeup_bytes */
	if (opts && opts->wakeup_bytes) {
		size_t share = opts->wakeup_bytes / (size_t)s->ncpus;

		s->skel->rodata->shk_wakeup_bytes = (uint32_t)(share < 4096 ? 4096 : share);
	}
	s->skel->rodata->shk_fast_reads = fast;
	bpf_map__set_max_entries(s->skel->maps.scratch, (uint32_t)s->ncpus);
	bpf_map__set_max_entries(s->skel->maps.events,
				 (uint32_t)pow2_at_least(opts && opts->ringbuf_bytes ?
								 opts->ringbuf_bytes :
								 DEFAULT_RINGBUF));
	return sensor__load(s->skel);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct shk_sensor *s = ctx;
	int err = shk_decode(data, size, &s->ev);

	if (err == -EPROTO) {
		s->abi_mismatch++;
		return 0;
	}
	if (err) {
		s->malformed++;
		return 0;
	}
	s->received++;
	return s->fn ? s->fn(&s->ev, s->ctx) : 0;
}

static size_t pow2_at_least(size_t v)
{
	size_t p = 4096;

	while (p < v)
		p <<= 1;
	return p;
}

struct shk_sensor *shk_sensor_new(const struct shk_sensor_opts *opts, shk_sensor_fn fn, void *ctx,
				  const char **ret_msg)
{
	struct shk_sensor *s;
	const char *msg = NULL;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	bool loaded;
	int err;

	verbose_libbpf = opts && opts->verbose;
	libbpf_set_print(libbpf_log);

	/* Kernels >= 5.11 charge BPF memory to the cgroup and ignore
	 * RLIMIT_MEMLOCK; older ones need it raised. Failing to raise it is
	 * therefore not fatal here; a load failure below explains it. */
	bool memlock_raised = setrlimit(RLIMIT_MEMLOCK, &rl) == 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fn = fn;
	s->ctx = ctx;
	s->compat_watch = opts && opts->compat_watch;
	tracefs_ensure(s, !(opts && opts->no_tracefs_mount));
	if (!memlock_raised)
		s->warning = "could not raise RLIMIT_MEMLOCK (no CAP_SYS_RESOURCE): continuing, "
			     "kernels >= 5.11 account BPF memory to cgroups instead";
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		err = s->ncpus ? s->ncpus : -EINVAL;
		msg = "cannot count CPUs (/sys/devices/system/cpu/possible)";
		goto fail;
	}

	/* Fast reads where the kernel supports them; if that load is refused
	 * for any reason, the portable helper reads are the fallback. */
	s->fast_reads = have_rdonly_cast();
	s->lsm = opts && opts->lsm;
	/* With the LSM hooks first; a kernel that refuses them (to load or
	 * to attach) still gets the sensors and the signal backend. */
	for (;;) {
		loaded = false;
		err = load_skel(s, opts, s->fast_reads, s->lsm);
		if (err && s->fast_reads) {
			s->fast_reads = false;
			err = load_skel(s, opts, false, s->lsm);
		}
		if (!err) {
			loaded = true;
			err = sensor__attach(s->skel);
			if (!err)
				err = sensor_attach_syscalls(s);
		}
		if (!err || !s->lsm)
			break;
		s->lsm = false;
		s->fast_reads = have_rdonly_cast();
	}
	btf__free(s->vmlinux);
	s->vmlinux = NULL;
	if (err && loaded) {
		msg = "cannot attach the sensors to their tracepoints";
		goto fail;
	}
	if (err) {
		if (!s->skel)
			msg = "cannot open the sensor BPF object";
		else if (err == -EPERM && !memlock_raised)
			msg = "the kernel refused the sensors (EPERM) and RLIMIT_MEMLOCK could not be "
			      "raised: raise the memlock limit (ulimit -l unlimited) or run as root";
		else if (err == -EPERM)
			msg = "the kernel refused to load the sensors (EPERM): check that shrike runs "
			      "as root and that no LSM or lockdown mode forbids BPF";
		else
			msg = "the kernel rejected the sensor programs (run with --verbose for the "
			      "verifier log)";
		goto fail;
	}
	err = shk_ring_map(&s->ring, bpf_map__fd(s->skel->maps.events),
			   bpf_map__max_entries(s->skel->maps.events), on_record, s);
	if (err) {
		msg = "cannot map the event ring buffer";
		goto fail;
	}
	return s;
fail:
	if (ret_msg)
		*ret_msg = msg;
	shk_sensor_free(s);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

void shk_sensor_free(struct shk_sensor *s)
{
	if (!s)
		return;
	shk_ring_unmap(&s->ring);
	btf__free(s->vmlinux);
	for (int nr = 0; nr < SHK_SYSCALL_MAX; nr++) {
		bpf_link__destroy(s->tp[TP_ENTER][nr]);
		bpf_link__destroy(s->tp[TP_EXIT][nr]);
	}
	sensor__destroy(s->skel);
	free(s);
}

bool shk_sensor_compat_watched(const struct shk_sensor *s)
{
	return s->compat_watch;
}

/* The tracepoint is named after the kernel's SYSCALL_DEFINE, which is not
 * always the syscall's name. */
static const char *tp_name(const char *syscall)
{
	return !strcmp(syscall, "umount2") ? "umount" : syscall;
}

static void tp_drop(struct shk_sensor *s, int dir, int nr)
{
	bpf_link__destroy(s->tp[dir][nr]);
	s->tp[dir][nr] = NULL;
}

/*
 * Whether the kernel has syscall tracepoints at all. Where it does, a
 * syscall without one is not built in (init_module without
 * CONFIG_MODULES): it always fails with ENOSYS, there is nothing to see,
 * and it must not drag every other syscall through the dispatcher.
 */
static bool syscall_tps_exist(void)
{
	return !access("/sys/kernel/tracing/events/syscalls/sys_exit_close", F_OK) ||
	       !access("/sys/kernel/debug/tracing/events/syscalls/sys_exit_close", F_OK);
}

#define TRACEFS_DIR "/sys/kernel/tracing"

/*
 * The per-syscall tracepoints are found by name in tracefs (libbpf reads
 * each one's id there), so without tracefs the only hooks left are the
 * sys_enter/sys_exit dispatchers, which run a program on every syscall of
 * every task, read and write included (a loop of 1-byte reads and writes
 * ran 1.2-1.4x slower that way, and 1.0-1.06x through the tracepoints). Most distributions mount tracefs at boot; where nothing has, mount
 * it where the kernel made room for it, as trace-cmd does. It stays
 * mounted: another tool (or another shrike) may find it there and rely on
 * it later, and it is root's only (tracefs is mode 0700). A kernel without syscall
 * tracepoints gets its tracefs unmounted again, nothing changed.
 */
static void tracefs_ensure(struct shk_sensor *s, bool may_mount)
{
	const char *fallback = "capturing through the sys_enter/sys_exit dispatchers, which "
			       "run a program on every syscall";
	struct stat st;

	if (syscall_tps_exist())
		return;
	if (!may_mount) {
		snprintf(s->notice, sizeof(s->notice), "tracefs is not mounted and shrike was told "
			 "not to mount it: %s", fallback);
		return;
	}
	if (stat(TRACEFS_DIR, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(s->notice, sizeof(s->notice), "no syscall tracepoints (no tracefs, no "
			 TRACEFS_DIR "): %s", fallback);
		return;
	}
	if (mount("tracefs", TRACEFS_DIR, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		snprintf(s->notice, sizeof(s->notice), "tracefs is not mounted and mounting it on "
			 TRACEFS_DIR " failed (%s): %s", strerror(errno), fallback);
		return;
	}
	if (!syscall_tps_exist()) {
		umount2(TRACEFS_DIR, 0);
		snprintf(s->notice, sizeof(s->notice), "this kernel has no syscall tracepoints "
			 "(CONFIG_FTRACE_SYSCALLS): %s", fallback);
		return;
	}
	snprintf(s->notice, sizeof(s->notice), "mounted tracefs on " TRACEFS_DIR " (nothing had): "
		 "the per-syscall tracepoints are found there; it stays mounted");
}

/* The interest flags that make a syscall need a program at entry or exit
 * (what shk_sys_enter and shk_sys_exit test before doing anything). */
static const uint8_t tp_need[2] = {
	[TP_ENTER] = SHK_INTEREST_ENTER | SHK_INTEREST_KP_ENTER,
	[TP_EXIT] = SHK_INTEREST_EXIT | SHK_INTEREST_KP_EXIT | SHK_INTEREST_KP_ENTER |
		    SHK_INTEREST_KP_STASH,
};

/* The programs of one direction: the dispatcher (its link in the skeleton)
 * and the per-syscall one, in the variant that is loaded. */
static struct bpf_link **tp_progs(struct shk_sensor *s, int dir, struct bpf_program **ret_wide,
				  struct bpf_program **ret_tp)
{
	struct sensor *k = s->skel;

	if (dir == TP_ENTER) {
		*ret_wide = s->kp ? k->progs.shk_sys_enter : k->progs.shk_sys_enter_plain;
		*ret_tp = s->kp ? k->progs.shk_sys_enter_tp : k->progs.shk_sys_enter_tp_plain;
		return s->kp ? &k->links.shk_sys_enter : &k->links.shk_sys_enter_plain;
	}
	*ret_wide = s->kp ? k->progs.shk_sys_exit : k->progs.shk_sys_exit_plain;
	*ret_tp = s->kp ? k->progs.shk_sys_exit_tp : k->progs.shk_sys_exit_tp_plain;
	return s->kp ? &k->links.shk_sys_exit : &k->links.shk_sys_exit_plain;
}

/*
 * Entry work (the setuid family's caller context, the kernel policy's entry
 * checks) and exit work (the records) are wanted for a known set of
 * syscalls. A dispatcher on sys_enter/sys_exit would run a BPF program on
 * every syscall of every task, read and write and close included; each
 * syscall's own tracepoint (syscalls:sys_{enter,exit}_NAME) costs the
 * others one bit test in the kernel. So: one tracepoint link per syscall
 * and direction, and the dispatchers only on a kernel without syscall
 * tracepoints (no CONFIG_FTRACE_SYSCALLS, or tracefs not mounted). load_skel()
 * loads one or the other per direction, never both, or a syscall would be
 * handled twice.
 *
 * The kernel's syscall tracepoints leave out 32-bit (int 0x80) syscalls, so
 * without the dispatcher those are not even counted: with
 * opts->compat_watch the exit side is the dispatcher's alone.
 */
static void tp_sync(struct shk_sensor *s, int dir)
{
	const uint8_t e = tp_need[dir];
	struct bpf_program *wide_prog, *tp;
	struct bpf_link **l = tp_progs(s, dir, &wide_prog, &tp);
	bool compat = dir == TP_EXIT && s->compat_watch, need_any = false;
	int nr;

	if (!s->tps || compat) {
		for (nr = 0; nr < SHK_SYSCALL_MAX; nr++)
			need_any |= s->written[nr] & e;
		/* the dispatcher only while something needs it */
		if ((need_any || compat) && !*l)
			*l = bpf_program__attach(wide_prog); /* NULL: retried next time */
		if (!need_any && !compat && *l) {
			bpf_link__destroy(*l);
			*l = NULL;
		}
		return;
	}
	for (nr = 0; nr < SHK_SYSCALL_MAX; nr++) {
		const struct shk_sys_desc *d;
		char name[64];

		if (!(s->written[nr] & e)) {
			if (s->tp[dir][nr])
				tp_drop(s, dir, nr);
			continue;
		}
		if (s->tp[dir][nr] || s->absent[dir][nr])
			continue;
		d = shk_syscall_by_nr(nr);
		snprintf(name, sizeof(name), "sys_%s_%s", dir == TP_ENTER ? "enter" : "exit",
			 d ? tp_name(d->name) : "");
		s->tp[dir][nr] = bpf_program__attach_tracepoint(tp, "syscalls", name);
		if (s->tp[dir][nr])
			continue;
		/* no tracepoint where the kernel has them: the syscall is not
		 * built in (syscall_tps_exist()) */
		if (errno == ENOENT && verbose_libbpf)
			fprintf(stderr, "shrike: no tracepoint syscalls:%s: %s is not in this "
					"kernel, nothing to capture\n",
				name, d ? d->name : "?");
		else if (errno != ENOENT)
			fprintf(stderr, "shrike: warning: cannot attach syscalls:%s (%s): %s is not "
					"captured\n",
				name, strerror(errno), d ? d->name : "?");
		s->absent[dir][nr] = true;
	}
}

/* At start-up nothing is wanted yet: only the compat watch, if asked for,
 * needs a syscall program. */
static int sensor_attach_syscalls(struct shk_sensor *s)
{
	struct bpf_program *wide_prog, *tp;

	tp_sync(s, TP_ENTER);
	tp_sync(s, TP_EXIT);
	if (s->compat_watch && !*tp_progs(s, TP_EXIT, &wide_prog, &tp))
		return -EINVAL; /* the dispatcher did not attach */
	return 0;
}

/* Write nr's interest entry from what is wanted: its records (wanted[]),
 * urgency, and kernel policy checks (extra[]). A syscall only checked by
 * the kernel policy is captured without SHK_INTEREST_EXIT: the exit
 * program then sends a record only when it carries a verdict. */
static int write_interest(struct shk_sensor *s, const struct shk_sys_desc *d, int nr)
{
	const uint8_t kp = SHK_INTEREST_KP_ENTER | SHK_INTEREST_KP_EXIT | SHK_INTEREST_KP_STASH;
	struct shk_interest in = { 0 };
	uint32_t key = (uint32_t)nr;

	if (s->wanted[nr])
		in.flags = d->interest | s->extra[nr];
	else if (s->extra[nr] & kp)
		in.flags = s->extra[nr] & (kp | SHK_INTEREST_URGENT);
	if (in.flags) {
		in.kind = d->kind;
		in.kp_class = s->kp_class[nr];
	}
	if (s->wanted[nr] && s->noenter[nr])
		in.flags &= (uint8_t)~SHK_INTEREST_ENTER;
	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.interest), &key, &in, BPF_ANY))
		return -errno;
	if (s->written[nr] != in.flags) {
		uint8_t was = s->written[nr];

		s->written[nr] = in.flags;
		if ((was ^ in.flags) & tp_need[TP_ENTER])
			tp_sync(s, TP_ENTER);
		if ((was ^ in.flags) & tp_need[TP_EXIT])
			tp_sync(s, TP_EXIT);
	}
	return 0;
}

static int set_interest(struct shk_sensor *s, const struct shk_sys_desc *d, bool on)
{
	int nr = shk_syscall_nr(d->name);

	if (nr < 0 || nr >= SHK_SYSCALL_MAX)
		return -ENOENT; /* not a syscall on this architecture */
	s->wanted[nr] = on;
	s->noenter[nr] = false;
	return write_interest(s, d, nr);
}

int shk_sensor_want_state(struct shk_sensor *s, const char *syscall)
{
	const struct shk_sys_desc *d = shk_syscall_by_name(syscall);
	int nr = d ? shk_syscall_nr(d->name) : -1;

	if (nr < 0 || nr >= SHK_SYSCALL_MAX)
		return -ENOENT;
	if (!s->wanted[nr])
		s->noenter[nr] = true; /* a rule's want keeps its entry context */
	s->wanted[nr] = true;
	return write_interest(s, d, nr);
}

int shk_sensor_urgent_nr(struct shk_sensor *s, int nr)
{
	const struct shk_sys_desc *d = shk_syscall_by_nr(nr);

	if (!d || nr < 0 || nr >= SHK_SYSCALL_MAX)
		return -ENOENT;
	s->extra[nr] |= SHK_INTEREST_URGENT;
	s->wanted[nr] = true;
	return write_interest(s, d, nr);
}

int shk_sensor_kp_nr(struct shk_sensor *s, int nr, uint8_t flags, uint8_t cls)
{
	const struct shk_sys_desc *d = shk_syscall_by_nr(nr);

	if (!d || nr < 0 || nr >= SHK_SYSCALL_MAX)
		return -ENOENT;
	s->extra[nr] = (uint8_t)((s->extra[nr] & ~(SHK_INTEREST_KP_ENTER | SHK_INTEREST_KP_EXIT |
						   SHK_INTEREST_KP_STASH)) | flags);
	s->kp_class[nr] = cls;
	return write_interest(s, d, nr);
}

int shk_sensor_kp_maps(const struct shk_sensor *s, struct shk_kp_maps *ret)
{
	ret->active = bpf_map__fd(s->skel->maps.kp_active);
	ret->conf = bpf_map__fd(s->skel->maps.kp_conf);
	ret->base = bpf_map__fd(s->skel->maps.kp_base);
	ret->clause = bpf_map__fd(s->skel->maps.kp_clause);
	ret->str = bpf_map__fd(s->skel->maps.kp_str);
	ret->num = bpf_map__fd(s->skel->maps.kp_num);
	ret->nvals = bpf_map__fd(s->skel->maps.kp_nvals);
	ret->nbits = bpf_map__fd(s->skel->maps.kp_nbits);
	ret->addr = bpf_map__fd(s->skel->maps.kp_addr);
	ret->stash = bpf_map__fd(s->skel->maps.kp_stash);
	ret->facts = bpf_map__fd(s->skel->maps.kp_facts);
	ret->protect = bpf_map__fd(s->skel->maps.kp_protect);
	ret->comm = bpf_map__fd(s->skel->maps.kp_comm);
	ret->needles = bpf_map__fd(s->skel->maps.kp_needles);
	return 0;
}

bool shk_sensor_lsm(const struct shk_sensor *s)
{
	return s->lsm;
}

int shk_sensor_kp_lsm(struct shk_sensor *s, bool on)
{
	if (on && !s->lsm)
		return -ENOTSUP;
	s->skel->bss->shk_kp_lsm = on;
	return 0;
}

void shk_sensor_urgent_proc(struct shk_sensor *s, bool on)
{
	s->skel->bss->shk_urgent_proc = on;
}

int shk_sensor_want(struct shk_sensor *s, const char *syscall, bool on)
{
	const struct shk_sys_desc *d = shk_syscall_by_name(syscall);

	return d ? set_interest(s, d, on) : -ENOENT;
}

int shk_sensor_want_nr(struct shk_sensor *s, int nr, bool on)
{
	const struct shk_sys_desc *d = shk_syscall_by_nr(nr);

	return d ? set_interest(s, d, on) : -ENOENT;
}

int shk_sensor_want_all(struct shk_sensor *s)
{
	size_t n;
	const struct shk_sys_desc *d = shk_syscalls(&n);
	int err;

	for (size_t i = 0; i < n; i++) {
		err = set_interest(s, &d[i], true);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

bool shk_sensor_fast_reads(const struct shk_sensor *s)
{
	return s->fast_reads;
}

const char *shk_sensor_warning(const struct shk_sensor *s)
{
	return s->warning;
}

const char *shk_sensor_notice(const struct shk_sensor *s)
{
	return s->notice[0] ? s->notice : NULL;
}

int shk_sensor_fd(const struct shk_sensor *s)
{
	return s->ring.fd;
}

int shk_sensor_consume(struct shk_sensor *s)
{
	long n = shk_ring_consume(&s->ring);

	return n > INT_MAX ? INT_MAX : (int)n;
}

int shk_sensor_stats_cpu(const struct shk_sensor *s, struct shk_sensor_stats *ret,
			 struct shk_counters **ret_per)
{
	struct shk_counters *per;
	uint32_t zero = 0;
	int fd = bpf_map__fd(s->skel->maps.counters), n = s->ncpus;

	memset(ret, 0, sizeof(*ret));
	per = calloc((size_t)n, sizeof(*per));
	if (!per)
		return -ENOMEM;
	/* one lookup gives every CPU's counters; the totals are their sums */
	if (bpf_map_lookup_elem(fd, &zero, per)) {
		int err = -errno;

		free(per);
		return err;
	}
	for (int i = 0; i < n; i++) {
		ret->kernel.emitted += per[i].emitted;
		ret->kernel.drops += per[i].drops;
		ret->kernel.oversize += per[i].oversize;
		ret->kernel.truncated += per[i].truncated;
		ret->kernel.enter_miss += per[i].enter_miss;
		ret->kernel.compat += per[i].compat;
		ret->kernel.kp_missed += per[i].kp_missed;
		ret->kernel.kp_verdicts += per[i].kp_verdicts;
	}
	ret->received = s->received;
	ret->malformed = s->malformed;
	ret->abi_mismatch = s->abi_mismatch;
	if (ret_per)
		*ret_per = per;
	else
		free(per);
	return n;
}

int shk_sensor_stats(const struct shk_sensor *s, struct shk_sensor_stats *ret)
{
	int n = shk_sensor_stats_cpu(s, ret, NULL);

	return n < 0 ? n : 0;
}
