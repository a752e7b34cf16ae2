// SPDX-License-Identifier: Apache-2.0
/*
 * The config file: a full file with drop-ins merged in name order, -o
 * overrides with dotted keys, and bad files whose every error is located.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <cmocka.h>

#include "config.h"
#include "testlib.h"

static char path[1024];

static const char *data(const char *rel)
{
	snprintf(path, sizeof(path), "%s/config/%s", test_env("SHRIKE_TEST_DATA"), rel);
	return path;
}

static void dump(const struct shk_conf *c)
{
	char buf[1024];

	for (size_t i = 0; i < c->diags->n; i++) {
		shk_diag_format(&c->diags->v[i], buf, sizeof(buf));
		fprintf(stderr, "  %s\n", buf);
	}
}

/* The diagnostic whose text contains needle, located at line:col. */
static void expect(const struct shk_conf *c, const char *needle, unsigned line, unsigned col)
{
	const struct shk_diag *d = shk_diags_find(c->diags, needle);

	if (!d) {
		dump(c);
		fail_msg("no diagnostic containing '%s'", needle);
	}
	assert_int_equal(d->level, SHK_DIAG_ERROR);
	if (d->line != line || d->col != col) {
		dump(c);
		fail_msg("'%s' at %u:%u, expected %u:%u", needle, d->line, d->col, line, col);
	}
}

static void test_good_with_dropins(void **state)
{
	struct shk_conf *c = shk_config_new();
	const struct shk_sink_opts *o;

	assert_non_null(c);
	if (shk_config_load(c, data("good/shrike.yaml"), true)) {
		dump(c);
		fail();
	}
	assert_int_equal(c->diags->nerrors, 0);
	assert_int_equal(c->npolicies, 2);
	assert_string_equal(c->policies[1], "/opt/extra-rules.yaml");
	assert_int_equal(c->mode, SHK_MODE_AUDIT); /* 20-override.yaml wins */
	assert_int_equal(c->enforcer, SHK_ENFORCER_SIGNAL);
	assert_int_equal(c->nprotect, 3); /* lists append across files */
	assert_string_equal(c->protect[2], "containerd");
	assert_int_equal(c->rule_matching, 1);
	assert_int_equal(c->min_priority, SHK_PRIO_NOTICE);
	assert_int_equal(c->json_output, 1);
	assert_int_equal(c->ringbuf_mb, 64);
	assert_string_equal(c->state_dir, "/var/lib/shrike-test");
	assert_string_equal(c->control_socket, "/run/shrike-test/control.sock");
	assert_int_equal(c->log_level, SHK_LOG_DEBUG);
	assert_true(c->metrics_enabled);
	assert_string_equal(c->metrics_addr, "127.0.0.1:9100");

	assert_int_equal(c->noutputs, 4);
	assert_int_equal(c->outputs[0].kind, SHK_SINK_STDOUT);
	assert_false(c->outputs[0].json);
	o = &c->outputs[1];
	assert_int_equal(o->kind, SHK_SINK_FILE);
	assert_string_equal(o->path, "/var/log/shrike/alerts.jsonl");
	assert_false(o->keep_alive);
	assert_int_equal(o->min_priority, SHK_PRIO_WARNING);
	o = &c->outputs[2];
	assert_int_equal(o->kind, SHK_SINK_HTTP);
	assert_string_equal(o->name, "sidekick");
	assert_string_equal(o->url, "https://falcosidekick.local:2801/");
	assert_int_equal(o->nheaders, 2);
	assert_string_equal(o->headers[0], "Authorization: Bearer s3cret");
	assert_string_equal(o->headers[1], "X-Cluster: prod-1");
	assert_string_equal(o->client_key, "/etc/shrike/client.key");
	assert_true(o->gzip);
	assert_int_equal(o->timeout_ms, 3000);
	assert_int_equal(o->queue_len, 100);
	assert_int_equal(o->retries, 5);
	assert_int_equal(o->backoff_ms, 200); /* a default left alone */
	o = &c->outputs[3];
	assert_int_equal(o->kind, SHK_SINK_SYSLOG);
	assert_int_equal(o->facility, LOG_LOCAL3);
	assert_int_equal(o->min_priority, SHK_PRIO_ERROR);
	shk_config_free(c);
}

static void test_missing_file(void **state)
{
	struct shk_conf *c = shk_config_new();

	/* the default path is optional, --config's is not */
	assert_int_equal(shk_config_load(c, data("nope/shrike.yaml"), false), 0);
	assert_int_equal(c->diags->nerrors, 0);
	assert_int_equal(c->noutputs, 0);
	assert_int_equal(shk_config_load(c, data("nope/shrike.yaml"), true), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "nope/shrike.yaml: error: cannot read the config: No such file"));
	shk_config_free(c);
}

static void test_overrides(void **state)
{
	struct shk_conf *c = shk_config_new();

	assert_int_equal(shk_config_set(c, "metrics.address=127.0.0.1:9999"), 0);
	assert_string_equal(c->metrics_addr, "127.0.0.1:9999");
	assert_int_equal(shk_config_set(c, "metrics.enabled=false"), 0);
	assert_false(c->metrics_enabled);
	assert_int_equal(shk_config_set(c, "json_output=TRUE"), 0);
	assert_int_equal(c->json_output, 1);
	assert_int_equal(shk_config_set(c, "priority=warning"), 0);
	assert_int_equal(c->min_priority, SHK_PRIO_WARNING);
	assert_int_equal(shk_config_set(c, "rule_matching=all"), 0);
	assert_int_equal(c->rule_matching, 1);
	assert_int_equal(shk_config_set(c, "protect=[a, b]"), 0);
	assert_int_equal(c->nprotect, 2);
	assert_int_equal(c->nice, -10); /* the default */
	assert_int_equal(shk_config_set(c, "nice=0"), 0);
	assert_int_equal(c->nice, 0);
	assert_int_equal(shk_config_set(c, "nice=-20"), 0);
	assert_int_equal(c->nice, -20);
	assert_int_equal(c->diags->nerrors, 0);

	assert_int_equal(shk_config_set(c, "nice=-21"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "-o nice:1:7: error: nice: '-21' is not a number "
						 "in [-20, 19]"));
	assert_int_equal(shk_config_set(c, "nice=high"), -EINVAL);
	assert_int_equal(c->nice, -20); /* unchanged by the bad ones */

	assert_int_equal(c->realtime_priority, 1); /* the default */
	assert_int_equal(shk_config_set(c, "realtime_priority=0"), 0);
	assert_int_equal(c->realtime_priority, 0);
	assert_int_equal(shk_config_set(c, "realtime_priority=99"), 0);
	assert_int_equal(shk_config_set(c, "realtime_priority=100"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "-o realtime_priority:1:20: error: "
						 "realtime_priority: '100' is not a number in [0, 99]"));
	assert_int_equal(shk_config_set(c, "realtime_priority=-1"), -EINVAL);
	assert_int_equal(c->realtime_priority, 99);

	assert_true(c->mount_tracefs); /* the default */
	assert_int_equal(shk_config_set(c, "mount_tracefs=false"), 0);
	assert_false(c->mount_tracefs);
	assert_int_equal(shk_config_set(c, "mount_tracefs=sometimes"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "mount_tracefs: 'sometimes' is not a boolean"));
	assert_false(c->mount_tracefs);

	assert_int_equal(shk_config_set(c, "rule_matching=some"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "-o rule_matching:1:16: error: rule_matching: "
						 "'some' is not one of first, all"));
	assert_int_equal(shk_config_set(c, "metrics.port=1"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "unknown key 'metrics.port'"));
	assert_int_equal(shk_config_set(c, "nonsense"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "'nonsense': expected KEY=VALUE"));
	assert_int_equal(shk_config_set(c, "colour=blue"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "-o colour:1:1: error: unknown key 'colour'"));
	shk_config_free(c);
}

static void test_bad_unknown_keys(void **state)
{
	struct shk_conf *c = shk_config_new();

	assert_int_equal(shk_config_load(c, data("bad/unknown.yaml"), true), -EINVAL);
	expect(c, "unknown.yaml:2:1: error: unknown key 'outptus'", 2, 1);
	expect(c, "unknown key 'metrics.adress'", 6, 3);
	assert_int_equal(c->diags->nerrors, 2);
	shk_config_free(c);
}

static void test_bad_values(void **state)
{
	struct shk_conf *c = shk_config_new();

	assert_int_equal(shk_config_load(c, data("bad/values.yaml"), true), -EINVAL);
	expect(c, "mode: 'sometimes' is not one of audit, enforce", 1, 7);
	expect(c, "ringbuf_mb: '0' is not a number in [1, 4096]", 2, 13);
	expect(c, "json_output: 'maybe' is not a boolean", 3, 14);
	expect(c, "priority: 'loud' is not a priority", 4, 11);
	expect(c, "enforcer: 'magic' is not one of auto, lsm, signal", 5, 11);
	expect(c, "metrics.address: '0.0.0.0' is not HOST:PORT", 6, 20);
	assert_int_equal(c->diags->nerrors, 6);
	shk_config_free(c);
}

static void test_bad_outputs(void **state)
{
	struct shk_conf *c = shk_config_new();

	assert_int_equal(shk_config_load(c, data("bad/outputs.yaml"), true), -EINVAL);
	expect(c, "a file output needs a path", 2, 5);
	expect(c, "type: 'carrier-pigeon' is not one of stdout, file", 3, 11);
	expect(c, "url: 'ftp://example.com/' is not an http:// or https:// URL", 5, 10);
	expect(c, "unknown key 'path' for a http output", 6, 5);
	expect(c, "facility: 'nowhere' is not a syslog facility", 8, 15);
	expect(c, "outputs: each output is a mapping with a type", 9, 5);
	assert_int_equal(c->noutputs, 0);
	shk_config_free(c);
}

static void test_k8s(void **state)
{
	struct shk_conf *c = shk_config_new();

	/* off by default, with the client's defaults */
	assert_false(c->k8s_enabled);
	assert_null(c->k8s.kubeconfig);
	assert_int_equal(c->k8s.timeout_ms, 0);
	assert_int_equal(shk_config_load(c, data("k8s/shrike.yaml"), true), 0);
	assert_true(c->k8s_enabled);
	assert_string_equal(c->k8s.kubeconfig, "/etc/shrike/kubeconfig");
	assert_string_equal(c->k8s.api_server, "http://127.0.0.1:8001");
	assert_string_equal(c->k8s.label_key, "example.com/quarantined");
	assert_int_equal(c->k8s.timeout_ms, 1500);
	assert_int_equal(c->k8s.label_ttl_s, 60);
	assert_int_equal(shk_config_set(c, "k8s.enabled=false"), 0);
	assert_false(c->k8s_enabled);
	assert_int_equal(shk_config_set(c, "k8s.label_key=quarantine"), 0);
	assert_string_equal(c->k8s.label_key, "quarantine");
	/* pod removal after a quarantine: off by default, evict or delete */
	assert_int_equal(c->k8s_evict_after_s, 0);
	assert_false(c->k8s_evict_delete);
	assert_int_equal(shk_config_set(c, "k8s.evict_after_s=300"), 0);
	assert_int_equal(c->k8s_evict_after_s, 300);
	assert_int_equal(shk_config_set(c, "k8s.evict=delete"), 0);
	assert_true(c->k8s_evict_delete);
	assert_int_equal(c->diags->nerrors, 0);
	assert_int_equal(shk_config_set(c, "k8s.evict=kill"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "k8s.evict: 'kill' is not one of evict, delete"));
	assert_int_equal(shk_config_set(c, "k8s.evict_after_s=-1"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "k8s.evict_after_s: '-1' is not a number in "
						 "[0, 604800]"));
	assert_true(c->k8s_evict_delete); /* unchanged by the bad ones */
	assert_int_equal(c->k8s_evict_after_s, 300);
	assert_int_equal(shk_config_set(c, "k8s=true"), -EINVAL);
	assert_non_null(shk_diags_find(c->diags, "k8s: expected a mapping"));
	shk_config_free(c);
}

static void test_bad_k8s(void **state)
{
	struct shk_conf *c = shk_config_new();

	assert_int_equal(shk_config_load(c, data("bad/k8s.yaml"), true), -EINVAL);
	expect(c, "k8s.enabled: 'sometimes' is not a boolean", 2, 12);
	expect(c, "k8s.api_server: 'ftp://api' is not an http(s):// URL", 3, 15);
	expect(c, "k8s.label_key: 'Bad_Prefix/quarantine' is not a Kubernetes label key", 4, 14);
	expect(c, "k8s.timeout_ms: '5' is not a number in [100, 60000]", 5, 15);
	expect(c, "k8s.label_ttl_s: '0' is not a number in [1, 86400]", 6, 16);
	expect(c, "k8s.kubeconfig: empty path", 7, 15);
	expect(c, "unknown key 'k8s.namespace'", 8, 3);
	assert_int_equal(c->diags->nerrors, 7);
	shk_config_free(c);
}

/* deploy/configmap.yaml's shrike.yaml (the block under "shrike.yaml: |",
 * indented 4) is a valid config with the API client on. */
static void test_deploy_configmap(void **state)
{
	struct shk_conf *c = shk_config_new();
	char p[1024], *text, *at, *out, *o;

	snprintf(p, sizeof(p), "%s/deploy/configmap.yaml", test_env("SHRIKE_SOURCE"));
	text = test_read_file(p, NULL);
	assert_non_null(text);
	at = strstr(text, "  shrike.yaml: |\n");
	assert_non_null(at);
	at = strchr(at, '\n') + 1;
	out = o = calloc(1, strlen(at) + 1);
	assert_non_null(out);
	while (*at && (!strncmp(at, "    ", 4) || *at == '\n')) {
		char *nl = strchr(at, '\n');
		size_t skip = *at == '\n' ? 0 : 4, n = nl ? (size_t)(nl - at) + 1 : strlen(at);

		memcpy(o, at + skip, n - skip);
		o += n - skip;
		at += n;
	}
	if (shk_config_load_buffer(c, "configmap.yaml", out, strlen(out)))
		dump(c);
	assert_int_equal(c->diags->nerrors, 0);
	assert_true(c->k8s_enabled);
	assert_string_equal(c->k8s.label_key, "shrike.io/quarantine");
	assert_string_equal(c->metrics_addr, "127.0.0.1:8765");
	free(out);
	free(text);
	shk_config_free(c);
}

static void test_bad_syntax(void **state)
{
	struct shk_conf *c = shk_config_new();
	const struct shk_diag *d;

	assert_int_equal(shk_config_load(c, data("bad/syntax.yaml"), true), -EINVAL);
	assert_int_equal(c->diags->nerrors, 1);
	d = &c->diags->v[0];
	assert_non_null(strstr(d->file, "syntax.yaml"));
	assert_true(d->line >= 2);
	shk_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_with_dropins),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_bad_unknown_keys),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_outputs),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_k8s),
		cmocka_unit_test(test_bad_k8s),
		cmocka_unit_test(test_deploy_configmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
