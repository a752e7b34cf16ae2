// SPDX-License-Identifier: Apache-2.0
/* The kernel enforcer (see enforcer.h). */
#include "enforcer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "kill.h"
#include "enforce.skel.h"
#include "lsm_probe.skel.h"
#include "syscalls.h"

#define LSM_LIST "/sys/kernel/security/lsm"

struct shk_enforcer {
	struct shk_sensor *sensor;
	struct shk_kp_maps m;
	enum shk_kv_backend backend;
	char note[200];
	struct enforce *skel; /* cgroup connect/sendmsg programs */
	struct bpf_link *links[4];
	uint16_t gen;
	uint32_t host_mntns;
	uint64_t installs;
	int self_pid;
};

int shk_enforcer_mode_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return SHK_ENFORCER_AUTO;
	if (!strcmp(s, "lsm"))
		return SHK_ENFORCER_LSM;
	if (!strcmp(s, "signal"))
		return SHK_ENFORCER_SIGNAL;
	return -EINVAL;
}

const char *shk_enforcer_backend_name(enum shk_kv_backend b)
{
	switch (b) {
	case SHK_KB_SIGNAL: return "signal";
	case SHK_KB_LSM: return "lsm";
	case SHK_KB_CGROUP: return "cgroup";
	default: return "none";
	}
}

const char *shk_enforcer_where(enum shk_kv_backend b, uint32_t classes)
{
	if (classes == 1u << SHK_KP_CONNECT)
		return "cgroup";
	return b == SHK_KB_LSM ? "lsm" : "signal";
}

static int silent(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l, (void)f, (void)ap;
	return 0;
}

/* Is bpf among the active LSMs? 1, 0, or -1 when the list cannot be read
 * (securityfs not mounted): then only loading a program can tell. */
static int lsm_listed(void)
{
	char buf[512];
	FILE *f = fopen(LSM_LIST, "re");
	int yes = 0;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		for (char *save = NULL, *t = strtok_r(buf, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save))
			yes |= !strcmp(t, "bpf");
	}
	fclose(f);
	return yes;
}

/* The probe loads a program: done once, its answer kept (the daemon asks
 * before loading the sensors and again when it picks the backend). */
int shk_enforcer_probe_lsm(const char **ret_msg)
{
	static char msg[160];
	static bool done;
	static int result;
	libbpf_print_fn_t old;
	struct lsm_probe *p;
	int err;

	if (done) {
		*ret_msg = result ? msg : NULL;
		return result;
	}
	if (lsm_listed() == 0) {
		snprintf(msg, sizeof(msg), "BPF-LSM unavailable (bpf is not an active LSM, see "
			 LSM_LIST "): using signal backend");
		err = -ENOTSUP;
	} else {
		old = libbpf_set_print(silent);
		p = lsm_probe__open();
		err = p ? lsm_probe__load(p) : -errno;
		if (!err)
			err = lsm_probe__attach(p);
		lsm_probe__destroy(p);
		libbpf_set_print(old);
		if (err)
			snprintf(msg, sizeof(msg),
				 "BPF-LSM unavailable (%s loading lsm programs): using signal backend",
				 -err == EPERM ? "EPERM" : strerror(-err));
	}
	done = true;
	result = err;
	*ret_msg = err ? msg : NULL;
	return err;
}

static uint32_t ns_inum(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

/* PID 1, shrike and its ancestors: never acted upon by the kernel policy. */
static void protect_lineage(struct shk_enforcer *e)
{
	uint8_t one = 1;
	uint32_t pid = 1;

	bpf_map_update_elem(e->m.protect, &pid, &one, BPF_ANY);
	for (int depth = 0, p = getpid(); p > 1 && depth < 64; depth++) {
		struct shk_pidstat st;

		pid = (uint32_t)p;
		bpf_map_update_elem(e->m.protect, &pid, &one, BPF_ANY);
		if (shk_pidstat_read(NULL, p, &st))
			break;
		p = st.ppid;
	}
}

struct shk_enforcer *shk_enforcer_new(struct shk_sensor *s, const struct shk_enforcer_opts *o,
				      const char **ret_msg)
{
	struct shk_enforcer *e = calloc(1, sizeof(*e));
	const char *why = NULL;

	if (!e) {
		*ret_msg = "out of memory";
		return NULL;
	}
	e->sensor = s;
	e->self_pid = o->self_pid;
	shk_sensor_kp_maps(s, &e->m);
	protect_lineage(e);
	e->host_mntns = ns_inum("/proc/1/ns/mnt");
	if (!e->host_mntns)
		e->host_mntns = ns_inum("/proc/self/ns/mnt");
	if (o->mode != SHK_ENFORCER_SIGNAL && shk_sensor_lsm(s)) {
		/* before any policy is installed: the signal checks never
		 * act on it, the hooks do */
		if (shk_sensor_kp_lsm(s, true)) {
			*ret_msg = "cannot hand the kernel policy to the LSM hooks";
			free(e);
			return NULL;
		}
		e->backend = SHK_KB_LSM;
		snprintf(e->note, sizeof(e->note), "using lsm backend (BPF-LSM hooks)");
		return e;
	}
	if (o->mode != SHK_ENFORCER_SIGNAL && shk_enforcer_probe_lsm(&why) == 0)
		why = "BPF-LSM is available but the kernel refused shrike's LSM hooks (see "
		      "--verbose): using signal backend";
	if (o->mode == SHK_ENFORCER_LSM) {
		*ret_msg = why ? why : "BPF-LSM unavailable";
		free(e);
		return NULL;
	}
	e->backend = SHK_KB_SIGNAL;
	snprintf(e->note, sizeof(e->note), "%s",
		 o->mode == SHK_ENFORCER_SIGNAL ? "using signal backend (--enforcer signal)" : why);
	return e;
}

static void detach_connect(struct shk_enforcer *e)
{
	for (int i = 0; i < 4; i++) {
		bpf_link__destroy(e->links[i]);
		e->links[i] = NULL;
	}
	enforce__destroy(e->skel);
	e->skel = NULL;
}

void shk_enforcer_free(struct shk_enforcer *e)
{
	uint32_t zero = 0, cur, next;
	struct shk_kp_conf empty = { 0 };

	if (!e)
		return;
	/* an empty policy in the other slot, then switch to it: nothing is
	 * denied once shrike is gone (the programs go with it anyway) */
	if (!bpf_map_lookup_elem(e->m.active, &zero, &cur)) {
		next = (cur & 1) ^ 1;
		bpf_map_update_elem(e->m.conf, &next, &empty, BPF_ANY);
		bpf_map_update_elem(e->m.active, &zero, &next, BPF_ANY);
	}
	detach_connect(e);
	free(e);
}

enum shk_kv_backend shk_enforcer_backend(const struct shk_enforcer *e)
{
	return e->backend;
}

const char *shk_enforcer_note(const struct shk_enforcer *e)
{
	return e->note;
}

uint16_t shk_enforcer_gen(const struct shk_enforcer *e)
{
	return e->gen;
}

static int attach_connect(struct shk_enforcer *e)
{
	struct shk_cgroup_mounts mnt;
	struct bpf_program *p[4];
	int err, cg;

	if (e->skel)
		return 0;
	if (shk_cgroup_mounts_discover(NULL, &mnt) || !mnt.v2[0])
		return -ENOENT;
	e->skel = enforce__open();
	if (!e->skel)
		return -errno;
	e->skel->rodata->shk_self_pid = (uint32_t)e->self_pid;
	if (bpf_map__reuse_fd(e->skel->maps.kp_active, e->m.active) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_conf, e->m.conf) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_base, e->m.base) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_clause, e->m.clause) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_str, e->m.str) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_num, e->m.num) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_nvals, e->m.nvals) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_nbits, e->m.nbits) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_addr, e->m.addr) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_stash, e->m.stash) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_facts, e->m.facts) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_protect, e->m.protect) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_comm, e->m.comm) ||
	    bpf_map__reuse_fd(e->skel->maps.kp_needles, e->m.needles)) {
		err = -errno;
		goto fail;
	}
	err = enforce__load(e->skel);
	if (err)
		goto fail;
	cg = open(mnt.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		err = -errno;
		goto fail;
	}
	p[0] = e->skel->progs.shk_kp_connect4;
	p[1] = e->skel->progs.shk_kp_connect6;
	p[2] = e->skel->progs.shk_kp_sendmsg4;
	p[3] = e->skel->progs.shk_kp_sendmsg6;
	for (int i = 0; i < 4; i++) {
		e->links[i] = bpf_program__attach_cgroup(p[i], cg);
		if (!e->links[i]) {
			err = -errno;
			close(cg);
			goto fail;
		}
	}
	close(cg);
	return 0;
fail:
	detach_connect(e);
	return err ? err : -EINVAL;
}

/* Remove every entry of one slot from a keyed map. */
static int clear_slot(int fd, size_t key_size, size_t slot_off, uint8_t slot)
{
	uint8_t key[sizeof(struct shk_kp_skey)], next[sizeof(struct shk_kp_skey)];
	uint8_t *del = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (next[slot_off] == slot) {
			if (n == cap) {
				uint8_t *v = realloc(del, (cap = cap ? cap * 2 : 64) * key_size);

				if (!v) {
					free(del);
					return -ENOMEM;
				}
				del = v;
			}
			memcpy(del + n++ * key_size, next, key_size);
		}
		memcpy(key, next, key_size);
		prev = key;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, del + i * key_size) && errno != ENOENT)
			err = -errno;
	free(del);
	return err;
}

/* Which syscalls check which class. With add_only, classes the policy
 * does not use are left as they are (before the switch, so that the old
 * policy keeps its checks until the new one is in force). */
static int set_interest(struct shk_enforcer *e, const struct shk_kpolicy *kp, bool add_only)
{
	for (unsigned cls = 0; cls < SHK_KP_NCLASS; cls++) {
		uint8_t flags = 0;
		int err;

		if (cls == SHK_KP_EXEC && e->backend != SHK_KB_LSM)
			continue; /* the exec tracepoint always checks */
		if (add_only && !kp->conf.cls[cls].nclauses)
			continue;
		/* lsm: the hooks decide, the exit record takes their verdict
		 * (a failed exec has one; a let-through exec's verdict goes
		 * to its exec record) */
		if (kp->conf.cls[cls].nclauses)
			flags = e->backend == SHK_KB_LSM || cls == SHK_KP_CONNECT
					? SHK_INTEREST_KP_STASH
				: cls == SHK_KP_OPEN ? SHK_INTEREST_KP_EXIT
						     : SHK_INTEREST_KP_ENTER;
		for (const char *const *s = shk_kp_class_syscalls(cls); *s; s++) {
			int nr = shk_syscall_nr(*s);

			if (nr < 0)
				continue;
			err = shk_sensor_kp_nr(e->sensor, nr, flags, (uint8_t)cls);
			if (err && err != -ENOENT)
				return err;
		}
	}
	return 0;
}

/* The fields with few values, for the array path (shrike_abi.h,
 * shk_kp_nvals); kp_num keeps them all too. */
static int install_nvals(struct shk_enforcer *e, const struct shk_kpolicy *kp, uint32_t slot)
{
	for (uint32_t cls = 0; cls < SHK_KP_NCLASS; cls++) {
		for (uint32_t f = 0; f < SHK_KF_NFIELDS; f++) {
			uint32_t k = (slot * SHK_KP_NCLASS + cls) * SHK_KF_NFIELDS + f;
			struct shk_kp_nvals nv = { 0 };

			for (uint32_t i = 0; i < kp->nnum; i++) {
				const struct shk_kp_nentry *x = &kp->num[i];
				uint32_t bk;

				if (x->key.cls != cls || x->key.field != f)
					continue;
				if (nv.n == SHK_KP_NVALS) {
					nv.n = SHK_KP_NV_MANY;
					break;
				}
				bk = k * SHK_KP_NVALS + nv.n;
				if (bpf_map_update_elem(e->m.nbits, &bk, &x->bits, BPF_ANY))
					return -errno;
				nv.v[nv.n++] = x->key.v;
			}
			if (bpf_map_update_elem(e->m.nvals, &k, &nv, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

int shk_enforcer_install(struct shk_enforcer *e, const struct shk_kpolicy *kp)
{
	struct shk_kp_conf conf = kp->conf;
	uint32_t zero = 0, cur = 0, next;
	uint8_t slot;
	int err;

	if (bpf_map_lookup_elem(e->m.active, &zero, &cur))
		return -errno;
	next = (cur & 1) ^ 1;
	slot = (uint8_t)next;
	if ((err = clear_slot(e->m.str, sizeof(struct shk_kp_skey),
			      offsetof(struct shk_kp_skey, slot), slot)) ||
	    (err = clear_slot(e->m.num, sizeof(struct shk_kp_nkey),
			      offsetof(struct shk_kp_nkey, slot), slot)) ||
	    (err = clear_slot(e->m.addr, sizeof(struct shk_kp_akey),
			      offsetof(struct shk_kp_akey, slot), slot)))
		return err;
	for (uint32_t cls = 0; cls < SHK_KP_NCLASS; cls++) {
		for (uint32_t f = 0; f <= SHK_KF_NFIELDS; f++) {
			uint32_t k = (next * SHK_KP_NCLASS + cls) * (SHK_KF_NFIELDS + 1) + f;

			if (bpf_map_update_elem(e->m.base, &k, &kp->base[cls][f], BPF_ANY))
				return -errno;
		}
		for (uint32_t i = 0; i < kp->conf.cls[cls].nclauses; i++) {
			uint32_t k = (next * SHK_KP_NCLASS + cls) * SHK_KP_MAX_CLAUSES + i;

			if (bpf_map_update_elem(e->m.clause, &k, &kp->clause[cls][i], BPF_ANY))
				return -errno;
		}
	}
	for (uint32_t i = 0; i < SHK_KP_NEEDLES; i++) {
		uint32_t k = next * SHK_KP_NEEDLES + i;
		struct shk_kp_needle none = { 0 };

		if (bpf_map_update_elem(e->m.needles, &k,
					i < kp->conf.nneedles ? &kp->needles[i] : &none, BPF_ANY))
			return -errno;
	}
	for (uint32_t i = 0; i < kp->nstr; i++) {
		struct shk_kp_sentry x = kp->str[i];

		x.key.slot = slot;
		if (bpf_map_update_elem(e->m.str, &x.key, &x.bits, BPF_ANY))
			return -errno;
	}
	for (uint32_t i = 0; i < kp->nnum; i++) {
		struct shk_kp_nentry x = kp->num[i];

		x.key.slot = slot;
		if (bpf_map_update_elem(e->m.num, &x.key, &x.bits, BPF_ANY))
			return -errno;
	}
	if ((err = install_nvals(e, kp, next)))
		return err;
	for (uint32_t i = 0; i < kp->naddr; i++) {
		struct shk_kp_aentry x = kp->addr[i];

		x.key.slot = slot;
		if (bpf_map_update_elem(e->m.addr, &x.key, &x.bits, BPF_ANY))
			return -errno;
	}
	if (kp->conf.cls[SHK_KP_CONNECT].nclauses && (err = attach_connect(e)))
		return err;
	conf.gen = (uint16_t)(e->gen + 1);
	conf.host_mntns = e->host_mntns;
	if (bpf_map_update_elem(e->m.conf, &next, &conf, BPF_ANY))
		return -errno;
	if ((err = set_interest(e, kp, true)))
		return err;
	/* the switch: one 4-byte store */
	if (bpf_map_update_elem(e->m.active, &zero, &next, BPF_ANY))
		return -errno;
	e->gen = (uint16_t)conf.gen;
	e->installs++;
	return set_interest(e, kp, false);
}

void shk_enforcer_stats(const struct shk_enforcer *e, struct shk_enforcer_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->installs = e->installs;
	if (e->skel && e->skel->bss) {
		ret->verdicts = e->skel->bss->shk_enforce_verdicts;
		ret->missed = e->skel->bss->shk_enforce_missed;
	}
}
