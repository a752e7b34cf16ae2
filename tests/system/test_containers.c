/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System tier for container and pod metadata: real cgroup v2 directories
 * named the way the kubelet + containerd and docker name them, fixture
 * runtime state under a temporary root (SHRIKE_CONTAINER_ROOTS), processes
 * moved into them, and `shrike run --json` must put the container and pod
 * fields in the alerts, and "host" outside. Needs root (exit 77).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cgroup.h"
#include "runlib.h"
#include "testlib.h"

#define KID "3e1f5a7c9b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"
#define DID "9c0d1e2f3e1f5a7c9b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
#define SANDBOX "6d5c4b3a29181706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e"
#define UID "2b4d6f80-1a3c-4e5f-8a9b-0c1d2e3f4a5b"
#define UIDU "2b4d6f80_1a3c_4e5f_8a9b_0c1d2e3f4a5b"

static struct {
	char *dir;
	char v2[PATH_MAX];
	char top[64], pod[512], kctr[1024], dctr[1024];
	char policy[PATH_MAX + 32];
	char probe_k8s[PATH_MAX + 32], probe_docker[PATH_MAX + 32], probe_host[PATH_MAX + 32];
	struct shrike_run run;
} T;

static void die(const char *what)
{
	fprintf(stderr, "test setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void mkdirs(const char *root, const char *rel)
{
	char p[PATH_MAX + 512], *s;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			die(p);
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		die(p);
}

static void write_at(const char *path, const char *text)
{
	if (test_write_file(path, text))
		die(path);
}

static const char policy_text[] =
	"- rule: Container probe\n"
	"  desc: any open of this test's probe files\n"
	"  condition: evt.type in (open, openat) and fd.name startswith %s/probe-\n"
	"  output: probe file=%%fd.name id=%%container.id full=%%container.full_id "
	"name=%%container.name image=%%container.image repo=%%container.image.repository "
	"tag=%%container.image.tag type=%%container.type priv=%%container.privileged "
	"pod=%%k8s.pod.name ns=%%k8s.ns.name uid=%%k8s.pod.uid sandbox=%%k8s.pod.sandbox_id "
	"ip=%%container.ip mount=%%container.mount.dest[0] mounts=%%container.mounts\n"
	"  priority: WARNING\n"
	"- rule: Container probe in a container\n"
	"  desc: the same, only in containers (Falco's container macro)\n"
	"  condition: evt.type in (open, openat) and fd.name startswith %s/probe- and "
	"container.id != host\n"
	"  output: in container %%container.id\n"
	"  priority: WARNING\n";

static void state_files(void)
{
	char p[PATH_MAX + 256];

	mkdirs(T.dir, "containerd/k8s.io/" KID);
	snprintf(p, sizeof(p), "%s/containerd/k8s.io/" KID "/config.json", T.dir);
	write_at(p, "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\","
		    "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"]}},"
		    "\"root\":{\"path\":\"rootfs\"},\"mounts\":[{\"destination\":\"/etc/hosts\","
		    "\"type\":\"bind\",\"source\":\"/var/lib/kubelet/pods/" UID "/etc-hosts\","
		    "\"options\":[\"rbind\",\"rprivate\",\"rw\"]}],\"annotations\":{"
		    "\"io.kubernetes.cri.container-name\":\"api\","
		    "\"io.kubernetes.cri.container-type\":\"container\","
		    "\"io.kubernetes.cri.image-name\":\"registry.local:5000/shop/api:2.4.1\","
		    "\"io.kubernetes.cri.sandbox-id\":\"" SANDBOX "\","
		    "\"io.kubernetes.cri.sandbox-name\":\"api-5f7d8c9b6-qwert\","
		    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
		    "\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"}}");
	mkdirs(T.dir, "docker/" DID);
	snprintf(p, sizeof(p), "%s/docker/" DID "/config.v2.json", T.dir);
	write_at(p, "{\"ID\":\"" DID "\",\"Name\":\"/cache\",\"Config\":{\"Image\":\"redis:7.2\"},"
		    "\"Image\":\"sha256:7fc37b47acde\",\"State\":{\"Running\":true,"
		    "\"StartedAt\":\"2024-03-02T08:15:30.5Z\"},\"NetworkSettings\":{\"Networks\":"
		    "{\"bridge\":{\"IPAddress\":\"172.17.0.9\"}}},\"MountPoints\":{}}");
	snprintf(p, sizeof(p), "%s/docker/" DID "/hostconfig.json", T.dir);
	write_at(p, "{\"Privileged\":true}");
}

static void cgroups(void)
{
	struct shk_cgroup_mounts m;

	if (shk_cgroup_mounts_discover(NULL, &m) || !m.v2[0]) {
		fprintf(stderr, "no cgroup v2 mount: skipped\n");
		exit(TEST_SKIP);
	}
	snprintf(T.v2, sizeof(T.v2), "%s", m.v2);
	/* a kind-like prefix keeps clear of a real kubelet's kubepods.slice */
	snprintf(T.top, sizeof(T.top), "shktest%d.slice", (int)getpid());
	snprintf(T.pod, sizeof(T.pod), "%s/shktest%d-kubepods-burstable-pod" UIDU ".slice", T.top,
		 (int)getpid());
	snprintf(T.kctr, sizeof(T.kctr), "%s/cri-containerd-" KID ".scope", T.pod);
	snprintf(T.dctr, sizeof(T.dctr), "%s/docker-" DID ".scope", T.top);
	mkdirs(T.v2, T.kctr);
	mkdirs(T.v2, T.dctr);
}

static void rm_cgroup(const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", T.v2, rel);
	if (rmdir(p) && errno != ENOENT)
		fprintf(stderr, "cleanup: rmdir %s: %s\n", p, strerror(errno));
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (T.v2[0]) {
		rm_cgroup(T.kctr);
		rm_cgroup(T.dctr);
		rm_cgroup(T.pod);
		rm_cgroup(T.top);
	}
	if (T.dir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
		if (system(cmd))
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
}

/* Fork; move the child into cgroup rel (NULL: stay here); then it execs
 * cat on file, as a runtime's init would exec the entrypoint. */
static void cat_in(const char *rel, const char *file)
{
	char procs[PATH_MAX * 2], pid[32];
	int go[2], status;
	pid_t p;
	char c;

	if (pipe(go))
		die("pipe");
	p = fork();
	if (p == 0) {
		int null = open("/dev/null", O_WRONLY);

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		dup2(null, 1);
		execl("/bin/cat", "cat", file, (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	if (rel) {
		snprintf(procs, sizeof(procs), "%s/%s/cgroup.procs", T.v2, rel);
		snprintf(pid, sizeof(pid), "%d", (int)p);
		write_at(procs, pid);
	}
	if (write(go[1], "x", 1) != 1)
		die("pipe write");
	close(go[1]);
	waitpid(p, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const char *field(const cJSON *alert, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(alert, "output_fields");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, name);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNull(v))
		return "<NA>";
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	return "?";
}

static void expect(const cJSON *a, const char *name, const char *want)
{
	const char *got = field(a, name);

	if (strcmp(got, want))
		fprintf(stderr, "%s: got '%s', want '%s'\n", name, got, want);
	assert_string_equal(got, want);
}

static void test_alerts_carry_container_and_pod(void **state)
{
	const char *args[] = { "--policy", T.policy, "-o", "rule_matching=all", NULL };
	const cJSON *a;

	shrike_run_start(&T.run, T.dir, args);
	cat_in(T.kctr, T.probe_k8s);
	cat_in(T.dctr, T.probe_docker);
	cat_in(NULL, T.probe_host);
	shrike_run_stop(&T.run);

	a = shrike_run_find(&T.run, "Container probe", "fd.name", T.probe_k8s);
	assert_non_null(a);
	expect(a, "container.id", "3e1f5a7c9b2d");
	expect(a, "container.full_id", KID);
	expect(a, "container.name", "api");
	expect(a, "container.image", "registry.local:5000/shop/api:2.4.1");
	expect(a, "container.image.repository", "registry.local:5000/shop/api");
	expect(a, "container.image.tag", "2.4.1");
	expect(a, "container.type", "containerd");
	expect(a, "container.privileged", "false");
	expect(a, "k8s.pod.name", "api-5f7d8c9b6-qwert");
	expect(a, "k8s.ns.name", "shop");
	expect(a, "k8s.pod.uid", UID);
	expect(a, "k8s.pod.sandbox_id", "6d5c4b3a2918");
	expect(a, "container.mount.dest[0]", "/etc/hosts");
	assert_non_null(shrike_run_find(&T.run, "Container probe in a container", "container.id",
					"3e1f5a7c9b2d"));

	a = shrike_run_find(&T.run, "Container probe", "fd.name", T.probe_docker);
	assert_non_null(a);
	expect(a, "container.id", "9c0d1e2f3e1f");
	expect(a, "container.name", "cache");
	expect(a, "container.image.repository", "redis");
	expect(a, "container.image.tag", "7.2");
	expect(a, "container.type", "docker");
	expect(a, "container.privileged", "true");
	expect(a, "container.ip", "172.17.0.9");
	expect(a, "k8s.pod.name", "<NA>");

	a = shrike_run_find(&T.run, "Container probe", "fd.name", T.probe_host);
	assert_non_null(a);
	expect(a, "container.id", "host");
	expect(a, "container.name", "host");
	expect(a, "k8s.ns.name", "<NA>");
	/* the container-only rule did not fire for the host process */
	for (int i = 0; i < T.run.nalerts; i++)
		if (!strcmp(shrike_json_str(T.run.alerts[i], "rule"), "Container probe in a container"))
			assert_string_not_equal(field(T.run.alerts[i], "container.id"), "host");
	shrike_run_free(&T.run);
}

static int setup(void **state)
{
	char text[sizeof(policy_text) + 2 * PATH_MAX], roots[2 * PATH_MAX + 64];

	T.dir = test_tmpdir();
	atexit(cleanup);
	state_files();
	cgroups();
	snprintf(T.policy, sizeof(T.policy), "%s/policy.yaml", T.dir);
	snprintf(text, sizeof(text), policy_text, T.dir, T.dir);
	write_at(T.policy, text);
	snprintf(T.probe_k8s, sizeof(T.probe_k8s), "%s/probe-k8s", T.dir);
	snprintf(T.probe_docker, sizeof(T.probe_docker), "%s/probe-docker", T.dir);
	snprintf(T.probe_host, sizeof(T.probe_host), "%s/probe-host", T.dir);
	write_at(T.probe_k8s, "k8s\n");
	write_at(T.probe_docker, "docker\n");
	write_at(T.probe_host, "host\n");
	snprintf(roots, sizeof(roots), "containerd=%s/containerd,docker=%s/docker,crio=", T.dir,
		 T.dir);
	setenv("SHRIKE_CONTAINER_ROOTS", roots, 1);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alerts_carry_container_and_pod),
	};

	test_require_root("the system tier (loads BPF sensors, makes cgroups)");
	return cmocka_run_group_tests(tests, setup, NULL);
}
