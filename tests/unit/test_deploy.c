/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes manifests in deploy/: every .yaml parses (libyaml,
 * every document), every document is an object with apiVersion, kind and
 * metadata.name; RBAC grants what the API client uses; the DaemonSet has
 * the host access, mounts and probes it needs; the policies ConfigMap is
 * what rules/ and policies/ hold (deploy/gen-policies.sh).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yaml.h>

#include "testlib.h"

#define MAX_DOCS 32

static yaml_document_t docs[MAX_DOCS];
static int ndocs;

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *str(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* a.b.c under n, "" when absent */
static const char *path(yaml_document_t *d, yaml_node_t *n, const char *dotted)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", dotted);
	for (char *k = strtok_r(buf, ".", &save); k && n; k = strtok_r(NULL, ".", &save))
		n = get(d, n, k);
	return str(n) ? str(n) : "";
}

static yaml_node_t *item(yaml_document_t *d, yaml_node_t *seq, int i)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE ||
	    i >= seq->data.sequence.items.top - seq->data.sequence.items.start)
		return NULL;
	return yaml_document_get_node(d, seq->data.sequence.items.start[i]);
}

/* Load every document of every YAML file in deploy/. */
static int setup(void **state)
{
	char dir[1024], file[1400];
	struct dirent **ents;
	int n;

	snprintf(dir, sizeof(dir), "%s/deploy", test_env("SHRIKE_SOURCE"));
	n = scandir(dir, &ents, NULL, alphasort);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name), size;
		yaml_parser_t ps;
		char *buf;

		if (len < 6 || strcmp(ents[i]->d_name + len - 5, ".yaml")) {
			free(ents[i]);
			continue;
		}
		snprintf(file, sizeof(file), "%s/%s", dir, ents[i]->d_name);
		free(ents[i]);
		buf = test_read_file(file, &size);
		assert_non_null(buf);
		assert_true(yaml_parser_initialize(&ps));
		yaml_parser_set_input_string(&ps, (unsigned char *)buf, size);
		for (;;) {
			yaml_document_t d;

			if (!yaml_parser_load(&ps, &d))
				fail_msg("%s:%zu:%zu: %s", file, ps.problem_mark.line + 1,
					 ps.problem_mark.column + 1, ps.problem);
			if (!yaml_document_get_root_node(&d)) {
				yaml_document_delete(&d);
				break;
			}
			assert_true(ndocs < MAX_DOCS);
			docs[ndocs++] = d;
		}
		yaml_parser_delete(&ps);
		free(buf);
	}
	free(ents);
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < ndocs; i++)
		yaml_document_delete(&docs[i]);
	return 0;
}

static yaml_document_t *find(const char *kind, const char *name)
{
	for (int i = 0; i < ndocs; i++) {
		yaml_node_t *r = yaml_document_get_root_node(&docs[i]);

		if (!strcmp(path(&docs[i], r, "kind"), kind) &&
		    (!name || !strcmp(path(&docs[i], r, "metadata.name"), name)))
			return &docs[i];
	}
	fail_msg("no %s %s in deploy/", kind, name ? name : "");
	return NULL;
}

static void test_every_document_is_an_object(void **state)
{
	assert_true(ndocs >= 7);
	for (int i = 0; i < ndocs; i++) {
		yaml_node_t *r = yaml_document_get_root_node(&docs[i]);

		assert_int_equal(r->type, YAML_MAPPING_NODE);
		assert_string_not_equal(path(&docs[i], r, "apiVersion"), "");
		assert_string_not_equal(path(&docs[i], r, "kind"), "");
		assert_string_not_equal(path(&docs[i], r, "metadata.name"), "");
	}
}

static void test_rbac(void **state)
{
	yaml_document_t *d = find("ClusterRole", "shrike");
	yaml_node_t *rule = item(d, get(d, yaml_document_get_root_node(d), "rules"), 0);
	yaml_node_t *verbs = get(d, rule, "verbs");
	const char *want[] = { "get", "list", "watch", "patch" };

	assert_string_equal(str(item(d, get(d, rule, "resources"), 0)), "pods");
	for (int i = 0; i < 4; i++)
		assert_string_equal(str(item(d, verbs, i)), want[i]);
	assert_null(item(d, verbs, 4));
	/* the quarantine NetworkPolicy (respond/k8s.c): made, and deleted
	 * with its namespace's last quarantine */
	rule = item(d, get(d, yaml_document_get_root_node(d), "rules"), 1);
	assert_string_equal(str(item(d, get(d, rule, "apiGroups"), 0)), "networking.k8s.io");
	assert_string_equal(str(item(d, get(d, rule, "resources"), 0)), "networkpolicies");
	verbs = get(d, rule, "verbs");
	assert_string_equal(str(item(d, verbs, 0)), "get");
	assert_string_equal(str(item(d, verbs, 1)), "create");
	assert_string_equal(str(item(d, verbs, 2)), "delete");
	assert_null(item(d, verbs, 3));
	assert_null(item(d, get(d, yaml_document_get_root_node(d), "rules"), 2));
	find("ServiceAccount", "shrike");
	d = find("ClusterRoleBinding", "shrike");
	assert_string_equal(path(d, yaml_document_get_root_node(d), "roleRef.name"), "shrike");
}

static void test_daemonset(void **state)
{
	yaml_document_t *d = find("DaemonSet", "shrike");
	yaml_node_t *spec = get(d, get(d, get(d, yaml_document_get_root_node(d), "spec"), "template"),
				"spec");
	yaml_node_t *c = item(d, get(d, spec, "containers"), 0), *vols = get(d, spec, "volumes");
	const char *probes[] = { "livenessProbe", "readinessProbe", "startupProbe" };
	const char *host[] = { "/sys/fs/bpf", "/sys/kernel/btf", "/run/containerd",
			       "/var/lib/docker", "/proc", "/sys/fs/cgroup" };

	assert_string_equal(path(d, spec, "hostPID"), "true");
	assert_string_equal(path(d, spec, "hostNetwork"), "true");
	assert_string_equal(path(d, spec, "serviceAccountName"), "shrike");
	/* the metrics listener's default address (cmd/config.h), reachable
	 * from the kubelet through hostNetwork */
	for (int i = 0; i < 3; i++) {
		char p[64];

		snprintf(p, sizeof(p), "%s.httpGet.path", probes[i]);
		assert_string_equal(path(d, c, p), "/healthz");
		snprintf(p, sizeof(p), "%s.httpGet.port", probes[i]);
		assert_string_equal(path(d, c, p), "8765");
		snprintf(p, sizeof(p), "%s.httpGet.host", probes[i]);
		assert_string_equal(path(d, c, p), "127.0.0.1");
	}
	for (size_t h = 0; h < sizeof(host) / sizeof(host[0]); h++) {
		bool found = false;

		for (int i = 0; item(d, vols, i); i++)
			found |= !strcmp(path(d, item(d, vols, i), "hostPath.path"), host[h]);
		if (!found)
			fail_msg("no hostPath volume for %s", host[h]);
	}
	/* every mount names a volume */
	for (int i = 0; item(d, get(d, c, "volumeMounts"), i); i++) {
		const char *name = path(d, item(d, get(d, c, "volumeMounts"), i), "name");
		bool found = false;

		for (int j = 0; item(d, vols, j); j++)
			found |= !strcmp(path(d, item(d, vols, j), "name"), name);
		if (!found)
			fail_msg("volumeMount %s has no volume", name);
	}
}

/* The ConfigMap's policy files are the repository's (block scalars keep
 * one final newline: compare without trailing newlines). */
static void same(const char *got, const char *rel)
{
	char p[1400];
	char *want;
	size_t n, m;

	snprintf(p, sizeof(p), "%s/%s", test_env("SHRIKE_SOURCE"), rel);
	want = test_read_file(p, NULL);
	assert_non_null(want);
	for (n = strlen(got); n && got[n - 1] == '\n'; n--)
		;
	for (m = strlen(want); m && want[m - 1] == '\n'; m--)
		;
	if (n != m || memcmp(got, want, n))
		fail_msg("deploy/policies.yaml differs from %s: run deploy/gen-policies.sh", rel);
	free(want);
}

static void test_policies_match_the_repository(void **state)
{
	yaml_document_t *d = find("ConfigMap", "shrike-policies");
	yaml_node_t *data = get(d, yaml_document_get_root_node(d), "data");

	/* keys with dots: looked up whole */
	assert_non_null(str(get(d, data, "10-shrike_rules.yaml")));
	same(str(get(d, data, "10-shrike_rules.yaml")), "rules/shrike_rules.yaml");
	assert_non_null(str(get(d, data, "90-default.yaml")));
	same(str(get(d, data, "90-default.yaml")), "policies/default.yaml");
	d = find("ConfigMap", "shrike-config");
	data = get(d, yaml_document_get_root_node(d), "data");
	assert_non_null(str(get(d, data, "shrike.yaml")));
	assert_non_null(strstr(str(get(d, data, "shrike.yaml")), "k8s:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_document_is_an_object),
		cmocka_unit_test(test_rbac),
		cmocka_unit_test(test_daemonset),
		cmocka_unit_test(test_policies_match_the_repository),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
