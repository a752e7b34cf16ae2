// SPDX-License-Identifier: Apache-2.0
/* The kernel policy compiler (see kpolicy.h and bpf/shrike_abi.h). */
#include "kpolicy.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "render.h"

/* ---- classes and fields ---------------------------------------------- */

static const char *const class_names[SHK_KP_NCLASS] = {
	[SHK_KP_EXEC] = "exec",	     [SHK_KP_OPEN] = "open",	 [SHK_KP_CONNECT] = "connect",
	[SHK_KP_PTRACE] = "ptrace",  [SHK_KP_MODULE] = "module", [SHK_KP_BPF] = "bpf",
	[SHK_KP_MOUNT] = "mount",    [SHK_KP_SETUID] = "setuid", [SHK_KP_LINK] = "link",
};

static const char *const sys_exec[] = { "execve", "execveat", NULL };
static const char *const sys_open[] = { "open", "openat", "openat2", "creat", NULL };
static const char *const sys_connect[] = { "connect", "sendto", "sendmsg", NULL };
static const char *const sys_ptrace[] = { "ptrace", NULL };
static const char *const sys_module[] = { "init_module", "finit_module", NULL };
static const char *const sys_bpf[] = { "bpf", NULL };
static const char *const sys_mount[] = { "mount", NULL };
static const char *const sys_setuid[] = { "setuid",   "setreuid", "setresuid", "setfsuid", "setgid",
					  "setregid", "setresgid", "setfsgid", NULL };
static const char *const sys_link[] = { "symlink", "symlinkat", "link", "linkat", NULL };

static const char *const *const class_sys[SHK_KP_NCLASS] = {
	[SHK_KP_EXEC] = sys_exec,     [SHK_KP_OPEN] = sys_open,	    [SHK_KP_CONNECT] = sys_connect,
	[SHK_KP_PTRACE] = sys_ptrace, [SHK_KP_MODULE] = sys_module, [SHK_KP_BPF] = sys_bpf,
	[SHK_KP_MOUNT] = sys_mount,   [SHK_KP_SETUID] = sys_setuid, [SHK_KP_LINK] = sys_link,
};

static const char *const field_names[SHK_KF_NFIELDS] = {
	[SHK_KF_PROC_NAME] = "proc.name",
	[SHK_KF_PNAME] = "proc.pname",
	[SHK_KF_ANAME2] = "proc.aname[2]",
	[SHK_KF_ANAME3] = "proc.aname[3]",
	[SHK_KF_ANAME4] = "proc.aname[4]",
	[SHK_KF_ANAME_ANY] = "proc.aname",
	[SHK_KF_EXEPATH] = "proc.exepath",
	[SHK_KF_FD_NAME] = "fd.name",
	[SHK_KF_FD_DIR] = "fd.directory",
	[SHK_KF_FD_FILENAME] = "fd.filename",
	[SHK_KF_UID] = "user.uid",
	[SHK_KF_CONTAINER] = "container.id",
	[SHK_KF_STDIN_TYPE] = "proc.stdin.type",
	[SHK_KF_STDOUT_TYPE] = "proc.stdout.type",
	[SHK_KF_STDERR_TYPE] = "proc.stderr.type",
	[SHK_KF_EXE_MEMFD] = "proc.is_exe_from_memfd",
	[SHK_KF_EXE_UPPER] = "proc.is_exe_upper_layer",
	[SHK_KF_OPEN_READ] = "evt.is_open_read",
	[SHK_KF_OPEN_WRITE] = "evt.is_open_write",
	[SHK_KF_RPORT] = "fd.rport",
	[SHK_KF_EXE_INO] = "proc.exepath (inode)",
	[SHK_KF_EXE_DEV] = "proc.exepath (device)",
	[SHK_KF_EXE_HEAD] = "proc.exepath (content)",
	[SHK_KF_RADDR] = "fd.rip",
};

#define F(x) (1ull << (x))
#define PROC_FIELDS                                                                          \
	(F(SHK_KF_PROC_NAME) | F(SHK_KF_PNAME) | F(SHK_KF_ANAME2) | F(SHK_KF_ANAME3) |        \
	 F(SHK_KF_ANAME4) | F(SHK_KF_ANAME_ANY) | F(SHK_KF_UID) | F(SHK_KF_CONTAINER))

/* What the kernel knows at each enforcement point. */
static const uint64_t class_fields[SHK_KP_NCLASS] = {
	[SHK_KP_EXEC] = PROC_FIELDS | F(SHK_KF_EXEPATH) | F(SHK_KF_STDIN_TYPE) |
			F(SHK_KF_STDOUT_TYPE) | F(SHK_KF_STDERR_TYPE) | F(SHK_KF_EXE_MEMFD) |
			F(SHK_KF_EXE_UPPER) | F(SHK_KF_EXE_INO) | F(SHK_KF_EXE_DEV) | F(SHK_KF_EXE_HEAD) |
			(((1ull << SHK_KP_NEEDLES) - 1) << SHK_KF_ARG0),
	[SHK_KP_OPEN] = PROC_FIELDS | F(SHK_KF_FD_NAME) | F(SHK_KF_FD_DIR) | F(SHK_KF_FD_FILENAME) |
			F(SHK_KF_OPEN_READ) | F(SHK_KF_OPEN_WRITE),
	[SHK_KP_CONNECT] = PROC_FIELDS | F(SHK_KF_RPORT) | F(SHK_KF_RADDR),
	[SHK_KP_PTRACE] = PROC_FIELDS,
	[SHK_KP_MODULE] = PROC_FIELDS,
	[SHK_KP_BPF] = PROC_FIELDS,
	[SHK_KP_MOUNT] = PROC_FIELDS,
	[SHK_KP_SETUID] = PROC_FIELDS,
	[SHK_KP_LINK] = PROC_FIELDS,
};

const char *shk_kp_class_name(unsigned cls)
{
	return cls < SHK_KP_NCLASS ? class_names[cls] : "?";
}

const char *shk_kp_field_name(unsigned field)
{
	if (field >= SHK_KF_ARG0 && field <= SHK_KF_ARG_LAST)
		return "proc.args contains"; /* one argument pattern each */
	return field < SHK_KF_NFIELDS && field_names[field] ? field_names[field] : "?";
}

const char *const *shk_kp_class_syscalls(unsigned cls)
{
	return cls < SHK_KP_NCLASS ? class_sys[cls] : NULL;
}

/* ---- literals ---------------------------------------------------------- */

struct lit {
	const struct shk_check *c;
	bool neg;
};

struct clause {
	struct lit v[SHK_KP_CLAUSE_MAX_LITS];
	uint32_t n;
};

struct dnf {
	struct clause *v;
	uint32_t n;
};

struct kstr {
	char *s;
	uint32_t len;
	bool exact; /* "s\0" (exact) or "s" (prefix) */
};

struct knet {
	uint8_t prefix; /* bits over the 16-byte (mapped) address */
	uint8_t addr[16];
};

/* A literal lowered to one kernel field: a set of values; neg inverts it. */
struct klit {
	uint8_t field;
	bool neg;
	struct kstr *strs;
	uint32_t nstrs;
	uint64_t *nums;
	uint32_t nnums;
	struct knet *nets;
	uint32_t nnets;
};

struct kclause {
	uint32_t rule_id;
	uint32_t kid;
	bool enforce;
	bool kill; /* a kill: process rule (shk_kp_clause.kill) */
	bool confirm; /* a copy by content (shk_kp_clause.confirm) */
	struct klit *lits;
	uint32_t nlits;
};

struct cc {
	struct shk_kpolicy *kp;
	const struct shk_ruleset *rs;
	int16_t evt_class[SHK_EVTYPE_MAX]; /* -1: not a kernel operation */
	/* clauses per class, in order: enforce ones first at the end */
	struct kclause *cl[SHK_KP_NCLASS];
	uint32_t ncl[SHK_KP_NCLASS], capcl[SHK_KP_NCLASS];
	struct klit protect; /* not proc.name in (protect lists): in every clause */
	bool rule_has_needle; /* the rule being compiled uses an argument pattern */
	char why[200];
};

static int why(struct cc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int why(struct cc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void klit_free(struct klit *l)
{
	for (uint32_t i = 0; i < l->nstrs; i++)
		free(l->strs[i].s);
	free(l->strs);
	free(l->nums);
	free(l->nets);
	memset(l, 0, sizeof(*l));
}

static int add_str(struct klit *l, const char *s, size_t len, bool exact)
{
	struct kstr *v;

	if (len + (exact ? 1 : 0) > SHK_KP_STR_MAX - 1)
		return -E2BIG;
	v = realloc(l->strs, (l->nstrs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->strs = v;
	v[l->nstrs].s = malloc(len + 1);
	if (!v[l->nstrs].s)
		return -ENOMEM;
	memcpy(v[l->nstrs].s, s, len);
	v[l->nstrs].s[len] = '\0';
	v[l->nstrs].len = (uint32_t)len;
	v[l->nstrs].exact = exact;
	l->nstrs++;
	return 0;
}

static int add_num(struct klit *l, uint64_t n)
{
	uint64_t *v = realloc(l->nums, (l->nnums + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->nums = v;
	v[l->nnums++] = n;
	return 0;
}

static int add_net(struct klit *l, const struct shk_ipnet *n)
{
	struct knet *v = realloc(l->nets, (l->nnets + 1) * sizeof(*v));
	struct knet *k;

	if (!v)
		return -ENOMEM;
	l->nets = v;
	k = &v[l->nnets++];
	memset(k, 0, sizeof(*k));
	if (n->family == 4) {
		k->addr[10] = k->addr[11] = 0xff;
		memcpy(k->addr + 12, n->addr, 4);
		k->prefix = (uint8_t)(96 + (n->prefix > 32 ? 32 : n->prefix));
	} else {
		memcpy(k->addr, n->addr, 16);
		k->prefix = n->prefix > 128 ? 128 : n->prefix;
	}
	return 0;
}

/* A deep copy of src into *dst (zeroed first); 0 or -ENOMEM. */
static int klit_copy(struct klit *dst, const struct klit *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->field = src->field;
	dst->neg = src->neg;
	for (uint32_t i = 0; i < src->nstrs; i++)
		if (add_str(dst, src->strs[i].s, src->strs[i].len, src->strs[i].exact))
			return -ENOMEM;
	if (src->nnums && !(dst->nums = malloc(src->nnums * sizeof(*dst->nums))))
		return -ENOMEM;
	if (src->nnets && !(dst->nets = malloc(src->nnets * sizeof(*dst->nets))))
		return -ENOMEM;
	memcpy(dst->nums, src->nums, src->nnums * sizeof(*dst->nums));
	memcpy(dst->nets, src->nets, src->nnets * sizeof(*dst->nets));
	dst->nnums = src->nnums;
	dst->nnets = src->nnets;
	return 0;
}

/* ---- DNF ------------------------------------------------------------- */

static void dnf_free(struct dnf *d)
{
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static int to_dnf(struct cc *c, const struct shk_fnode *n, bool neg, struct dnf *out, int depth)
{
	bool conj;

	memset(out, 0, sizeof(*out));
	if (depth > SHK_COND_MAX_DEPTH)
		return why(c, "condition nested too deeply for the kernel");
	if (n->kind == SHK_FN_CHECK) {
		out->v = calloc(1, sizeof(*out->v));
		if (!out->v)
			return -ENOMEM;
		out->v[0].v[0] = (struct lit){ n->check, neg };
		out->v[0].n = 1;
		out->n = 1;
		return 0;
	}
	if (n->kind == SHK_FN_NOT)
		return to_dnf(c, n->kids[0], !neg, out, depth + 1);
	conj = (n->kind == SHK_FN_AND) != neg;
	if (!conj) { /* a disjunction: the clauses of every kid */
		for (uint32_t k = 0; k < n->n; k++) {
			struct dnf d;
			struct clause *v;
			int err = to_dnf(c, n->kids[k], neg, &d, depth + 1);

			if (err) {
				dnf_free(out);
				return err;
			}
			if (out->n + d.n > SHK_KP_RULE_MAX_CLAUSES) {
				dnf_free(&d);
				dnf_free(out);
				return why(c, "condition has more than %d alternatives in normal form",
					   SHK_KP_RULE_MAX_CLAUSES);
			}
			v = realloc(out->v, (out->n + d.n) * sizeof(*v));
			if (!v) {
				dnf_free(&d);
				dnf_free(out);
				return -ENOMEM;
			}
			out->v = v;
			memcpy(v + out->n, d.v, d.n * sizeof(*v));
			out->n += d.n;
			dnf_free(&d);
		}
		return 0;
	}
	/* a conjunction: the cross product of the kids' clauses */
	out->v = calloc(1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	out->n = 1;
	for (uint32_t k = 0; k < n->n; k++) {
		struct dnf d, p = { 0 };
		int err = to_dnf(c, n->kids[k], neg, &d, depth + 1);

		if (err) {
			dnf_free(out);
			return err;
		}
		if ((uint64_t)out->n * d.n > SHK_KP_RULE_MAX_CLAUSES) {
			dnf_free(&d);
			dnf_free(out);
			return why(c, "condition has more than %d alternatives in normal form",
				   SHK_KP_RULE_MAX_CLAUSES);
		}
		p.v = calloc(out->n && d.n ? (size_t)out->n * d.n : 1, sizeof(*p.v));
		if (!p.v) {
			dnf_free(&d);
			dnf_free(out);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < out->n; i++)
			for (uint32_t j = 0; j < d.n; j++) {
				struct clause *x = &p.v[p.n++];

				if (out->v[i].n + d.v[j].n > SHK_KP_CLAUSE_MAX_LITS) {
					dnf_free(&p);
					dnf_free(&d);
					dnf_free(out);
					return why(c, "a clause has more than %d conditions",
						   SHK_KP_CLAUSE_MAX_LITS);
				}
				*x = out->v[i];
				memcpy(x->v + x->n, d.v[j].v, d.v[j].n * sizeof(x->v[0]));
				x->n += d.v[j].n;
			}
		dnf_free(&d);
		dnf_free(out);
		*out = p;
	}
	return 0;
}

/* ---- literal classification ------------------------------------------ */

enum lk {
	LK_EVTYPE,  /* restricts the operation */
	LK_TRUE,    /* always true at the decision point */
	LK_FALSE,   /* never true there */
	LK_KERNEL,  /* a kernel field constraint (lowered into a klit) */
	LK_CLASSDEP /* depends on the class: fd.typechar / fd.type */
};

static const char *fname(const struct shk_check *c)
{
	const struct shk_field *f = shk_field_by_id(c->lhs.id);

	return f ? f->name : "?";
}

/* A numeric comparison of an assumed value v against the check. */
static bool num_cmp(const struct shk_check *c, int64_t v)
{
	if (c->rhs == SHK_RHS_NUMSET) {
		for (uint32_t i = 0; i < c->nums.n; i++)
			if ((int64_t)c->nums.v[i] == v)
				return true;
		return false;
	}
	if (!c->has_num)
		return false;
	switch (c->op) {
	case SHK_OP_EQ: return v == c->num;
	case SHK_OP_NE: return v != c->num;
	case SHK_OP_LT: return v < c->num;
	case SHK_OP_LE: return v <= c->num;
	case SHK_OP_GT: return v > c->num;
	case SHK_OP_GE: return v >= c->num;
	default: return false;
	}
}

static bool text_is(const struct shk_check *c, const char *s)
{
	if (c->rhs == SHK_RHS_STRSET)
		return shk_strset_has(c->strset, s, strlen(s));
	return c->rhs == SHK_RHS_VALUE && c->text_len == strlen(s) && !memcmp(c->text, s, c->text_len);
}

/* Outcome fields, taken at what a successful call gives. */
static int assumed(const struct shk_check *c, bool *ret)
{
	bool eq_like = c->op == SHK_OP_EQ || c->op == SHK_OP_IN;

	switch (c->lhs.id) {
	case SHK_FIELD_EVT_DIR:
		*ret = c->op == SHK_OP_NE ? !text_is(c, "<") : text_is(c, "<");
		return 0;
	case SHK_FIELD_EVT_RAWRES:
	case SHK_FIELD_FD_NUM:
		*ret = num_cmp(c, c->lhs.id == SHK_FIELD_FD_NUM ? 3 : 0);
		return 0;
	case SHK_FIELD_EVT_RES:
		*ret = eq_like ? text_is(c, "SUCCESS") : c->op == SHK_OP_NE ? !text_is(c, "SUCCESS") : false;
		if (c->op != SHK_OP_EQ && c->op != SHK_OP_IN && c->op != SHK_OP_NE)
			return -EINVAL;
		return 0;
	case SHK_FIELD_EVT_FAILED:
		if (c->op != SHK_OP_EQ && c->op != SHK_OP_NE)
			return -EINVAL;
		*ret = (c->op == SHK_OP_EQ) == !c->b;
		return 0;
	case SHK_FIELD_EVT_ARG:
		if (!c->lhs.key || strcmp(c->lhs.key, "res"))
			return -EINVAL;
		*ret = num_cmp(c, 0);
		return 0;
	default:
		return -ENOENT;
	}
}

static int user_uid(const char *name, uint64_t *uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) || !res)
		return -ENOENT;
	*uid = pw.pw_uid;
	return 0;
}

static int fd_type_code(const char *name)
{
	for (unsigned t = 1; t < SHK_FD_TYPE_MAX; t++)
		if (!strcmp(shk_fd_type_name(t), name))
			return (int)t;
	return -1;
}

/* The strings of a string check: the single value, or the set. */
static int each_text(const struct shk_check *c, int (*fn)(void *, const char *, size_t), void *arg)
{
	int err;

	if (c->rhs == SHK_RHS_VALUE)
		return fn(arg, c->text, c->text_len);
	if (c->rhs != SHK_RHS_STRSET)
		return -EINVAL;
	for (uint32_t i = 0; i < c->strset->cap; i++) {
		const struct shk_strset_slot *s = &c->strset->slots[i];

		if (s->s && (err = fn(arg, s->s, s->len)))
			return err;
	}
	return 0;
}

struct lower {
	struct cc *c;
	struct klit *l;
	bool exact;
	uint32_t trunc; /* comm fields: values are cut to 15 bytes */
	int kind;       /* 0 str, 1 user name, 2 fd type, 3 container, 4 number text */
};

static int lower_text(void *arg, const char *s, size_t len)
{
	struct lower *lw = arg;
	uint64_t n;
	int t;

	switch (lw->kind) {
	case 0:
		if (lw->trunc && len > lw->trunc)
			len = lw->trunc;
		if (memchr(s, '\0', len))
			return why(lw->c, "a value of %s holds a NUL byte", field_names[lw->l->field]);
		t = add_str(lw->l, s, len, lw->exact);
		if (t == -E2BIG)
			return why(lw->c, "a value of %s is longer than %d bytes", field_names[lw->l->field],
				   SHK_KP_STR_MAX - 2);
		return t;
	case 1: /* user names resolve on the host at load */
		if (user_uid(s, &n))
			return 0; /* no such user: the value matches nobody */
		return add_num(lw->l, n);
	case 2:
		t = fd_type_code(s);
		if (t < 0)
			return 0;
		if (t == SHK_FD_FILE) { /* Falco's "file" covers devices too */
			if ((t = add_num(lw->l, SHK_FD_CHAR)) || (t = add_num(lw->l, SHK_FD_BLOCK)))
				return t;
			t = SHK_FD_FILE;
		}
		return add_num(lw->l, (uint64_t)t);
	case 3:
		if (len == 4 && !memcmp(s, "host", 4))
			return add_num(lw->l, 0);
		return why(lw->c, "container.id compares only with \"host\" in the kernel");
	}
	return -EINVAL;
}

static int lower_strings(struct cc *c, const struct shk_check *ck, struct klit *l, uint32_t trunc)
{
	struct lower lw = { .c = c, .l = l, .exact = true, .trunc = trunc };
	int err;

	switch (ck->op) {
	case SHK_OP_EQ:
	case SHK_OP_IN:
		return each_text(ck, lower_text, &lw);
	case SHK_OP_STARTSWITH:
		lw.exact = false;
		return each_text(ck, lower_text, &lw);
	case SHK_OP_PMATCH:
		if (trunc)
			break;
		for (uint32_t i = 0; i < ck->paths.n; i++) {
			char dir[SHK_KP_STR_MAX];
			size_t n = ck->paths.len[i];

			lw.exact = true;
			if ((err = lower_text(&lw, ck->paths.v[i], n)))
				return err;
			if (n + 1 >= sizeof(dir))
				return why(c, "a pmatch path is too long for the kernel");
			memcpy(dir, ck->paths.v[i], n);
			dir[n] = '/';
			lw.exact = false;
			if ((err = lower_text(&lw, dir, n + 1)))
				return err;
		}
		return 0;
	default:
		break;
	}
	return why(c, "operator %s on %s is not kernel-evaluated", shk_op_name(ck->op), fname(ck));
}

static int lower_numbers(struct cc *c, const struct shk_check *ck, struct klit *l, uint64_t max)
{
	uint64_t lo, hi;
	int err;

	if (ck->rhs == SHK_RHS_NUMSET) {
		for (uint32_t i = 0; i < ck->nums.n; i++)
			if ((err = add_num(l, ck->nums.v[i])))
				return err;
		return 0;
	}
	if (ck->rhs != SHK_RHS_VALUE || !ck->has_num || ck->num < 0)
		return why(c, "%s needs a number here", fname(ck));
	switch (ck->op) {
	case SHK_OP_EQ: lo = hi = ck->unum; break;
	case SHK_OP_LT: if (!ck->unum) return 0; lo = 0; hi = ck->unum - 1; break;
	case SHK_OP_LE: lo = 0; hi = ck->unum; break;
	case SHK_OP_GT: lo = ck->unum + 1; hi = max; break;
	case SHK_OP_GE: lo = ck->unum; hi = max; break;
	default:
		return why(c, "operator %s on %s is not kernel-evaluated", shk_op_name(ck->op), fname(ck));
	}
	if (hi > max)
		hi = max;
	if (lo > hi)
		return 0;
	if (hi - lo >= SHK_KP_RANGE_MAX)
		return why(c, "the range of %s covers more than %d values", fname(ck), SHK_KP_RANGE_MAX);
	for (uint64_t v = lo; v <= hi; v++)
		if ((err = add_num(l, v)))
			return err;
	return 0;
}

static int lower_bool(struct cc *c, const struct shk_check *ck, struct klit *l)
{
	if (ck->op != SHK_OP_EQ || ck->rhs != SHK_RHS_VALUE)
		return why(c, "operator %s on %s is not kernel-evaluated", shk_op_name(ck->op), fname(ck));
	return add_num(l, ck->b ? 1 : 0);
}

static int lower_nets(struct cc *c, const struct shk_check *ck, struct klit *l)
{
	int err;

	if (ck->rhs == SHK_RHS_VALUE && (ck->op == SHK_OP_EQ))
		return add_net(l, &ck->net);
	if (ck->rhs == SHK_RHS_NETSET && ck->op == SHK_OP_IN) {
		for (uint32_t i = 0; i < ck->nets.n; i++)
			if ((err = add_net(l, &ck->nets.v[i])))
				return err;
		return 0;
	}
	return why(c, "operator %s on %s is not kernel-evaluated", shk_op_name(ck->op), fname(ck));
}

/* `proc.args contains X`: pattern X gets one of SHK_KP_NEEDLES slots
 * (shared by equal patterns), and the literal becomes "ARGi = 1". */
static int lower_needle(struct cc *c, const struct shk_check *k, bool cmdline, struct klit *l)
{
	struct shk_kpolicy *kp = c->kp;
	uint32_t i;

	if (!k->text_len || k->text_len > SHK_KP_NEEDLE_MAX || memchr(k->text, '\0', k->text_len))
		return why(c, "an argument pattern must have 1 to %d bytes", SHK_KP_NEEDLE_MAX);
	for (i = 0; i < kp->conf.nneedles; i++)
		if (kp->needles[i].len == k->text_len && kp->needles[i].cmdline == cmdline &&
		    !memcmp(kp->needles[i].s, k->text, k->text_len))
			break;
	if (i == kp->conf.nneedles) {
		if (i == SHK_KP_NEEDLES)
			return why(c, "more than %d distinct argument patterns", SHK_KP_NEEDLES);
		memset(&kp->needles[i], 0, sizeof(kp->needles[i]));
		memcpy(kp->needles[i].s, k->text, k->text_len);
		kp->needles[i].len = (uint8_t)k->text_len;
		kp->needles[i].cmdline = cmdline;
		kp->conf.nneedles++;
	}
	c->rule_has_needle = true;
	l->field = (uint8_t)(SHK_KF_ARG0 + i);
	return add_num(l, 1);
}

/*
 * Lower one literal to a kernel field constraint. NE is written as the
 * negation of EQ so every klit is a set membership.
 */
static int lower(struct cc *c, const struct lit *lt, struct klit *l)
{
	const struct shk_check *ck = lt->c;
	const struct shk_check *k = ck;
	struct shk_check eq;
	int idx = ck->lhs.index;

	memset(l, 0, sizeof(*l));
	l->neg = lt->neg;
	if (ck->lhs.nxform)
		return why(c, "transformers on %s are not kernel-evaluated", fname(ck));
	if (ck->rhs == SHK_RHS_FIELD)
		return why(c, "comparing %s with another field is not kernel-evaluated", fname(ck));
	if (ck->op == SHK_OP_NE) {
		eq = *ck;
		eq.op = SHK_OP_EQ;
		k = &eq;
		l->neg = !l->neg;
	}
	switch (ck->lhs.id) {
	case SHK_FIELD_PROC_NAME:
		l->field = SHK_KF_PROC_NAME;
		return lower_strings(c, k, l, SHK_COMM_LEN - 1);
	case SHK_FIELD_PROC_PNAME:
		l->field = SHK_KF_PNAME;
		return lower_strings(c, k, l, SHK_COMM_LEN - 1);
	case SHK_FIELD_PROC_ANAME:
		if (idx < 0) {
			if (l->neg)
				return why(c, "a negated proc.aname (any ancestor) is not kernel-evaluated; "
					      "use proc.aname[N]");
			l->field = SHK_KF_ANAME_ANY;
		} else if (idx <= 4) {
			static const uint8_t f[] = { SHK_KF_PROC_NAME, SHK_KF_PNAME, SHK_KF_ANAME2,
						     SHK_KF_ANAME3, SHK_KF_ANAME4 };
			l->field = f[idx];
		} else {
			return why(c, "proc.aname[%d] is deeper than the kernel looks (4)", idx);
		}
		return lower_strings(c, k, l, SHK_COMM_LEN - 1);
	case SHK_FIELD_PROC_EXEPATH:
		l->field = SHK_KF_EXEPATH;
		return lower_strings(c, k, l, 0);
	case SHK_FIELD_FD_NAME:
		l->field = SHK_KF_FD_NAME;
		return lower_strings(c, k, l, 0);
	case SHK_FIELD_FD_DIRECTORY:
		l->field = SHK_KF_FD_DIR;
		return lower_strings(c, k, l, 0);
	case SHK_FIELD_FD_FILENAME:
		l->field = SHK_KF_FD_FILENAME;
		return lower_strings(c, k, l, 0);
	case SHK_FIELD_USER_UID:
		l->field = SHK_KF_UID;
		return lower_numbers(c, k, l, UINT32_MAX);
	case SHK_FIELD_USER_NAME: {
		struct lower lw = { .c = c, .l = l, .kind = 1 };

		l->field = SHK_KF_UID;
		if (k->op != SHK_OP_EQ && k->op != SHK_OP_IN)
			break;
		return each_text(k, lower_text, &lw);
	}
	case SHK_FIELD_CONTAINER_ID: {
		struct lower lw = { .c = c, .l = l, .kind = 3 };

		l->field = SHK_KF_CONTAINER;
		if (k->op != SHK_OP_EQ && k->op != SHK_OP_IN)
			break;
		return each_text(k, lower_text, &lw);
	}
	case SHK_FIELD_PROC_STDIN_TYPE:
	case SHK_FIELD_PROC_STDOUT_TYPE:
	case SHK_FIELD_PROC_STDERR_TYPE: {
		struct lower lw = { .c = c, .l = l, .kind = 2 };

		l->field = ck->lhs.id == SHK_FIELD_PROC_STDIN_TYPE    ? SHK_KF_STDIN_TYPE
			   : ck->lhs.id == SHK_FIELD_PROC_STDOUT_TYPE ? SHK_KF_STDOUT_TYPE
								      : SHK_KF_STDERR_TYPE;
		if (k->op != SHK_OP_EQ && k->op != SHK_OP_IN)
			break;
		return each_text(k, lower_text, &lw);
	}
	case SHK_FIELD_PROC_IS_EXE_FROM_MEMFD:
		l->field = SHK_KF_EXE_MEMFD;
		return lower_bool(c, k, l);
	case SHK_FIELD_PROC_IS_EXE_UPPER_LAYER:
		l->field = SHK_KF_EXE_UPPER;
		return lower_bool(c, k, l);
	case SHK_FIELD_EVT_IS_OPEN_READ:
		l->field = SHK_KF_OPEN_READ;
		return lower_bool(c, k, l);
	case SHK_FIELD_EVT_IS_OPEN_WRITE:
		l->field = SHK_KF_OPEN_WRITE;
		return lower_bool(c, k, l);
	case SHK_FIELD_FD_RPORT:
	case SHK_FIELD_FD_SPORT:
	case SHK_FIELD_FD_PORT:
		l->field = SHK_KF_RPORT;
		return lower_numbers(c, k, l, 65535);
	case SHK_FIELD_FD_RIP:
	case SHK_FIELD_FD_SIP:
	case SHK_FIELD_FD_RNET:
	case SHK_FIELD_FD_SNET:
	case SHK_FIELD_FD_IP:
	case SHK_FIELD_FD_NET:
		l->field = SHK_KF_RADDR;
		return lower_nets(c, k, l);
	case SHK_FIELD_PROC_ARGS:
	case SHK_FIELD_PROC_CMDLINE:
		if (k->op != SHK_OP_CONTAINS || k->rhs != SHK_RHS_VALUE)
			return why(c, "%s: only 'contains' is kernel-evaluated", fname(ck));
		return lower_needle(c, k, ck->lhs.id == SHK_FIELD_PROC_CMDLINE, l);
	case SHK_FIELD_PROC_EXE:
		return why(c, "proc.exe is argv[0], which the caller chooses: use proc.exepath or "
			      "proc.name for the kernel to decide");
	default:
		return why(c, "%s is not visible to the kernel at the operation", fname(ck));
	}
	return why(c, "operator %s on %s is not kernel-evaluated", shk_op_name(ck->op), fname(ck));
}

/* ---- clauses per class ------------------------------------------------ */

static int classify(struct cc *c, const struct lit *lt, struct shk_evtset *types, bool *ret)
{
	const struct shk_check *ck = lt->c;
	int err;

	if (ck->lhs.id == SHK_FIELD_EVT_TYPE && ck->rhs == SHK_RHS_EVTYPES) {
		bool in = (ck->op != SHK_OP_NE) != lt->neg;

		for (unsigned w = 0; w < SHK_EVTYPE_MAX / 64; w++)
			types->w[w] &= in ? ck->evtypes->w[w] : ~ck->evtypes->w[w];
		return LK_EVTYPE;
	}
	if (ck->op == SHK_OP_EXISTS) {
		*ret = !lt->neg;
		return LK_TRUE;
	}
	err = assumed(ck, ret);
	if (!err) {
		*ret = *ret != lt->neg;
		return LK_TRUE;
	}
	if (err == -EINVAL)
		return why(c, "operator %s on %s is not kernel-evaluated", shk_op_name(ck->op), fname(ck));
	if (ck->lhs.id == SHK_FIELD_FD_TYPECHAR || ck->lhs.id == SHK_FIELD_FD_TYPE)
		return LK_CLASSDEP;
	return LK_KERNEL;
}

/* fd.typechar / fd.type at a class: the would-be fd of the operation. */
static int classdep(struct cc *c, const struct lit *lt, unsigned cls, bool *ret)
{
	const struct shk_check *ck = lt->c;
	bool typechar = ck->lhs.id == SHK_FIELD_FD_TYPECHAR, v4, v6;

	if (ck->op != SHK_OP_EQ && ck->op != SHK_OP_NE && ck->op != SHK_OP_IN)
		return why(c, "operator %s on %s is not kernel-evaluated", shk_op_name(ck->op), fname(ck));
	if (cls == SHK_KP_OPEN) {
		*ret = text_is(ck, typechar ? "f" : "file");
	} else if (cls == SHK_KP_CONNECT) {
		v4 = text_is(ck, typechar ? "4" : "ipv4");
		v6 = text_is(ck, typechar ? "6" : "ipv6");
		if (v4 != v6)
			return why(c, "%s distinguishing IPv4 from IPv6 is not kernel-evaluated; use "
				      "fd.rnet", fname(ck));
		*ret = v4;
	} else {
		return why(c, "%s has no meaning for %s", fname(ck), class_names[cls]);
	}
	if (ck->op == SHK_OP_NE)
		*ret = !*ret;
	*ret = *ret != lt->neg;
	return 0;
}

static int push_clause(struct cc *c, unsigned cls, struct kclause *k)
{
	if (c->ncl[cls] == c->capcl[cls]) {
		uint32_t cap = c->capcl[cls] ? c->capcl[cls] * 2 : 16;
		struct kclause *v = realloc(c->cl[cls], cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->cl[cls] = v;
		c->capcl[cls] = cap;
	}
	c->cl[cls][c->ncl[cls]++] = *k;
	return 0;
}

static void kclause_free(struct kclause *k)
{
	for (uint32_t i = 0; i < k->nlits; i++)
		klit_free(&k->lits[i]);
	free(k->lits);
	memset(k, 0, sizeof(*k));
}

/* One DNF clause of a rule: to kernel clauses, one per class it names. */
static int lower_clause(struct cc *c, const struct clause *cl, uint32_t rule_id, bool enforce,
			struct kclause *out, uint32_t *ret_classes)
{
	struct shk_evtset types;
	bool has_type = false, v;
	uint32_t classes = 0;
	int err;

	memset(&types, 0xff, sizeof(types));
	memset(out, 0, sizeof(*out) * SHK_KP_NCLASS);
	*ret_classes = 0;
	for (uint32_t i = 0; i < cl->n; i++) {
		int k = classify(c, &cl->v[i], &types, &v);

		if (k < 0)
			return k;
		if (k == LK_EVTYPE)
			has_type = true;
		if (k == LK_TRUE && !v)
			return 0; /* never true: the clause is dropped */
	}
	if (!has_type)
		return why(c, "the condition does not name the operation (evt.type) in every "
			      "alternative");
	for (unsigned t = 0; t < SHK_EVTYPE_MAX; t++) {
		char name[64];

		if (!shk_evtset_has(&types, t))
			continue;
		if (c->evt_class[t] < 0) {
			if (shk_evtype_name(t, name, sizeof(name)))
				snprintf(name, sizeof(name), "#%u", t);
			return why(c, "evt.type %s has no kernel enforcement point", name);
		}
		classes |= 1u << c->evt_class[t];
	}
	for (unsigned cls = 0; cls < SHK_KP_NCLASS; cls++) {
		struct kclause *k = &out[cls];
		bool dropped = false;

		if (!(classes & (1u << cls)))
			continue;
		k->rule_id = rule_id;
		k->enforce = enforce;
		k->lits = calloc(cl->n, sizeof(*k->lits));
		if (!k->lits)
			return -ENOMEM;
		for (uint32_t i = 0; i < cl->n && !dropped; i++) {
			struct klit *l = &k->lits[k->nlits];
			int kind = classify(c, &cl->v[i], &types, &v);

			if (kind == LK_CLASSDEP) {
				if ((err = classdep(c, &cl->v[i], cls, &v)))
					return err;
				dropped = !v;
				continue;
			}
			if (kind != LK_KERNEL)
				continue;
			if ((err = lower(c, &cl->v[i], l))) {
				klit_free(l);
				return err;
			}
			if (!(class_fields[cls] & F(l->field))) {
				klit_free(l);
				return why(c, "%s is not known to the kernel at %s", fname(cl->v[i].c),
					   class_names[cls]);
			}
			k->nlits++;
		}
		if (dropped) {
			kclause_free(k);
			continue;
		}
		*ret_classes |= 1u << cls;
	}
	return 0;
}

/* Every clause also says "not a protected process" (DESIGN.md section 4). */
static int add_protect(struct cc *c, struct kclause *k)
{
	struct klit *v;

	if (!c->protect.nstrs)
		return 0;
	v = realloc(k->lits, (k->nlits + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	k->lits = v;
	return klit_copy(&v[k->nlits++], &c->protect);
}

static int protect_list(struct cc *c, const struct shk_plan *plan)
{
	int err;

	c->protect.field = SHK_KF_PROC_NAME;
	c->protect.neg = true;
	for (uint32_t i = 0; i < plan->nprotect; i++) {
		const struct shk_protect *p = plan->protect[i];

		if (strcmp(p->field, "proc.name"))
			continue;
		for (uint32_t k = 0; k < p->nvalues; k++) {
			size_t n = strlen(p->values[k]);

			err = add_str(&c->protect, p->values[k], n > SHK_COMM_LEN - 1 ? SHK_COMM_LEN - 1 : n,
				      true);
			if (err && err != -E2BIG)
				return err;
		}
	}
	return 0;
}

/*
 * Push a copy of clause k to class cls whose literal i is field = v instead,
 * plus field2 = v2 unless field2 is SHK_KF_NFIELDS; confirm marks it a
 * candidate (shk_kp_clause.confirm).
 */
static int push_twin(struct cc *c, unsigned cls, const struct kclause *k, uint32_t i, unsigned field,
		     uint64_t v, unsigned field2, uint64_t v2, bool confirm)
{
	struct kclause t = *k;
	int err = 0;

	t.confirm = confirm;
	t.lits = calloc(k->nlits + 1, sizeof(*t.lits));
	if (!t.lits)
		return -ENOMEM;
	t.nlits = 0;
	for (uint32_t j = 0; j < k->nlits && !err; j++) {
		struct klit *d = &t.lits[t.nlits++];

		if (j != i) {
			err = klit_copy(d, &k->lits[j]);
			continue;
		}
		memset(d, 0, sizeof(*d));
		d->field = field;
		err = add_num(d, v);
	}
	if (!err && field2 < SHK_KF_NFIELDS) {
		struct klit *d = &t.lits[t.nlits++];

		memset(d, 0, sizeof(*d));
		d->field = field2;
		err = add_num(d, v2);
	}
	if (!err)
		err = push_clause(c, cls, &t);
	if (err)
		kclause_free(&t);
	return err;
}

/* Remember the file a copy is compared with (shk_kpolicy_same_image). */
static int add_image(struct shk_kpolicy *kp, const char *path, uint64_t id, uint32_t kid)
{
	struct shk_kp_image *im = realloc(kp->images, (kp->nimages + 1) * sizeof(*im));

	if (!im)
		return -ENOMEM;
	kp->images = im;
	im = &kp->images[kp->nimages];
	im->path = strdup(path);
	if (!im->path)
		return -ENOMEM;
	im->id = id;
	im->kid = kid;
	kp->nimages++;
	return 0;
}

/*
 * Another name for a denied binary, or another copy of it. For each file a
 * positive proc.exepath literal names exactly (and that exists at load),
 * twin clauses pushed to class cls after the clause itself, each matching
 * instead of the path:
 * - its inode and device: a hard link or a rename;
 * - exec only, its size and first bytes (shk_exe_head_id), marked confirm:
 *   a copy. The kernel cannot read more of the image, so it stops the
 *   process before its first instruction and userspace compares the whole
 *   image with the file (shk_kpolicy_same_image), which is remembered.
 * Returns the number pushed in *ret_n.
 */
static int push_exe_twins(struct cc *c, unsigned cls, const struct kclause *k, uint32_t *ret_n)
{
	int err = 0;

	*ret_n = 0;
	for (uint32_t i = 0; i < k->nlits; i++) {
		const struct klit *l = &k->lits[i];

		if (l->field != SHK_KF_EXEPATH || l->neg)
			continue;
		for (uint32_t s = 0; s < l->nstrs; s++) {
			const char *path = l->strs[s].s;
			struct stat st;
			uint64_t kdev, id;

			if (!l->strs[s].exact || stat(path, &st) || !S_ISREG(st.st_mode))
				continue;
			if (c->ncl[cls] + 2 > SHK_KP_MAX_CLAUSES)
				return why(c, "the kernel's %s table is full (%d clauses)", class_names[cls],
					   SHK_KP_MAX_CLAUSES);
			kdev = (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev);
			err = push_twin(c, cls, k, i, SHK_KF_EXE_INO, (uint64_t)st.st_ino, SHK_KF_EXE_DEV,
					kdev, false);
			if (err)
				return err;
			(*ret_n)++;
			if (cls != SHK_KP_EXEC || shk_kpolicy_image_id(path, &id, -1))
				continue;
			err = add_image(c->kp, path, id, k->kid);
			if (!err)
				err = push_twin(c, cls, k, i, SHK_KF_EXE_HEAD, id, SHK_KF_NFIELDS, 0, true);
			if (err)
				return err;
			(*ret_n)++;
		}
	}
	return 0;
}

/* ---- the image ------------------------------------------------------- */

static bool str_sat(const struct klit *l, const struct kstr *e)
{
	for (uint32_t i = 0; i < l->nstrs; i++) {
		const struct kstr *q = &l->strs[i];

		if (q->exact ? e->exact && e->len == q->len && !memcmp(e->s, q->s, q->len)
			     : e->len >= q->len && !memcmp(e->s, q->s, q->len))
			return true;
	}
	return false;
}

static bool num_sat(const struct klit *l, uint64_t v)
{
	for (uint32_t i = 0; i < l->nnums; i++)
		if (l->nums[i] == v)
			return true;
	return false;
}

static bool net_within(const struct knet *inner, const struct knet *outer)
{
	unsigned full = outer->prefix / 8, rem = outer->prefix % 8;

	if (outer->prefix > inner->prefix || memcmp(inner->addr, outer->addr, full))
		return false;
	return !rem || ((inner->addr[full] ^ outer->addr[full]) & (0xff00 >> rem) & 0xff) == 0;
}

static bool net_sat(const struct klit *l, const struct knet *e)
{
	for (uint32_t i = 0; i < l->nnets; i++)
		if (net_within(e, &l->nets[i]))
			return true;
	return false;
}

/* Is clause k satisfied on field f by an entry (NULL entries: no match)? */
static bool clause_sat(const struct kclause *k, unsigned f, const struct kstr *s, const uint64_t *n,
		       const struct knet *a)
{
	for (uint32_t i = 0; i < k->nlits; i++) {
		const struct klit *l = &k->lits[i];
		bool sat;

		if (l->field != f)
			continue;
		if (f < SHK_KF_NSTR)
			sat = s && str_sat(l, s);
		else if (f < SHK_KF_NNUM_END)
			sat = n && num_sat(l, *n);
		else
			sat = a && net_sat(l, a);
		if (sat == l->neg)
			return false;
	}
	return true;
}

static void bits_for(const struct cc *c, unsigned cls, unsigned f, const struct kstr *s,
		     const uint64_t *n, const struct knet *a, struct shk_kp_bits *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < c->ncl[cls]; i++)
		if (clause_sat(&c->cl[cls][i], f, s, n, a))
			out->w[i / 64] |= 1ull << (i % 64);
}

#define GROW(arr, n, cap)                                                      \
	({                                                                     \
		int _e = 0;                                                    \
		if ((n) == (cap)) {                                            \
			uint32_t _c = (cap) ? (cap) * 2 : 64;                  \
			void *_v = realloc((arr), _c * sizeof(*(arr)));        \
			if (_v) {                                              \
				(arr) = _v;                                    \
				(cap) = _c;                                    \
			} else {                                               \
				_e = -ENOMEM;                                  \
			}                                                      \
		}                                                              \
		_e;                                                            \
	})

static bool seen_str(const struct shk_kpolicy *kp, uint32_t from, const struct kstr *e)
{
	for (uint32_t i = from; i < kp->nstr; i++) {
		const struct shk_kp_skey *k = &kp->str[i].key;
		uint32_t len = k->prefixlen / 8 - SHK_KP_STR_HDR;

		if (len == e->len + (e->exact ? 1 : 0) && !memcmp(k->s, e->s, e->len))
			return true;
	}
	return false;
}

static int emit_field(struct cc *c, unsigned cls, unsigned f)
{
	struct shk_kpolicy *kp = c->kp;
	uint32_t from_s = kp->nstr, from_n = kp->nnum, from_a = kp->naddr;
	int err;

	bits_for(c, cls, f, NULL, NULL, NULL, &kp->base[cls][f]);
	for (uint32_t i = 0; i < c->ncl[cls]; i++) {
		const struct kclause *k = &c->cl[cls][i];

		for (uint32_t j = 0; j < k->nlits; j++) {
			const struct klit *l = &k->lits[j];

			if (l->field != f)
				continue;
			for (uint32_t s = 0; s < l->nstrs; s++) {
				const struct kstr *e = &l->strs[s];
				struct shk_kp_sentry *x;

				if (seen_str(kp, from_s, e))
					continue;
				if ((err = GROW(kp->str, kp->nstr, kp->capstr)))
					return err;
				x = &kp->str[kp->nstr++];
				memset(x, 0, sizeof(*x));
				x->key.cls = (uint8_t)cls;
				x->key.field = (uint8_t)f;
				memcpy(x->key.s, e->s, e->len);
				x->key.prefixlen = 8 * (SHK_KP_STR_HDR + e->len + (e->exact ? 1 : 0));
				bits_for(c, cls, f, e, NULL, NULL, &x->bits);
			}
			for (uint32_t s = 0; s < l->nnums; s++) {
				struct shk_kp_nentry *x;
				bool dup = false;

				for (uint32_t q = from_n; q < kp->nnum && !dup; q++)
					dup = kp->num[q].key.v == l->nums[s];
				if (dup)
					continue;
				if ((err = GROW(kp->num, kp->nnum, kp->capnum)))
					return err;
				x = &kp->num[kp->nnum++];
				memset(x, 0, sizeof(*x));
				x->key.cls = (uint8_t)cls;
				x->key.field = (uint8_t)f;
				x->key.v = l->nums[s];
				bits_for(c, cls, f, NULL, &l->nums[s], NULL, &x->bits);
			}
			for (uint32_t s = 0; s < l->nnets; s++) {
				const struct knet *e = &l->nets[s];
				struct shk_kp_aentry *x;
				bool dup = false;

				for (uint32_t q = from_a; q < kp->naddr && !dup; q++)
					dup = kp->addr[q].key.prefixlen == 32u + e->prefix &&
					      !memcmp(kp->addr[q].key.addr, e->addr, 16);
				if (dup)
					continue;
				if ((err = GROW(kp->addr, kp->naddr, kp->capaddr)))
					return err;
				x = &kp->addr[kp->naddr++];
				memset(x, 0, sizeof(*x));
				x->key.cls = (uint8_t)cls;
				x->key.field = (uint8_t)f;
				x->key.prefixlen = 32u + e->prefix;
				memcpy(x->key.addr, e->addr, 16);
				bits_for(c, cls, f, NULL, NULL, e, &x->bits);
			}
		}
	}
	return 0;
}

static int emit_class(struct cc *c, unsigned cls)
{
	struct shk_kpolicy *kp = c->kp;
	struct shk_kp_class_conf *cc = &kp->conf.cls[cls];
	int err;

	cc->nclauses = c->ncl[cls];
	cc->nwords = (c->ncl[cls] + 63) / 64;
	for (uint32_t i = 0; i < c->ncl[cls]; i++) {
		kp->base[cls][SHK_KP_BASE_ALL].w[i / 64] |= 1ull << (i % 64);
		kp->clause[cls][i].rule = c->cl[cls][i].kid;
		kp->clause[cls][i].enforce = c->cl[cls][i].enforce;
		kp->clause[cls][i].kill = c->cl[cls][i].kill;
		kp->clause[cls][i].confirm = c->cl[cls][i].confirm;
		for (uint32_t j = 0; j < c->cl[cls][i].nlits; j++)
			cc->fields |= F(c->cl[cls][i].lits[j].field);
	}
	for (unsigned f = 0; f < SHK_KF_NFIELDS; f++)
		if (cc->fields & F(f) && (err = emit_field(c, cls, f)))
			return err;
	return 0;
}

/* ---- rules ----------------------------------------------------------- */

/*
 * The action the kernel carries out for a rule: its deny, else its
 * kill: process. A kill of the offending process needs nothing the kernel
 * lacks, and done there the process dies before the call returns instead
 * of two thread wakeups later; a kill of a tree, a container or a pod
 * stays in userspace.
 */
static const struct shk_planned *kernel_action_of(const struct shk_plan *plan, uint32_t rule_id,
						   struct shk_planned **ret)
{
	const struct shk_rule_plan *rp = rule_id < plan->nrules ? &plan->rules[rule_id] : NULL;

	*ret = NULL;
	for (uint32_t i = 0; rp && i < rp->n; i++)
		if (rp->v[i].act == SHK_ACT_DENY) {
			*ret = &rp->v[i];
			return *ret;
		}
	for (uint32_t i = 0; rp && i < rp->n; i++)
		if (rp->v[i].act == SHK_ACT_KILL && rp->v[i].scope == SHK_SCOPE_PROCESS) {
			*ret = &rp->v[i];
			return *ret;
		}
	return NULL;
}

static int compile_rule(struct cc *c, const struct shk_rule *r, struct shk_planned *deny,
			struct shk_kp_rule *out)
{
	struct kclause per[SHK_KP_RULE_MAX_CLAUSES][SHK_KP_NCLASS];
	uint32_t cls_of[SHK_KP_RULE_MAX_CLAUSES] = { 0 };
	struct dnf d;
	uint32_t classes = 0, n = 0;
	int err;

	c->why[0] = '\0';
	c->rule_has_needle = false;
	if ((err = to_dnf(c, r->filter, false, &d, 0)))
		return err;
	memset(per, 0, sizeof(per));
	for (uint32_t i = 0; i < d.n && !err; i++) {
		err = lower_clause(c, &d.v[i], r->id, deny->mode == SHK_MODE_ENFORCE, per[i], &cls_of[i]);
		classes |= cls_of[i];
		for (unsigned cls = 0; cls < SHK_KP_NCLASS; cls++)
			per[i][cls].kill = deny->act == SHK_ACT_KILL;
	}
	for (unsigned cls = 0; !err && cls < SHK_KP_NCLASS; cls++) {
		uint32_t need = 0;

		for (uint32_t i = 0; i < d.n; i++)
			need += !!(cls_of[i] & (1u << cls));
		if (c->ncl[cls] + need > SHK_KP_MAX_CLAUSES)
			err = why(c, "the kernel's %s table is full (%d clauses)", class_names[cls],
				  SHK_KP_MAX_CLAUSES);
	}
	if (!err && !classes)
		err = why(c, "the condition can never be true at a kernel enforcement point");
	if (!err) {
		out->kid = ++c->kp->nkernel;
		for (uint32_t i = 0; i < d.n && !err; i++)
			for (unsigned cls = 0; cls < SHK_KP_NCLASS && !err; cls++) {
				if (!(cls_of[i] & (1u << cls)))
					continue;
				per[i][cls].kid = out->kid;
				err = add_protect(c, &per[i][cls]);
				if (!err)
					err = push_clause(c, cls, &per[i][cls]);
				if (!err) {
					/* a shallow copy: the twins may move c->cl */
					struct kclause pushed = per[i][cls];
					uint32_t twins = 0;

					memset(&per[i][cls], 0, sizeof(per[i][cls]));
					err = push_exe_twins(c, cls, &pushed, &twins);
					n += twins;
				}
				n++;
			}
	}
	for (uint32_t i = 0; i < d.n; i++)
		for (unsigned cls = 0; cls < SHK_KP_NCLASS; cls++)
			kclause_free(&per[i][cls]);
	dnf_free(&d);
	if (err)
		return err;
	out->classes = classes;
	out->nclauses = n;
	return 0;
}

static void class_table(struct cc *c)
{
	for (unsigned t = 0; t < SHK_EVTYPE_MAX; t++)
		c->evt_class[t] = -1;
	for (unsigned cls = 0; cls < SHK_KP_NCLASS; cls++)
		for (const char *const *s = class_sys[cls]; *s; s++) {
			int t = shk_evtype_resolve(*s);

			if (t >= 0 && t < SHK_EVTYPE_MAX)
				c->evt_class[t] = (int16_t)cls;
		}
}

/*
 * Enforce clauses first: the BPF side takes the lowest set bit. Among
 * them, copies by content last: such a match is only a candidate, which
 * userspace may let go, and it must not hide a certain match of another
 * rule (a kill: process of this very binary, say).
 */
static int by_enforce(const void *a, const void *b)
{
	const struct kclause *x = a, *y = b;

	if (x->enforce != y->enforce)
		return x->enforce ? -1 : 1;
	if (x->confirm != y->confirm)
		return x->confirm ? 1 : -1;
	return x->kid < y->kid ? -1 : x->kid > y->kid;
}

struct shk_kpolicy *shk_kpolicy_compile(const struct shk_ruleset *rs, struct shk_plan *plan,
					bool strict, struct shk_diags *dg, bool *ret_strict_failed)
{
	struct shk_kpolicy *kp = calloc(1, sizeof(*kp));
	struct cc *c = calloc(1, sizeof(*c));
	int err = 0;

	if (ret_strict_failed)
		*ret_strict_failed = false;
	if (!kp || !c)
		goto nomem;
	c->kp = kp;
	c->rs = rs;
	class_table(c);
	if (protect_list(c, plan))
		goto nomem;
	kp->nrules = rs->nrules;
	kp->rules = calloc(rs->nrules ? rs->nrules : 1, sizeof(*kp->rules));
	kp->kid_rule = calloc(rs->nrules ? rs->nrules : 1, sizeof(*kp->kid_rule));
	kp->recheck = calloc(rs->nrules ? rs->nrules : 1, 1);
	if (!kp->rules || !kp->kid_rule || !kp->recheck)
		goto nomem;
	for (uint32_t i = 0; i < rs->nrules; i++) {
		const struct shk_rule *r = &rs->rules[i];
		struct shk_kp_rule *out = &kp->rules[r->id];
		struct shk_planned *deny = NULL;

		if (!kernel_action_of(plan, r->id, &deny))
			continue;
		if (!r->enabled) {
			out->status = SHK_KPS_NONE;
			continue;
		}
		err = compile_rule(c, r, deny, out);
		if (err == -ENOMEM)
			goto nomem;
		if (!err) {
			out->status = SHK_KPS_KERNEL;
			out->kill = deny->act == SHK_ACT_KILL;
			kp->nkill += out->kill;
			kp->kid_rule[out->kid - 1] = r->id;
			kp->recheck[r->id] = c->rule_has_needle;
			deny->deny_fallback = false;
			deny->in_kernel = true;
			continue;
		}
		deny->in_kernel = false;
		if (deny->act == SHK_ACT_KILL) {
			/* the kill stays in userspace, as written: no fallback */
			out->status = SHK_KPS_NONE;
			snprintf(out->reason, sizeof(out->reason), "%s",
				 c->why[0] ? c->why : strerror(-err));
			continue;
		}
		out->status = SHK_KPS_FALLBACK;
		snprintf(out->reason, sizeof(out->reason), "%s", c->why[0] ? c->why : strerror(-err));
		kp->nfallback++;
		deny->deny_fallback = true;
		if (strict) {
			shk_diags_add(dg, SHK_DIAG_ERROR, &deny->loc, NULL, 0,
				      "rule '%s': deny cannot be enforced in the kernel (%s), and "
				      "--strict forbids the fallback to kill: process",
				      r->name, out->reason);
			if (ret_strict_failed)
				*ret_strict_failed = true;
		} else {
			shk_diags_add(dg, SHK_DIAG_WARNING, &deny->loc, NULL, 0,
				      "rule '%s': deny cannot be enforced in the kernel (%s): carried "
				      "out as kill: process in userspace",
				      r->name, out->reason);
		}
	}
	for (unsigned cls = 0; cls < SHK_KP_NCLASS; cls++) {
		if (c->ncl[cls] > 1)
			qsort(c->cl[cls], c->ncl[cls], sizeof(c->cl[cls][0]), by_enforce);
		if ((err = emit_class(c, cls)))
			goto nomem;
	}
	for (unsigned cls = 0; cls < SHK_KP_NCLASS; cls++) {
		for (uint32_t i = 0; i < c->ncl[cls]; i++)
			kclause_free(&c->cl[cls][i]);
		free(c->cl[cls]);
	}
	klit_free(&c->protect);
	free(c);
	return kp;
nomem:
	if (c)
		for (unsigned cls = 0; cls < SHK_KP_NCLASS; cls++) {
			for (uint32_t i = 0; i < c->ncl[cls]; i++)
				kclause_free(&c->cl[cls][i]);
			free(c->cl[cls]);
		}
	if (c)
		klit_free(&c->protect);
	free(c);
	shk_kpolicy_free(kp);
	errno = ENOMEM;
	return NULL;
}

/* Up to len bytes at off: fewer only at the end of the file. The count,
 * or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int shk_kpolicy_image_id(const char *path, uint64_t *ret_id, int fd)
{
	__u64 w[SHK_EXE_HEAD_WORDS] = { 0 };
	int own = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) : -1;
	int f = path ? own : fd, err = 0;
	struct stat st;
	ssize_t n;

	if (f < 0)
		return -errno;
	if (fstat(f, &st)) {
		err = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
	} else if ((n = pread_full(f, w, sizeof(w), 0)) < 0) {
		/* as the kernel's linux_binprm.buf: zeros past a short file */
		err = (int)n;
	}
	if (own >= 0)
		close(own);
	if (!err)
		*ret_id = shk_exe_head_id(w, (uint64_t)st.st_size);
	return err;
}

/* Whether two open regular files hold the same bytes: 1, 0, or -errno. */
static int same_bytes(int a, int b)
{
	static char ba[65536], bb[65536]; /* the event loop's only: no stack */
	struct stat sa, sb;
	off_t off = 0;

	if (fstat(a, &sa) || fstat(b, &sb))
		return -errno;
	if (sa.st_size != sb.st_size)
		return 0;
	while (off < sa.st_size) {
		ssize_t n = pread_full(a, ba, sizeof(ba), off), m;

		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		m = pread_full(b, bb, (size_t)n, off);
		if (m < 0)
			return (int)m;
		if (m != n || memcmp(ba, bb, (size_t)n))
			return 0; /* other bytes, or shorter: it changed */
		off += n;
	}
	return 1;
}

int shk_kpolicy_same_image(const struct shk_kpolicy *kp, uint32_t kid, int fd,
			   const char **ret_path)
{
	uint64_t id;
	int err = shk_kpolicy_image_id(NULL, &id, fd), ret = 0;

	if (err)
		return err;
	for (uint32_t i = 0; kp && i < kp->nimages && ret != 1; i++) {
		const struct shk_kp_image *im = &kp->images[i];
		int ref;

		if ((kid && im->kid != kid) || im->id != id)
			continue;
		ref = open(im->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (ref < 0) {
			ret = -errno;
			continue;
		}
		err = same_bytes(fd, ref);
		close(ref);
		if (err == 1 && ret_path)
			*ret_path = im->path;
		ret = err == 1 ? 1 : err < 0 ? err : ret;
	}
	return ret;
}

void shk_kpolicy_free(struct shk_kpolicy *kp)
{
	if (!kp)
		return;
	free(kp->rules);
	free(kp->kid_rule);
	free(kp->recheck);
	free(kp->str);
	free(kp->num);
	free(kp->addr);
	for (uint32_t i = 0; i < kp->nimages; i++)
		free(kp->images[i].path);
	free(kp->images);
	free(kp);
}

const struct shk_kp_rule *shk_kpolicy_rule(const struct shk_kpolicy *kp, uint32_t rule_id)
{
	return kp && rule_id < kp->nrules ? &kp->rules[rule_id] : NULL;
}

int64_t shk_kpolicy_rule_of(const struct shk_kpolicy *kp, uint32_t kid)
{
	if (!kp || !kid || kid > kp->nkernel)
		return -1;
	return kp->kid_rule[kid - 1];
}
