// SPDX-License-Identifier: Apache-2.0
/* `shrike run`'s kernel enforcement (see enforce.h). */
#include "enforce.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kill.h"

int enforce_compile(struct enforce *en, const struct shk_ruleset *rs, struct shk_plan *plan,
		    bool strict)
{
	struct shk_diags dg;
	bool refused = false;
	char buf[2048];

	shk_diags_init(&dg);
	en->kp = shk_kpolicy_compile(rs, plan, strict, &dg, &refused);
	for (size_t i = 0; i < dg.n; i++) {
		shk_diag_format(&dg.v[i], buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	shk_diags_clear(&dg);
	if (!en->kp) {
		cli_err("cannot compile the deny rules: %s", strerror(errno));
		return -ENOMEM;
	}
	if (refused) {
		cli_err("--strict: some deny rules cannot be enforced in the kernel: not starting");
		return -EINVAL;
	}
	return 0;
}

int enforce_probe(struct enforce *en, bool *ret_lsm)
{
	const char *msg = NULL;

	*ret_lsm = false;
	if (en->mode == SHK_ENFORCER_SIGNAL)
		return 0;
	if (shk_enforcer_probe_lsm(&msg) == 0) {
		*ret_lsm = true;
		return 0;
	}
	if (en->mode == SHK_ENFORCER_LSM) {
		const char *tail = msg ? strstr(msg, ": using signal backend") : NULL;

		/* the probe's reason, without the fallback --enforcer lsm refuses */
		cli_err("--enforcer lsm: %.*s: not starting", tail ? (int)(tail - msg) : 200,
			msg ? msg : "BPF-LSM unavailable");
		return -ENOTSUP;
	}
	return 0; /* auto: the signal backend, said once by enforce_start() */
}

int enforce_start(struct enforce *en, struct shk_sensor *s)
{
	struct shk_enforcer_opts o = { .mode = en->mode, .self_pid = getpid() };
	const char *msg = NULL;
	int err;

	en->e = shk_enforcer_new(s, &o, &msg);
	if (!en->e) {
		cli_err("%s", msg ? msg : "cannot set up kernel enforcement");
		return -ENOTSUP;
	}
	fprintf(stderr, "shrike: %s\n", shk_enforcer_note(en->e));
	err = shk_enforcer_install(en->e, en->kp);
	if (err) {
		cli_err("cannot install the kernel policy: %s", strerror(-err));
		return err;
	}
	return 0;
}

int enforce_prepare(const struct shk_ruleset *rs, struct shk_plan *plan, bool strict,
		    struct shk_kpolicy **ret_kp)
{
	struct enforce tmp = { 0 };
	int err = enforce_compile(&tmp, rs, plan, strict);

	if (err) {
		shk_kpolicy_free(tmp.kp);
		return err;
	}
	*ret_kp = tmp.kp;
	return 0;
}

int enforce_switch(struct enforce *en, struct shk_kpolicy *kp, const struct shk_ruleset *old_rs,
		   const struct shk_ruleset *new_rs)
{
	uint16_t old_gen = en->e ? shk_enforcer_gen(en->e) : 0;
	int64_t *map = NULL;
	uint32_t n = en->kp ? en->kp->nkernel : 0;
	int err;

	if (en->e && (err = shk_enforcer_install(en->e, kp)))
		return err;
	if (n && (map = calloc(n, sizeof(*map)))) {
		for (uint32_t k = 0; k < n; k++) {
			int64_t id = shk_kpolicy_rule_of(en->kp, k + 1);
			const struct shk_rule *r = id >= 0 ? shk_ruleset_find(new_rs, old_rs->rules[id].name) : NULL;

			map[k] = r ? (int64_t)r->id : -1;
		}
	}
	free(en->prev_rule);
	en->prev_rule = map;
	en->nprev = map ? n : 0;
	en->prev_gen = old_gen;
	shk_kpolicy_free(en->kp);
	en->kp = kp;
	return 0;
}

void enforce_free(struct enforce *en)
{
	free(en->prev_rule);
	en->prev_rule = NULL;
	shk_enforcer_free(en->e);
	en->e = NULL;
	shk_kpolicy_free(en->kp);
	en->kp = NULL;
}

static const struct shk_kverdict *event_kv(const struct shk_event *ev)
{
	if (!(ev->hdr->flags & SHK_F_VERDICT))
		return NULL;
	if (ev->type == SHK_EV_EXEC)
		return &ev->exec->kv;
	if (ev->type == SHK_EV_SYSCALL)
		return &ev->sys->kv;
	return NULL;
}

/*
 * An exec the kernel held because its image has the size and first bytes
 * of a denied binary (SHK_KV_HELD: stopped before its first instruction;
 * SHK_KV_WOULD_HOLD: audit, running). Compare the whole image with the
 * denied file: the same bytes make it a kill (or a "would"), anything else
 * lets it go on. Every held process leaves here killed or continued, even
 * when its policy is gone. Returns the verdict to report, or NULL.
 */
static const struct shk_kverdict *held_decide(struct enforce *en, const struct shk_event *ev,
					      const struct shk_kverdict *kv)
{
	bool held = kv->action == SHK_KV_HELD, current = en->e && kv->gen == shk_enforcer_gen(en->e);
	struct shk_pidref ref = { .pid = (int)ev->hdr->pid, .unit = SHK_START_BOOTTIME_NS };
	const char *path = NULL;
	char exe[64];
	int pidfd = -1, fd, same;

	ref.start = ev->task ? ev->task->start_ns : 0;
	if (held) {
		/* pinned first: the signal below reaches this process only */
		pidfd = shk_pidref_open(&ref);
		if (pidfd < 0) {
			en->held_failed++;
			cli_warn("held exec of pid %d: %s: not decided", ref.pid, strerror(-pidfd));
			return NULL;
		}
	}
	snprintf(exe, sizeof(exe), "/proc/%d/exe", ref.pid);
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	same = fd < 0 ? -errno : shk_kpolicy_same_image(en->kp, current ? kv->rule : 0, fd, &path);
	if (fd >= 0)
		close(fd);
	if (same < 0) {
		en->held_failed++;
		cli_warn("held exec of pid %d: cannot compare its image (%s): let go", ref.pid,
			 strerror(-same));
	} else if (same) {
		en->held_same++;
	} else {
		en->held_other++;
	}
	if (held) {
		int err = shk_kill_pidfd(pidfd, same == 1 ? SIGKILL : SIGCONT);

		if (err && same == 1)
			cli_warn("held exec of pid %d, a copy of %s: cannot kill it: %s", ref.pid, path,
				 strerror(-err));
		close(pidfd);
	}
	if (same != 1)
		return NULL;
	en->held_kv = *kv;
	en->held_kv.action = held ? SHK_KV_KILLED : SHK_KV_WOULD;
	return &en->held_kv;
}

int64_t enforce_verdict(struct enforce *en, const struct shk_event *ev,
			const struct shk_kverdict **ret_kv)
{
	const struct shk_kverdict *kv = event_kv(ev);

	*ret_kv = NULL;
	if (kv && ev->type == SHK_EV_EXEC &&
	    (kv->action == SHK_KV_HELD || kv->action == SHK_KV_WOULD_HOLD)) {
		kv = held_decide(en, ev, kv);
		if (!kv)
			return -1;
	}
	if (!kv || !en->e)
		return -1;
	en->verdicts++;
	if (kv->gen != shk_enforcer_gen(en->e)) {
		/* decided by the previous policy, before a reload switched */
		if (kv->gen == en->prev_gen && kv->rule && kv->rule <= en->nprev &&
		    en->prev_rule[kv->rule - 1] >= 0) {
			*ret_kv = kv;
			return en->prev_rule[kv->rule - 1];
		}
		en->stale++;
		return -1;
	}
	*ret_kv = kv;
	return shk_kpolicy_rule_of(en->kp, kv->rule);
}

const char *enforce_backend(const struct enforce *en)
{
	if (!en->e || !en->kp || !en->kp->nkernel)
		return "none";
	return shk_enforcer_backend_name(shk_enforcer_backend(en->e));
}

void enforce_status_json(const struct enforce *en, struct jw *w)
{
	struct shk_enforcer_stats st = { 0 };

	if (en->e)
		shk_enforcer_stats(en->e, &st);
	jw_key(w, "kernel_enforcement");
	jw_obj_begin(w);
	jw_kstr(w, "backend", enforce_backend(en));
	jw_kstr(w, "note", en->e ? shk_enforcer_note(en->e) : "");
	jw_kuint(w, "deny_rules_in_kernel", en->kp ? en->kp->nkernel - en->kp->nkill : 0);
	jw_kuint(w, "kill_rules_in_kernel", en->kp ? en->kp->nkill : 0);
	jw_kuint(w, "deny_rules_fallback", en->kp ? en->kp->nfallback : 0);
	jw_kuint(w, "generation", en->e ? shk_enforcer_gen(en->e) : 0);
	jw_kuint(w, "verdicts", en->verdicts);
	jw_kuint(w, "verdicts_stale", en->stale);
	jw_kuint(w, "verdicts_unmatched", en->unmatched);
	/* execs held as possible copies of a denied binary, by outcome */
	jw_kuint(w, "held_copies_killed", en->held_same);
	jw_kuint(w, "held_not_copies", en->held_other);
	jw_kuint(w, "held_undecided", en->held_failed);
	jw_kuint(w, "cgroup_verdicts", st.verdicts);
	jw_kuint(w, "cgroup_missed", st.missed);
	jw_obj_end(w);
}
