// SPDX-License-Identifier: Apache-2.0
/*
 * Output: Falco's format strings (%field, %(field), %field[arg], <NA>),
 * suggested container fields, the alert line and the alert JSON in Falco's
 * schema with shrike's response hook.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "decode.h"
#include "output.h"
#include "proctable.h"
#include "syscalls.h"
#include "testlib.h"
#include "users.h"

/* ---- hand-built records ----------------------------------------------- */

#define HOST_MNTNS 4026531840u
#define TS 5000000000000ull /* boot time of the events, ns */
#define BOOT_TO_REAL 1700000000000000000ll

struct rb {
	uint8_t b[SHK_EVENT_MAX];
	size_t pos;
};

static void rb_str(struct rb *r, struct shk_str *slot, const void *s, size_t len)
{
	slot->off = (uint16_t)r->pos;
	slot->len = (uint16_t)len;
	memcpy(r->b + r->pos, s, len);
	r->b[r->pos + len] = '\0';
	r->pos += len + 1;
}

static void task_init(struct shk_task *t, uint32_t pid, uint32_t ppid, const char *comm)
{
	memset(t, 0, sizeof(*t));
	t->ppid = ppid;
	t->vpid = t->vtid = pid;
	t->uid = t->gid = t->euid = t->egid = 1000;
	t->loginuid = 1000;
	t->tty = 34816;
	t->mntns = HOST_MNTNS;
	t->start_ns = (uint64_t)pid * 1000;
	memcpy(t->comm, comm, strnlen(comm, SHK_COMM_LEN));
}

static void decode(struct rb *r, struct shk_event *ev)
{
	((struct shk_hdr *)r->b)->size = (uint32_t)r->pos;
	assert_int_equal(shk_decode(r->b, r->pos, ev), 0);
}

/* argv as the kernel copies it: NUL after every argument */
static size_t argv_bytes(char *out, const char *const *argv)
{
	size_t n = 0;

	for (; *argv; argv++) {
		strcpy(out + n, *argv);
		n += strlen(*argv) + 1;
	}
	return n;
}

static struct shk_exec *exec_rec(struct rb *r, uint32_t pid, uint32_t ppid, const char *comm,
				 const char *exe, const char *const *argv, const char *cwd,
				 uint32_t flags)
{
	struct shk_exec *e = (struct shk_exec *)r->b;
	char args[1024];
	static const char env[] = "HOME=/home/alice\0PATH=/usr/bin\0";

	memset(r->b, 0, sizeof(*e));
	r->pos = sizeof(*e);
	e->hdr.type = SHK_EV_EXEC;
	e->hdr.abi = SHK_ABI_VERSION;
	e->hdr.pid = e->hdr.tid = pid;
	e->hdr.ts_ns = TS;
	task_init(&e->task, pid, ppid, comm);
	e->exe_flags = flags;
	e->exe_ino = 1234;
	e->std_type[0] = e->std_type[1] = e->std_type[2] = SHK_FD_CHAR;
	rb_str(r, &e->str[SHK_EXEC_EXE], exe, strlen(exe));
	rb_str(r, &e->str[SHK_EXEC_FILENAME], exe, strlen(exe));
	rb_str(r, &e->str[SHK_EXEC_ARGS], args, argv_bytes(args, argv));
	rb_str(r, &e->str[SHK_EXEC_ENV], env, sizeof(env) - 1);
	rb_str(r, &e->str[SHK_EXEC_CWD], cwd, strlen(cwd));
	return e;
}

static struct shk_syscall *sys_rec(struct rb *r, const char *name, uint32_t pid, uint32_t ppid,
				   const char *comm, int64_t ret)
{
	struct shk_syscall *s = (struct shk_syscall *)r->b;
	const struct shk_sys_desc *d = shk_syscall_by_name(name);

	assert_non_null(d);
	memset(r->b, 0, sizeof(*s));
	r->pos = sizeof(*s);
	s->hdr.type = SHK_EV_SYSCALL;
	s->hdr.abi = SHK_ABI_VERSION;
	s->hdr.pid = s->hdr.tid = pid;
	s->hdr.ts_ns = TS;
	s->nr = (uint32_t)shk_syscall_nr(name);
	s->kind = d->kind;
	s->ret = ret;
	s->fd[0].fd = s->fd[1].fd = -1;
	task_init(&s->task, pid, ppid, comm);
	return s;
}

/* ---- fixture: systemd(1) > sshd(500) > bash(600) > the event's process */

static struct rb rb;
static struct shk_event ev;
static struct shk_proctable *pt;
static struct shk_users *users;
static struct shk_evalctx ctx;
static char host_root[4096];

static void add_proc(uint32_t pid, uint32_t ppid, const char *comm, const char *exe,
		     const char *const *argv)
{
	struct rb *r = malloc(sizeof(*r));
	struct shk_event *e = malloc(sizeof(*e));

	exec_rec(r, pid, ppid, comm, exe, argv, "/", 0);
	decode(r, e);
	assert_int_equal(shk_proctable_apply(pt, e), 0);
	free(r);
	free(e);
}

static int setup(void **state)
{
	snprintf(host_root, sizeof(host_root), "%s/root1", test_env("SHRIKE_TEST_DATA"));
	pt = shk_proctable_new(64);
	users = shk_users_new(64, 0);
	assert_non_null(pt);
	assert_non_null(users);
	add_proc(1, 0, "systemd", "/usr/lib/systemd/systemd", (const char *const[]){ "/sbin/init", NULL });
	add_proc(500, 1, "sshd", "/usr/sbin/sshd", (const char *const[]){ "sshd:", "alice", NULL });
	add_proc(600, 500, "bash", "/usr/bin/bash", (const char *const[]){ "-bash", NULL });
	assert_int_equal(shk_evalctx_init(&ctx), 0);
	ctx.procs = pt;
	ctx.users = users;
	ctx.hostname = "testhost";
	ctx.proc_root = "/nonexistent";
	ctx.host_root = host_root;
	ctx.host_mntns = HOST_MNTNS;
	ctx.boot_to_real_ns = BOOT_TO_REAL;
	return 0;
}

static int teardown(void **state)
{
	shk_evalctx_fini(&ctx);
	shk_proctable_free(pt);
	shk_users_free(users);
	return 0;
}

/* The event of the test: cat (700, child of bash) opening /etc/shadow. */
static void ev_open_shadow(void)
{
	struct shk_syscall *s = sys_rec(&rb, "openat", 700, 600, "cat", 3);

	s->args[0] = (uint64_t)AT_FDCWD;
	s->args[2] = O_RDONLY | O_CLOEXEC;
	s->fd[SHK_FD_RES].fd = 3;
	s->fd[SHK_FD_RES].type = SHK_FD_FILE;
	rb_str(&rb, &s->str[SHK_SYS_PATH], "/etc/shadow", 11);
	rb_str(&rb, &s->str[SHK_SYS_RAW], "shadow", 6);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
}



/* ---- formats ------------------------------------------------------------ */

static struct shk_strbuf sb;

static const char *fmt(const char *format, bool suggested)
{
	struct shk_output *o = shk_output_compile(format, suggested);

	assert_non_null(o);
	shk_strbuf_reset(&sb);
	shk_output_format(o, &ctx, &sb);
	shk_output_free(o);
	return sb.buf ? sb.buf : "";
}

static void test_format_fields(void **state)
{
	ev_open_shadow();
	assert_string_equal(fmt("%proc.name read %fd.name", false), "cat read /etc/shadow");
	assert_string_equal(fmt("gp=%proc.aname[2] x=%proc.aname[9] f=%evt.arg.flags", false),
			    "gp=sshd x=<NA> f=O_RDONLY|O_CLOEXEC");
	assert_string_equal(fmt("%(proc.name)%(fd.num)", false), "cat3");
	assert_string_equal(fmt("file %fd.name.", false), "file /etc/shadow.");
	assert_string_equal(fmt("u=%user.uid(%user.name) l=%user.loginuid", false),
			    "u=1000(alice) l=1000");
	assert_string_equal(fmt("ancestors=%proc.aname env=%proc.env[HOME]", false),
			    "ancestors=(bash,sshd,systemd) env=<NA>");
	assert_string_equal(fmt("100% sure, %nosuch.field and %", false),
			    "100% sure, %nosuch.field and %");
	assert_string_equal(fmt("%(nosuch) %(proc.name", false), "%(nosuch) %(proc.name");
	assert_string_equal(fmt("  trimmed %evt.type\n", false), "trimmed openat");
	assert_string_equal(fmt("", false), "");
	assert_string_equal(fmt(NULL, false), "");
}

static void test_unknown_count(void **state)
{
	struct shk_output *o = shk_output_compile("%proc.name %nope %(bad) 50%", false);

	assert_int_equal(shk_output_unknown(o), 2);
	shk_output_free(o);
	shk_output_free(NULL);
}

static void test_suggested_fields(void **state)
{
	ev_open_shadow();
	assert_string_equal(fmt("x=%proc.name", true),
			    "x=cat container_id=host container_name=host");
	assert_string_equal(fmt("x=%container.id", true), "x=host container_name=host");
	assert_string_equal(fmt("%container.name %container.id", true), "host host");
	assert_string_equal(fmt("x\n", true), "x container_id=host container_name=host");
}

/* ---- alerts ------------------------------------------------------------- */

#define RULE_YAML                                                                           \
	"- rule: Shadow read\n"                                                             \
	"  desc: d\n"                                                                       \
	"  condition: fd.name = /etc/shadow\n"                                              \
	"  output: >\n"                                                                     \
	"    Sensitive file opened | file=%fd.name gparent=%proc.aname[2]\n"                \
	"    gggparent=%proc.aname[4] user=%user.name uid=%user.uid\n"                      \
	"    read=%evt.is_open_read\n"                                                     \
	"  priority: WARNING\n"                                                             \
	"  tags: [filesystem, T1555]\n"                                                      \
	"- rule: Second\n"                                                                  \
	"  desc: d\n"                                                                       \
	"  condition: evt.type = openat\n"                                                  \
	"  output: second %evt.type\n"                                                      \
	"  priority: INFO\n"

static struct shk_ruleset *compile_rules(void)
{
	struct shk_loader *ld = shk_loader_new();
	struct shk_ruleset *rs;

	assert_non_null(ld);
	assert_int_equal(shk_loader_load_buffer(ld, "t.yaml", RULE_YAML, strlen(RULE_YAML)), 0);
	rs = shk_ruleset_compile(ld);
	assert_non_null(rs);
	assert_int_equal(rs->nrules, 2);
	return rs;
}

static void test_alert_line(void **state)
{
	struct shk_ruleset *rs = compile_rules();
	struct shk_outputs *outs = shk_outputs_new(rs, true);
	struct shk_strbuf line = { 0 };

	assert_non_null(outs);
	assert_non_null(shk_outputs_get(outs, 1));
	assert_null(shk_outputs_get(outs, 2));
	ev_open_shadow();
	shk_alert_line(&line, &rs->rules[0], shk_outputs_get(outs, 0), &ctx);
	assert_string_equal(line.buf,
			    "23:36:40.000000000: Warning Sensitive file opened | file=/etc/shadow "
			    "gparent=sshd gggparent=<NA> user=alice uid=1000 read=true "
			    "container_id=host container_name=host");
	shk_alert_line(&line, &rs->rules[1], shk_outputs_get(outs, 1), &ctx);
	assert_string_equal(line.buf, "23:36:40.000000000: Informational second openat "
				      "container_id=host container_name=host");
	shk_strbuf_free(&line);
	shk_outputs_free(outs);
	shk_outputs_free(NULL);
	shk_ruleset_free(rs);
}

static void response_hook(struct jw *w, const struct shk_rule *rule, struct shk_evalctx *c,
			  void *data)
{
	(*(int *)data)++;
	jw_key(w, "response");
	jw_arr_begin(w);
	jw_obj_begin(w);
	jw_kstr(w, "action", "kill");
	jw_obj_end(w);
	jw_arr_end(w);
}

static void test_alert_json(void **state)
{
	struct shk_ruleset *rs = compile_rules();
	struct shk_outputs *outs = shk_outputs_new(rs, true);
	struct shk_strbuf line = { 0 };
	struct shk_alert_hook hook;
	struct jw w;
	cJSON *j, *f, *x;
	int calls = 0;
	const char *keys[] = { "\"hostname\"", "\"output\"", "\"output_fields\"", "\"priority\"",
			       "\"response\"", "\"rule\"", "\"source\"", "\"tags\"", "\"time\"" };
	const char *prev;

	ev_open_shadow();
	jw_init(&w);
	hook.fn = response_hook;
	hook.data = &calls;
	assert_int_equal(shk_alert_json(&w, &line, &rs->rules[0], shk_outputs_get(outs, 0), &ctx,
					&hook), 0);
	assert_int_equal(calls, 1);
	jw_cstr(&w); /* the writer terminates on demand */
	j = cJSON_Parse(w.buf);
	if (!j)
		fail_msg("invalid JSON: %s", w.buf);

	/* Falco's keys, in Falco's (alphabetical) order */
	prev = w.buf;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *at = strstr(w.buf, keys[i]);

		if (!at || at < prev)
			fail_msg("key %s missing or out of order in %s", keys[i], w.buf);
		prev = at;
	}
	assert_string_equal(cJSON_GetObjectItem(j, "hostname")->valuestring, "testhost");
	assert_string_equal(cJSON_GetObjectItem(j, "output")->valuestring, line.buf);
	assert_string_equal(cJSON_GetObjectItem(j, "priority")->valuestring, "Warning");
	assert_string_equal(cJSON_GetObjectItem(j, "rule")->valuestring, "Shadow read");
	assert_string_equal(cJSON_GetObjectItem(j, "source")->valuestring, "syscall");
	assert_string_equal(cJSON_GetObjectItem(j, "time")->valuestring,
			    "2023-11-14T23:36:40.000000000Z");
	x = cJSON_GetObjectItem(j, "tags");
	assert_int_equal(cJSON_GetArraySize(x), 2);
	/* a set, as in Falco */
	assert_string_equal(cJSON_GetArrayItem(x, 0)->valuestring, "T1555");
	assert_string_equal(cJSON_GetArrayItem(x, 1)->valuestring, "filesystem");
	x = cJSON_GetObjectItem(j, "response");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(x, 0), "action")->valuestring,
			    "kill");

	f = cJSON_GetObjectItem(j, "output_fields");
	assert_non_null(f);
	assert_int_equal(cJSON_GetArraySize(f), 9);
	assert_string_equal(cJSON_GetObjectItem(f, "fd.name")->valuestring, "/etc/shadow");
	assert_string_equal(cJSON_GetObjectItem(f, "proc.aname[2]")->valuestring, "sshd");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(f, "proc.aname[4]")));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "user.uid")));
	assert_int_equal(cJSON_GetObjectItem(f, "user.uid")->valuedouble, 1000);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f, "evt.is_open_read")));
	assert_string_equal(cJSON_GetObjectItem(f, "container.id")->valuestring, "host");
	assert_string_equal(cJSON_GetObjectItem(f, "container.name")->valuestring, "host");
	/* evt.time as Falco's JSON has it: epoch nanoseconds */
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "evt.time")));
	assert_true(strstr(w.buf, "\"evt.time\":1700005000000000000") != NULL);
	/* fields sorted by name */
	assert_true(strstr(w.buf, "\"container.id\"") < strstr(w.buf, "\"evt.is_open_read\""));
	assert_true(strstr(w.buf, "\"proc.aname[4]\"") < strstr(w.buf, "\"user.name\""));
	cJSON_Delete(j);

	/* no hook: no response member */
	jw_reset(&w);
	assert_int_equal(shk_alert_json(&w, &line, &rs->rules[1], shk_outputs_get(outs, 1), &ctx,
					NULL), 0);
	j = cJSON_Parse(jw_cstr(&w));
	assert_non_null(j);
	assert_null(cJSON_GetObjectItem(j, "response"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "tags")), 0);
	assert_string_equal(cJSON_GetObjectItem(j, "priority")->valuestring, "Informational");
	cJSON_Delete(j);

	jw_free(&w);
	shk_strbuf_free(&line);
	shk_outputs_free(outs);
	shk_ruleset_free(rs);
}

/* Values that need escaping stay valid JSON. */
static void test_alert_json_escaping(void **state)
{
	struct shk_output *o = shk_output_compile("cmd=%proc.cmdline", false);
	struct shk_rule r = { .name = "r\"1", .priority = SHK_PRIO_CRITICAL };
	struct shk_strbuf line = { 0 };
	struct jw w;
	cJSON *j;

	exec_rec(&rb, 700, 600, "sh", "/bin/sh",
		 (const char *const[]){ "sh", "-c", "echo \"x\"\t\\ \x01", NULL }, "/", 0);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	jw_init(&w);
	assert_int_equal(shk_alert_json(&w, &line, &r, o, &ctx, NULL), 0);
	j = cJSON_Parse(jw_cstr(&w));
	if (!j)
		fail_msg("invalid JSON: %s", w.buf);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "output_fields"),
						"proc.cmdline")->valuestring,
			    "sh -c echo \"x\"\t\\ \x01");
	assert_string_equal(cJSON_GetObjectItem(j, "rule")->valuestring, "r\"1");
	assert_string_equal(cJSON_GetObjectItem(j, "priority")->valuestring, "Critical");
	cJSON_Delete(j);
	jw_free(&w);
	shk_strbuf_free(&line);
	shk_output_free(o);
}

static void test_priority_names(void **state)
{
	assert_string_equal(shk_priority_alert_name(SHK_PRIO_EMERGENCY), "Emergency");
	assert_string_equal(shk_priority_alert_name(SHK_PRIO_ALERT), "Alert");
	assert_string_equal(shk_priority_alert_name(SHK_PRIO_ERROR), "Error");
	assert_string_equal(shk_priority_alert_name(SHK_PRIO_NOTICE), "Notice");
	assert_string_equal(shk_priority_alert_name(SHK_PRIO_DEBUG), "Debug");
	assert_string_equal(shk_priority_alert_name((enum shk_priority)99), "Unknown");
}

/* The upstream rule's output renders with every field resolved. */
static void test_upstream_output(void **state)
{
	const char *dir = getenv("SHRIKE_FALCO_RULES");
	char path[4096];
	struct shk_loader *ld;
	struct shk_ruleset *rs;
	const struct shk_rule *r;
	struct shk_output *o;

	if (!dir || !*dir) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/falco_rules.yaml", dir);
	ld = shk_loader_new();
	if (shk_loader_load_file(ld, path) == -ENOENT) {
		shk_loader_free(ld);
		skip();
		return;
	}
	rs = shk_ruleset_compile(ld);
	assert_non_null(rs);
	r = shk_ruleset_find(rs, "Read sensitive file untrusted");
	assert_non_null(r);
	o = shk_output_compile(r->output, true);
	assert_int_equal(shk_output_unknown(o), 0);
	add_proc(700, 600, "cat", "/usr/bin/cat", (const char *const[]){ "cat", "/etc/shadow", NULL });
	ev_open_shadow();
	shk_strbuf_reset(&sb);
	shk_output_format(o, &ctx, &sb);
	assert_string_equal(sb.buf,
			    "Sensitive file opened for reading by non-trusted program | "
			    "file=/etc/shadow gparent=sshd ggparent=systemd gggparent=<NA> "
			    "evt_type=openat user=alice user_uid=1000 user_loginuid=1000 "
			    "process=cat proc_exepath=/usr/bin/cat parent=bash "
			    "command=cat /etc/shadow terminal=34816 "
			    "container_id=host container_name=host");
	shk_output_free(o);
	shk_ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_fields),
		cmocka_unit_test(test_unknown_count),
		cmocka_unit_test(test_suggested_fields),
		cmocka_unit_test(test_alert_line),
		cmocka_unit_test(test_alert_json),
		cmocka_unit_test(test_alert_json_escaping),
		cmocka_unit_test(test_priority_names),
		cmocka_unit_test(test_upstream_output),
	};
	int failed = cmocka_run_group_tests(tests, setup, teardown);

	shk_strbuf_free(&sb);
	return failed;
}
