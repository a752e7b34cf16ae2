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

#include "evfixture.h"


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
