/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel policy compiler: which deny rules compile and why the others
 * fall back, and what the compiled image decides. The image is evaluated
 * here the way the BPF side does it (longest-prefix match for strings and
 * addresses, exact match for numbers, AND of the field bitmaps, lowest set
 * bit), so every decision below is the one the kernel would take.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "kpolicy.h"
#include "plan.h"
#include "rule_compile.h"
#include "rule_loader.h"

struct built {
	struct shk_ruleset *rs;
	struct shk_plan *plan;
	struct shk_kpolicy *kp;
	struct shk_diags diags;
	bool strict_failed;
};

static void build(struct built *b, const char *yaml, bool strict)
{
	struct shk_loader *ld = shk_loader_new();
	struct shk_plan_opts o = { .strict = strict };

	assert_non_null(ld);
	shk_loader_load_buffer(ld, "k.yaml", yaml, strlen(yaml));
	b->rs = shk_ruleset_compile(ld);
	assert_non_null(b->rs);
	if (shk_ruleset_diags(b->rs)->nerrors) {
		char buf[512];

		shk_diag_format(&shk_ruleset_diags(b->rs)->v[0], buf, sizeof(buf));
		fail_msg("rules did not compile: %s", buf);
	}
	shk_diags_init(&b->diags);
	b->plan = shk_plan_build(b->rs, &o, &b->diags);
	assert_non_null(b->plan);
	b->kp = shk_kpolicy_compile(b->rs, b->plan, strict, &b->diags, &b->strict_failed);
	assert_non_null(b->kp);
}

static void unbuild(struct built *b)
{
	shk_kpolicy_free(b->kp);
	shk_plan_free(b->plan);
	shk_ruleset_free(b->rs);
	shk_diags_clear(&b->diags);
}

static const struct shk_kp_rule *kr(struct built *b, const char *name)
{
	const struct shk_rule *r = shk_ruleset_find(b->rs, name);

	assert_non_null(r);
	return shk_kpolicy_rule(b->kp, r->id);
}

/* ---- the reference evaluator ----------------------------------------- */

struct facts {
	const char *s[SHK_KF_NSTR];
	uint64_t n[SHK_KF_NNUM_END - SHK_KF_NSTR];
	uint8_t addr[16];
};

static void and_bits(uint64_t *acc, const struct shk_kp_bits *b)
{
	for (int w = 0; w < SHK_KP_WORDS; w++)
		acc[w] &= b->w[w];
}

static const struct shk_kp_bits *str_lookup(const struct shk_kpolicy *kp, unsigned cls,
					    unsigned field, const char *v)
{
	const struct shk_kp_bits *best = NULL;
	uint32_t best_len = 0;
	size_t vlen = strlen(v) + 1; /* the NUL takes part, as in the key */

	for (uint32_t i = 0; i < kp->nstr; i++) {
		const struct shk_kp_skey *k = &kp->str[i].key;
		uint32_t len = k->prefixlen / 8 - SHK_KP_STR_HDR;

		if (k->cls != cls || k->field != field || len > vlen || memcmp(k->s, v, len))
			continue;
		if (!best || len > best_len) {
			best = &kp->str[i].bits;
			best_len = len;
		}
	}
	return best ? best : &kp->base[cls][field];
}

static const struct shk_kp_bits *num_lookup(const struct shk_kpolicy *kp, unsigned cls,
					    unsigned field, uint64_t v)
{
	for (uint32_t i = 0; i < kp->nnum; i++)
		if (kp->num[i].key.cls == cls && kp->num[i].key.field == field && kp->num[i].key.v == v)
			return &kp->num[i].bits;
	return &kp->base[cls][field];
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rem = bits % 8;

	if (memcmp(a, b, full))
		return false;
	return !rem || !((a[full] ^ b[full]) & (0xff00 >> rem) & 0xff);
}

static const struct shk_kp_bits *addr_lookup(const struct shk_kpolicy *kp, unsigned cls,
					     const uint8_t *a)
{
	const struct shk_kp_bits *best = NULL;
	uint32_t best_len = 0;

	for (uint32_t i = 0; i < kp->naddr; i++) {
		const struct shk_kp_akey *k = &kp->addr[i].key;

		if (k->cls != cls || !prefix_eq(k->addr, a, k->prefixlen - 32))
			continue;
		if (!best || k->prefixlen > best_len) {
			best = &kp->addr[i].bits;
			best_len = k->prefixlen;
		}
	}
	return best ? best : &kp->base[cls][SHK_KF_RADDR];
}

/* The rule the kernel would match (by name), "" for none; *enforce set. */
static const char *decide(struct built *b, unsigned cls, const struct facts *f, bool *enforce)
{
	const struct shk_kpolicy *kp = b->kp;
	const struct shk_kp_class_conf *cc = &kp->conf.cls[cls];
	uint64_t acc[SHK_KP_WORDS];

	if (!cc->nclauses)
		return "";
	memcpy(acc, kp->base[cls][SHK_KP_BASE_ALL].w, sizeof(acc));
	for (unsigned fi = 0; fi < SHK_KF_NFIELDS; fi++) {
		if (!(cc->fields & (1ull << fi)))
			continue;
		if (fi == SHK_KF_ANAME_ANY) {
			uint64_t any[SHK_KP_WORDS] = { 0 };

			for (unsigned a = SHK_KF_PNAME; a <= SHK_KF_ANAME4; a++) {
				const struct shk_kp_bits *x = str_lookup(kp, cls, fi, f->s[a] ? f->s[a] : "");

				for (int w = 0; w < SHK_KP_WORDS; w++)
					any[w] |= x->w[w];
			}
			for (int w = 0; w < SHK_KP_WORDS; w++)
				acc[w] &= any[w];
		} else if (fi < SHK_KF_NSTR) {
			and_bits(acc, str_lookup(kp, cls, fi, f->s[fi] ? f->s[fi] : ""));
		} else if (fi < SHK_KF_NNUM_END) {
			and_bits(acc, num_lookup(kp, cls, fi, f->n[fi - SHK_KF_NSTR]));
		} else {
			and_bits(acc, addr_lookup(kp, cls, f->addr));
		}
	}
	for (uint32_t w = 0; w < cc->nwords; w++) {
		if (!acc[w])
			continue;
		const struct shk_kp_clause *cl = &kp->clause[cls][w * 64 + (uint32_t)__builtin_ctzll(acc[w])];
		int64_t id = shk_kpolicy_rule_of(kp, cl->rule);

		assert_true(id >= 0);
		if (enforce)
			*enforce = cl->enforce;
		return b->rs->rules[id].name;
	}
	return "";
}

static void v4(struct facts *f, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(f->addr, 0, 16);
	f->addr[10] = f->addr[11] = 0xff;
	f->addr[12] = a, f->addr[13] = b, f->addr[14] = c, f->addr[15] = d;
}

#define NUM(f, field) (f).n[(field) - SHK_KF_NSTR]

#define RULE(name, cond, extra)                                                              \
	"- rule: " name "\n  desc: d\n  condition: " cond "\n  output: o\n  priority: CRITICAL\n" \
	"  actions: [deny]\n  mode: enforce\n" extra

/* ---- tests ------------------------------------------------------------ */

static void test_exec_names_and_paths(void **state)
{
	struct built b;
	struct facts f = { 0 };
	bool enforce = false;

	build(&b,
	      "- list: miners\n  items: [xmrig, minerd]\n"
	      "- macro: spawned_process\n  condition: (evt.type in (execve, execveat) and evt.dir=<)\n"
	      RULE("Miner", "spawned_process and (proc.name in (miners) or proc.exepath startswith "
			    "/opt/miner/)", "")
	      RULE("Tmp exec", "spawned_process and proc.exepath pmatch (/tmp) and not proc.pname = "
			       "make", ""),
	      false);
	assert_int_equal(b.diags.nerrors, 0);
	assert_int_equal(kr(&b, "Miner")->status, SHK_KPS_KERNEL);
	assert_int_equal(kr(&b, "Tmp exec")->status, SHK_KPS_KERNEL);
	assert_int_equal(kr(&b, "Miner")->classes, 1u << SHK_KP_EXEC);

	f.s[SHK_KF_PROC_NAME] = "xmrig";
	f.s[SHK_KF_EXEPATH] = "/usr/bin/xmrig";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, &enforce), "Miner");
	assert_true(enforce);
	/* renamed: the exe path still gives it away */
	f.s[SHK_KF_PROC_NAME] = "kworker";
	f.s[SHK_KF_EXEPATH] = "/opt/miner/kworker";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Miner");
	/* neighbours: another name, a sibling directory */
	f.s[SHK_KF_EXEPATH] = "/opt/minerals/kworker";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	f.s[SHK_KF_PROC_NAME] = "xmrig2";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	/* pmatch: /tmp itself and below, not /tmpfoo; the exception holds */
	f.s[SHK_KF_EXEPATH] = "/tmp/x/y";
	f.s[SHK_KF_PNAME] = "bash";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Tmp exec");
	f.s[SHK_KF_PNAME] = "make";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	f.s[SHK_KF_PNAME] = "bash";
	f.s[SHK_KF_EXEPATH] = "/tmpfoo/y";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	/* exec rules do not spill into other operations */
	f.s[SHK_KF_PROC_NAME] = "xmrig";
	assert_string_equal(decide(&b, SHK_KP_OPEN, &f, NULL), "");
	unbuild(&b);
}

static void test_hard_link_matches_by_inode(void **state)
{
	char path[] = "/tmp/shk-kp-XXXXXX", yaml[1024];
	struct built b;
	struct facts f = { 0 };
	struct stat st;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	snprintf(yaml, sizeof(yaml), RULE("Bin", "evt.type = execve and proc.exepath = %s", ""), path);
	build(&b, yaml, false);
	unlink(path);
	assert_int_equal(kr(&b, "Bin")->status, SHK_KPS_KERNEL);
	/* the path, its inode, its content */
	assert_int_equal(kr(&b, "Bin")->nclauses, 3);
	/* another name for the same file: a hard link, or after mv */
	f.s[SHK_KF_EXEPATH] = "/tmp/elsewhere/innocent";
	NUM(f, SHK_KF_EXE_INO) = st.st_ino;
	NUM(f, SHK_KF_EXE_DEV) = (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev);
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Bin");
	/* same inode number on another device: not it */
	NUM(f, SHK_KF_EXE_DEV) ^= 1;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	unbuild(&b);
}

/* A clause of class cls with confirm set: the content twins. */
static const struct shk_kp_clause *confirm_clause(const struct built *b, unsigned cls)
{
	for (uint32_t i = 0; i < b->kp->conf.cls[cls].nclauses; i++)
		if (b->kp->clause[cls][i].confirm)
			return &b->kp->clause[cls][i];
	return NULL;
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_copy_matches_by_content(void **state)
{
	char path[] = "/tmp/shk-kp-XXXXXX", copy[64], other[64], yaml[1024], img[1000];
	__u64 w[SHK_EXE_HEAD_WORDS] = { 0 };
	const struct shk_kp_clause *cl;
	const char *which = NULL;
	struct built b;
	struct facts f = { 0 };
	uint64_t id, id2;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (char)(i * 7 + 3);
	write_bytes(path, img, sizeof(img));
	/* the identity is what the kernel computes: size and first bytes */
	memcpy(w, img, sizeof(w));
	assert_int_equal(shk_kpolicy_image_id(path, &id, -1), 0);
	assert_int_equal(id, shk_exe_head_id(w, sizeof(img)));
	snprintf(yaml, sizeof(yaml), RULE("Bin", "evt.type = execve and proc.exepath = %s", ""), path);
	build(&b, yaml, false);
	cl = confirm_clause(&b, SHK_KP_EXEC);
	assert_non_null(cl);
	assert_int_equal(b.kp->nimages, 1);
	assert_string_equal(b.kp->images[0].path, path);
	/* a copy elsewhere: other path, other inode, the same first bytes */
	f.s[SHK_KF_EXEPATH] = "/tmp/elsewhere/innocent";
	NUM(f, SHK_KF_EXE_INO) = 1;
	NUM(f, SHK_KF_EXE_HEAD) = id;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Bin");
	NUM(f, SHK_KF_EXE_HEAD) = id ^ 1;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	NUM(f, SHK_KF_EXE_HEAD) = 0; /* not computed (the lsm hook) */
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");

	/* the whole image decides: a true copy, then one that differs only
	 * past the first bytes (same identity), then a shorter one */
	snprintf(copy, sizeof(copy), "%s-copy", path);
	snprintf(other, sizeof(other), "%s-other", path);
	write_bytes(copy, img, sizeof(img));
	img[sizeof(img) - 1] ^= 1;
	write_bytes(other, img, sizeof(img));
	assert_int_equal(shk_kpolicy_image_id(other, &id2, -1), 0);
	assert_int_equal(id2, id);
	fd = open(copy, O_RDONLY);
	assert_int_equal(shk_kpolicy_same_image(b.kp, cl->rule, fd, &which), 1);
	assert_string_equal(which, path);
	assert_int_equal(shk_kpolicy_same_image(b.kp, 0, fd, NULL), 1); /* any rule */
	assert_int_equal(shk_kpolicy_same_image(b.kp, cl->rule + 1, fd, NULL), 0);
	close(fd);
	fd = open(other, O_RDONLY);
	assert_int_equal(shk_kpolicy_same_image(b.kp, cl->rule, fd, NULL), 0);
	close(fd);
	write_bytes(other, img, 300);
	fd = open(other, O_RDONLY);
	assert_int_equal(shk_kpolicy_same_image(b.kp, cl->rule, fd, NULL), 0);
	close(fd);
	/* the denied file is gone: nothing to compare with */
	unlink(path);
	fd = open(copy, O_RDONLY);
	assert_true(shk_kpolicy_same_image(b.kp, cl->rule, fd, NULL) < 0);
	close(fd);
	unlink(copy);
	unlink(other);
	unbuild(&b);
}

/* A candidate by content never hides a certain match of another rule. */
static void test_content_match_comes_last(void **state)
{
	char a[] = "/tmp/shk-kpa-XXXXXX", yaml[2048], img[512];
	struct built b;
	struct facts f = { 0 };
	uint64_t id;
	int fd = mkstemp(a);

	assert_true(fd >= 0);
	close(fd);
	memset(img, 'x', sizeof(img));
	write_bytes(a, img, sizeof(img));
	assert_int_equal(shk_kpolicy_image_id(a, &id, -1), 0);
	snprintf(yaml, sizeof(yaml),
		 RULE("Deny A", "evt.type = execve and proc.exepath = %s", "")
		 RULE("Deny B", "evt.type = execve and proc.exepath = /tmp/shk-kp-b", ""), a);
	build(&b, yaml, false);
	/* B's path, with A's size and first bytes: B, for certain */
	f.s[SHK_KF_EXEPATH] = "/tmp/shk-kp-b";
	NUM(f, SHK_KF_EXE_HEAD) = id;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Deny B");
	f.s[SHK_KF_EXEPATH] = "/tmp/shk-kp-c";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Deny A");
	unlink(a);
	unbuild(&b);
}

static void test_argument_patterns(void **state)
{
	struct built b;
	struct facts f = { 0 };
	char yaml[16384];
	size_t len = 0;

	build(&b,
	      RULE("Pool", "evt.type = execve and proc.args contains \"stratum+tcp://\"", "")
	      RULE("Pool too", "evt.type = execve and proc.args contains \"stratum+tcp://\" and "
			       "not proc.args contains \"--dry\"", "")
	      RULE("Donate", "evt.type = execve and proc.cmdline contains \"--donate-level\"", ""),
	      false);
	assert_int_equal(kr(&b, "Pool")->status, SHK_KPS_KERNEL);
	assert_int_equal(kr(&b, "Pool too")->status, SHK_KPS_KERNEL);
	assert_int_equal(kr(&b, "Donate")->status, SHK_KPS_KERNEL);
	/* equal patterns share a slot; cmdline scans argv[0] too */
	assert_int_equal(b.kp->conf.nneedles, 3);
	assert_memory_equal(b.kp->needles[0].s, "stratum+tcp://", 14);
	assert_int_equal(b.kp->needles[0].cmdline, 0);
	assert_int_equal(b.kp->needles[2].cmdline, 1);
	/* a prefix of argv only is scanned: the engine checks these too */
	assert_true(b.kp->recheck[shk_ruleset_find(b.rs, "Pool")->id]);
	NUM(f, SHK_KF_ARG0) = 1;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Pool");
	NUM(f, SHK_KF_ARG0) = 0;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	NUM(f, SHK_KF_ARG0 + 2) = 1;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Donate");
	unbuild(&b);

	/* seventeen distinct patterns: the seventeenth rule falls back */
	for (int i = 0; i < 17; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
					RULE("P%d", "evt.type = execve and proc.args contains pat%d", ""), i, i);
	build(&b, yaml, false);
	assert_int_equal(kr(&b, "P15")->status, SHK_KPS_KERNEL);
	assert_int_equal(kr(&b, "P16")->status, SHK_KPS_FALLBACK);
	assert_non_null(strstr(kr(&b, "P16")->reason, "argument patterns"));
	unbuild(&b);
}

static void test_open_paths(void **state)
{
	struct built b;
	struct facts f = { 0 };

	build(&b,
	      "- macro: open_read\n  condition: (evt.type in (open,openat,openat2) and "
	      "evt.is_open_read=true and fd.typechar='f' and fd.num>=0)\n"
	      RULE("Shadow", "open_read and fd.name = /etc/shadow and not user.uid = 0", "")
	      RULE("Keys", "open_read and fd.directory in (/root/.ssh) and fd.filename startswith id_", ""),
	      false);
	assert_int_equal(kr(&b, "Shadow")->status, SHK_KPS_KERNEL);
	assert_int_equal(kr(&b, "Keys")->status, SHK_KPS_KERNEL);
	f.s[SHK_KF_FD_NAME] = "/etc/shadow";
	NUM(f, SHK_KF_OPEN_READ) = 1;
	NUM(f, SHK_KF_UID) = 1000;
	assert_string_equal(decide(&b, SHK_KP_OPEN, &f, NULL), "Shadow");
	NUM(f, SHK_KF_UID) = 0;
	assert_string_equal(decide(&b, SHK_KP_OPEN, &f, NULL), "");
	NUM(f, SHK_KF_UID) = 1000;
	f.s[SHK_KF_FD_NAME] = "/etc/shadow-";
	assert_string_equal(decide(&b, SHK_KP_OPEN, &f, NULL), "");
	NUM(f, SHK_KF_OPEN_READ) = 0; /* a write-only open is not open_read */
	f.s[SHK_KF_FD_NAME] = "/etc/shadow";
	assert_string_equal(decide(&b, SHK_KP_OPEN, &f, NULL), "");
	NUM(f, SHK_KF_OPEN_READ) = 1;
	f.s[SHK_KF_FD_NAME] = "/root/.ssh/id_rsa";
	f.s[SHK_KF_FD_DIR] = "/root/.ssh";
	f.s[SHK_KF_FD_FILENAME] = "id_rsa";
	assert_string_equal(decide(&b, SHK_KP_OPEN, &f, NULL), "Keys");
	f.s[SHK_KF_FD_FILENAME] = "known_hosts";
	assert_string_equal(decide(&b, SHK_KP_OPEN, &f, NULL), "");
	unbuild(&b);
}

static void test_connect_ports_and_nets(void **state)
{
	struct built b;
	struct facts f = { 0 };

	build(&b,
	      RULE("Pool", "evt.type = connect and fd.rport in (3333, 4444) and not fd.rnet in "
			   "(10.0.0.0/8)", "")
	      RULE("Low", "evt.type = connect and fd.rport < 100 and fd.rip = 192.0.2.7", ""),
	      false);
	assert_int_equal(kr(&b, "Pool")->status, SHK_KPS_KERNEL);
	assert_int_equal(kr(&b, "Low")->status, SHK_KPS_KERNEL);
	NUM(f, SHK_KF_RPORT) = 3333;
	v4(&f, 198, 51, 100, 1);
	assert_string_equal(decide(&b, SHK_KP_CONNECT, &f, NULL), "Pool");
	v4(&f, 10, 1, 2, 3);
	assert_string_equal(decide(&b, SHK_KP_CONNECT, &f, NULL), "");
	v4(&f, 198, 51, 100, 1);
	NUM(f, SHK_KF_RPORT) = 3334;
	assert_string_equal(decide(&b, SHK_KP_CONNECT, &f, NULL), "");
	NUM(f, SHK_KF_RPORT) = 80;
	assert_string_equal(decide(&b, SHK_KP_CONNECT, &f, NULL), "");
	v4(&f, 192, 0, 2, 7);
	assert_string_equal(decide(&b, SHK_KP_CONNECT, &f, NULL), "Low");
	NUM(f, SHK_KF_RPORT) = 100;
	assert_string_equal(decide(&b, SHK_KP_CONNECT, &f, NULL), "");
	unbuild(&b);
}

static void test_reverse_shell_stdin(void **state)
{
	struct built b;
	struct facts f = { 0 };

	build(&b,
	      RULE("Rev", "evt.type = execve and proc.name in (bash, sh) and proc.stdin.type in "
			  "(ipv4, ipv6) and container.id = host", ""),
	      false);
	assert_int_equal(kr(&b, "Rev")->status, SHK_KPS_KERNEL);
	f.s[SHK_KF_PROC_NAME] = "bash";
	NUM(f, SHK_KF_STDIN_TYPE) = SHK_FD_IPV4;
	NUM(f, SHK_KF_CONTAINER) = 0;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Rev");
	NUM(f, SHK_KF_STDIN_TYPE) = SHK_FD_PIPE;
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	NUM(f, SHK_KF_STDIN_TYPE) = SHK_FD_IPV6;
	NUM(f, SHK_KF_CONTAINER) = 1; /* host vs container */
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	unbuild(&b);
}

static void test_audit_mode_and_order(void **state)
{
	struct built b;
	struct facts f = { 0 };
	bool enforce = true;

	build(&b,
	      "- rule: A\n  desc: d\n  condition: evt.type = execve and proc.name = nc\n  output: o\n"
	      "  priority: CRITICAL\n  actions: [deny]\n  mode: audit\n"
	      RULE("E", "evt.type = execve and proc.name startswith n", ""),
	      false);
	assert_int_equal(kr(&b, "A")->status, SHK_KPS_KERNEL);
	assert_int_equal(kr(&b, "E")->status, SHK_KPS_KERNEL);
	f.s[SHK_KF_PROC_NAME] = "nc";
	/* both match: the enforcing clause wins the lowest bit */
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, &enforce), "E");
	assert_true(enforce);
	f.s[SHK_KF_PROC_NAME] = "ls";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	unbuild(&b);
	build(&b,
	      "- rule: A\n  desc: d\n  condition: evt.type = execve and proc.name = nc\n  output: o\n"
	      "  priority: CRITICAL\n  actions: [deny]\n  mode: audit\n",
	      false);
	f.s[SHK_KF_PROC_NAME] = "nc";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, &enforce), "A");
	assert_false(enforce);
	unbuild(&b);
}

static void test_protected_never_denied(void **state)
{
	struct built b;
	struct facts f = { 0 };

	build(&b,
	      "- policy: defaults\n  protect: {proc.name: [sshd]}\n"
	      RULE("Any exec", "evt.type = execve and user.uid = 0", ""),
	      false);
	NUM(f, SHK_KF_UID) = 0;
	f.s[SHK_KF_PROC_NAME] = "bash";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Any exec");
	f.s[SHK_KF_PROC_NAME] = "sshd";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	unbuild(&b);
}

static void expect_fallback(const char *cond, const char *reason)
{
	struct built b;
	const struct shk_kp_rule *r;
	char yaml[1024];

	snprintf(yaml, sizeof(yaml), RULE("R", "%s", ""), cond);
	build(&b, yaml, false);
	r = kr(&b, "R");
	assert_int_equal(r->status, SHK_KPS_FALLBACK);
	if (!strstr(r->reason, reason))
		fail_msg("for '%s': reason '%s', want '%s'", cond, r->reason, reason);
	/* a fallback is a warning naming the rule and where deny was written */
	assert_int_equal(b.diags.nerrors, 0);
	assert_true(b.diags.nwarnings >= 1);
	assert_true(shk_plan_for(b.plan, shk_ruleset_find(b.rs, "R")->id)->v[0].deny_fallback);
	unbuild(&b);
}

static void test_fallback_reasons(void **state)
{
	expect_fallback("proc.name = nc", "does not name the operation");
	expect_fallback("evt.type = rename and proc.name = nc", "rename has no kernel");
	expect_fallback("evt.type = execve and proc.cmdline startswith xmrig", "only 'contains'");
	expect_fallback("evt.type = execve and proc.exe = /bin/nc", "proc.exe is argv[0]");
	expect_fallback("evt.type = execve and fd.name = /etc/shadow", "not known to the kernel at exec");
	expect_fallback("evt.type = execve and proc.name contains nc", "operator contains");
	expect_fallback("evt.type = execve and user.uid > 1000", "range of user.uid");
	expect_fallback("evt.type = execve and not proc.aname = sshd", "negated proc.aname");
}

#define KILL_RULE(name, cond, action)                                                        \
	"- rule: " name "\n  desc: d\n  condition: " cond "\n  output: o\n  priority: CRITICAL\n" \
	"  actions: [" action "]\n  mode: enforce\n"

/* kill: process is carried out in the kernel where the rule fits, with
 * clauses marked kill (SIGKILL in every backend); anything else stays in
 * userspace with no warning, and deny keeps its own meaning. */
static void test_kill_process_in_kernel(void **state)
{
	struct built b;
	struct facts f = { 0 };
	const struct shk_rule_plan *rp;

	build(&b,
	      KILL_RULE("Kill nc", "evt.type = execve and proc.name = nc", "kill")
	      KILL_RULE("Kill tree", "evt.type = execve and proc.name = socat", "{kill: process_tree}")
	      KILL_RULE("Kill vpid", "evt.type = execve and proc.name = ncat and proc.vpid > 1", "kill")
	      KILL_RULE("Deny and kill", "evt.type = execve and proc.name = telnet",
			"deny, {kill: process}"),
	      true);
	/* --strict is about deny: a kill that stays in userspace is no error */
	assert_false(b.strict_failed);
	assert_int_equal(b.diags.nerrors, 0);
	assert_int_equal(b.diags.nwarnings, 0);

	assert_int_equal(kr(&b, "Kill nc")->status, SHK_KPS_KERNEL);
	assert_true(kr(&b, "Kill nc")->kill);
	rp = shk_plan_for(b.plan, shk_ruleset_find(b.rs, "Kill nc")->id);
	assert_true(rp->v[0].in_kernel);
	/* other scopes are not the offending task alone */
	assert_int_equal(kr(&b, "Kill tree")->status, SHK_KPS_NONE);
	assert_false(shk_plan_for(b.plan, shk_ruleset_find(b.rs, "Kill tree")->id)->v[0].in_kernel);
	/* a condition the kernel cannot see: userspace, with the reason */
	assert_int_equal(kr(&b, "Kill vpid")->status, SHK_KPS_NONE);
	assert_non_null(strstr(kr(&b, "Kill vpid")->reason, "proc.vpid"));
	assert_false(shk_plan_for(b.plan, shk_ruleset_find(b.rs, "Kill vpid")->id)->v[0].in_kernel);
	/* with a deny, the kernel's action is the deny */
	assert_int_equal(kr(&b, "Deny and kill")->status, SHK_KPS_KERNEL);
	assert_false(kr(&b, "Deny and kill")->kill);
	assert_int_equal(b.kp->nkill, 1);
	assert_int_equal(b.kp->nkernel, 2);

	/* the clause the kernel picks says kill for the kill rule only */
	f.s[SHK_KF_PROC_NAME] = "nc";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "Kill nc");
	for (uint32_t i = 0; i < b.kp->conf.cls[SHK_KP_EXEC].nclauses; i++) {
		const struct shk_kp_clause *cl = &b.kp->clause[SHK_KP_EXEC][i];
		int64_t id = shk_kpolicy_rule_of(b.kp, cl->rule);

		assert_true(id >= 0);
		assert_int_equal(cl->kill, !strcmp(b.rs->rules[id].name, "Kill nc"));
		assert_true(cl->enforce);
	}
	f.s[SHK_KF_PROC_NAME] = "socat";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	unbuild(&b);
}

static void test_strict_refuses_fallback(void **state)
{
	struct built b;
	char buf[512];

	build(&b, RULE("R", "proc.name = nc", ""), true);
	assert_true(b.strict_failed);
	assert_int_equal(b.diags.nerrors, 1);
	shk_diag_format(&b.diags.v[0], buf, sizeof(buf));
	assert_non_null(strstr(buf, "--strict"));
	assert_non_null(strstr(buf, "k.yaml:6:")); /* where `deny` is written */
	unbuild(&b);
}

static void test_scale_does_not_grow_lookups(void **state)
{
	/* 1000 rules on distinct names: the per-event work is one lookup per
	 * constrained field whatever the number of rules */
	size_t cap = 1000 * 200, len = 0;
	char *yaml = malloc(cap);
	struct built b;
	struct facts f = { 0 };
	char name[32];

	assert_non_null(yaml);
	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(yaml + len, cap - len,
					RULE("R%d", "evt.type = execve and proc.name = m%d", ""), i, i);
	build(&b, yaml, false);
	free(yaml);
	assert_int_equal(b.kp->nkernel, 1000);
	assert_int_equal(b.kp->conf.cls[SHK_KP_EXEC].nclauses, 1000);
	assert_int_equal(b.kp->conf.cls[SHK_KP_EXEC].fields, 1ull << SHK_KF_PROC_NAME);
	f.s[SHK_KF_PROC_NAME] = "m777";
	snprintf(name, sizeof(name), "R%d", 777);
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), name);
	f.s[SHK_KF_PROC_NAME] = "m1000";
	assert_string_equal(decide(&b, SHK_KP_EXEC, &f, NULL), "");
	unbuild(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_names_and_paths),
		cmocka_unit_test(test_hard_link_matches_by_inode),
		cmocka_unit_test(test_copy_matches_by_content),
		cmocka_unit_test(test_content_match_comes_last),
		cmocka_unit_test(test_argument_patterns),
		cmocka_unit_test(test_open_paths),
		cmocka_unit_test(test_connect_ports_and_nets),
		cmocka_unit_test(test_reverse_shell_stdin),
		cmocka_unit_test(test_audit_mode_and_order),
		cmocka_unit_test(test_protected_never_denied),
		cmocka_unit_test(test_fallback_reasons),
		cmocka_unit_test(test_strict_refuses_fallback),
		cmocka_unit_test(test_kill_process_in_kernel),
		cmocka_unit_test(test_scale_does_not_grow_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
