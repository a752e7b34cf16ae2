/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod quarantine end to end with the Kubernetes API: a fake pod of two
 * containers and another pod of one (real cgroup v2 directories named the
 * way the kubelet and containerd name them, containerd state files under
 * a temporary root via SHRIKE_CONTAINER_ROOTS), a fake API server on
 * 127.0.0.1 (plain HTTP through the kubeconfig), and `shrike run` with
 * k8s enabled:
 *   - a later event of the pod carries its labels (k8s.pod.label[app]);
 *   - a CRITICAL alert in one container with {quarantine: pod} in enforce
 *     mode freezes and isolates *both* containers of that pod, leaves the
 *     other pod running and connected, and PATCHes the pod's label;
 *   - a release through the control socket thaws the pod and removes the
 *     label.
 * Needs root (exit 77).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cgroup.h"
#include "fakeapi.h"
#include "runlib.h"
#include "testlib.h"

#define K1 "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
#define K2 "2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a"
#define K3 "3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b"
#define UIDA "5e6f7081-92a3-4b4c-8d5e-6f708192a3b4"
#define UIDA_ "5e6f7081_92a3_4b4c_8d5e_6f708192a3b4"
#define UIDB "6f708192-a3b4-4c5d-9e6f-708192a3b4c5"
#define UIDB_ "6f708192_a3b4_4c5d_9e6f_708192a3b4c5"
#define PODA "api-7c9d5f6b8-zx4lm"
#define PODB "db-0"
#define PATHA "/api/v1/namespaces/shop/pods/" PODA

static struct fakeapi api;

static struct {
	char *dir;
	char v2[PATH_MAX];
	char top[64], poda[256], podb[256], a1[512], a2[512], b1[512];
	char policy[512], config[512], kubeconfig[512];
	char statedir[512], control[100];
	char attack[512], labelprobe[512];
	pid_t spin[3];
	volatile uint64_t *ctr[3];
} T;

static void die(const char *what)
{
	fprintf(stderr, "test setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_at(const char *path, const char *text)
{
	if (test_write_file(path, text))
		die(path);
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

/* containerd's bundle config.json for container id of pod (name, uid). */
static void state_file(const char *id, const char *ctr, const char *pod, const char *uid)
{
	char p[PATH_MAX + 256], text[4096];

	snprintf(p, sizeof(p), "containerd/k8s.io/%s", id);
	mkdirs(T.dir, p);
	snprintf(p, sizeof(p), "%s/containerd/k8s.io/%s/config.json", T.dir, id);
	snprintf(text, sizeof(text),
		 "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
		 "\"root\":{\"path\":\"rootfs\"},\"mounts\":[],\"annotations\":{"
		 "\"io.kubernetes.cri.container-name\":\"%s\","
		 "\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.image-name\":\"registry.local/shop/%s:1.0\","
		 "\"io.kubernetes.cri.sandbox-name\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
		 "\"io.kubernetes.cri.sandbox-uid\":\"%s\"}}",
		 ctr, ctr, pod, uid);
	write_at(p, text);
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
	snprintf(T.top, sizeof(T.top), "shkk8s%d.slice", (int)getpid());
	snprintf(T.poda, sizeof(T.poda), "%s/shkk8s%d-kubepods-besteffort-pod" UIDA_ ".slice", T.top,
		 (int)getpid());
	snprintf(T.podb, sizeof(T.podb), "%s/shkk8s%d-kubepods-besteffort-pod" UIDB_ ".slice", T.top,
		 (int)getpid());
	snprintf(T.a1, sizeof(T.a1), "%s/cri-containerd-" K1 ".scope", T.poda);
	snprintf(T.a2, sizeof(T.a2), "%s/cri-containerd-" K2 ".scope", T.poda);
	snprintf(T.b1, sizeof(T.b1), "%s/cri-containerd-" K3 ".scope", T.podb);
	mkdirs(T.v2, T.a1);
	mkdirs(T.v2, T.a2);
	mkdirs(T.v2, T.b1);
}

static void cg_write(const char *rel, const char *file, const char *val)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s/%s", T.v2, rel, file);
	test_write_file(p, val);
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
	const char *ctrs[] = { T.a1, T.a2, T.b1 };
	char cmd[PATH_MAX + 16];

	if (T.v2[0]) {
		/* whatever the test left: thaw, kill, wait, remove */
		cg_write(T.poda, "cgroup.freeze", "0");
		for (int i = 0; i < 3; i++)
			cg_write(ctrs[i], "cgroup.kill", "1");
		for (int i = 0; i < 3; i++)
			if (T.spin[i] > 0)
				waitpid(T.spin[i], NULL, 0);
		usleep(100 * 1000);
		for (int i = 0; i < 3; i++)
			rm_cgroup(ctrs[i]);
		rm_cgroup(T.poda);
		rm_cgroup(T.podb);
		rm_cgroup(T.top);
	}
	if (T.dir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
		if (system(cmd))
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
}

/* Fork a child into cgroup rel, then exec argv there. */
static pid_t run_in(const char *rel, const char *const *argv)
{
	char procs[PATH_MAX * 2], pid[32];
	int go[2];
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
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(go[0]);
	snprintf(procs, sizeof(procs), "%s/%s/cgroup.procs", T.v2, rel);
	snprintf(pid, sizeof(pid), "%d", (int)p);
	write_at(procs, pid);
	if (write(go[1], "x", 1) != 1)
		die("pipe write");
	close(go[1]);
	return p;
}

static void cat_in(const char *rel, const char *file)
{
	const char *argv[] = { "/bin/cat", file, NULL };
	int status;

	waitpid(run_in(rel, argv), &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void spinner_in(int i, const char *rel)
{
	char file[PATH_MAX + 32], bin[PATH_MAX];
	const char *argv[] = { bin, file, NULL };
	int fd;

	snprintf(bin, sizeof(bin), "%s/spinner", test_env("SHRIKE_TEST_HELPERS"));
	snprintf(file, sizeof(file), "%s/spin%d", T.dir, i);
	fd = open(file, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		die(file);
	T.ctr[i] = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (T.ctr[i] == MAP_FAILED)
		die("mmap");
	T.spin[i] = run_in(rel, argv);
}

/* Whether spinner i makes progress over 200 ms. */
static bool spinning(int i)
{
	uint64_t a = *T.ctr[i];

	usleep(200 * 1000);
	return *T.ctr[i] != a;
}

static int frozen(const char *rel)
{
	char p[PATH_MAX * 2], *s;
	int v = -1;

	snprintf(p, sizeof(p), "%s/%s/cgroup.events", T.v2, rel);
	s = test_read_file(p, NULL);
	if (s && strstr(s, "frozen "))
		v = strstr(s, "frozen 1") ? 1 : 0;
	free(s);
	return v;
}

/* Egress programs on a cgroup: attached there, or in effect (inherited). */
static int egress_progs(const char *rel, bool effective)
{
	__u32 ids[64], cnt = 64, flags = 0;
	char p[PATH_MAX * 2];
	int fd, err;

	snprintf(p, sizeof(p), "%s/%s", T.v2, rel);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	err = bpf_prog_query(fd, BPF_CGROUP_INET_EGRESS, effective ? BPF_F_QUERY_EFFECTIVE : 0,
			     &flags, ids, &cnt);
	close(fd);
	return err ? -1 : (int)cnt;
}

/* One request on the daemon's control socket; the answer. */
static void control(const char *req, char *out, size_t outsz)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = 0;
	ssize_t n;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", T.control);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	assert_true(write(fd, "\n", 1) == 1);
	while (len < outsz - 1 && (n = read(fd, out + len, outsz - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
}

/* The alerts file, until it contains needle (at most ms). */
static bool wait_alerts(const char *path, const char *needle, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		char *a = test_read_file(path, NULL);
		bool ok = a && strstr(a, needle);

		free(a);
		if (ok)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

static const char *field(const cJSON *alert, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(alert, "output_fields");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, name);

	return cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) ? "<NA>" : "?";
}

static void test_pod_quarantine_through_api(void **state)
{
	const char *args[] = { "--config", T.config, "--policy", T.policy, "--state-dir",
			       T.statedir, "--control", T.control, NULL };
	struct shrike_run run;
	const cJSON *a, *resp;
	struct fakeapi_req r;
	char out[4096];
	int patches = 0, netpols = 0, base_b1, npatch_before;
	pid_t attacker;
	cJSON *body;

	spinner_in(0, T.a1);
	spinner_in(1, T.a2);
	spinner_in(2, T.b1);
	shrike_run_start(&run, T.dir, args);

	/* labels: the first event of the pod asks for them, a later one has
	 * them (the first may or may not, depending on the API's speed) */
	cat_in(T.a2, T.labelprobe);
	assert_true(fakeapi_wait(&api, 1, 3000) >= 1);
	usleep(300 * 1000);
	cat_in(T.a2, T.labelprobe);
	assert_true(wait_alerts(run.out_path, "\"k8s.pod.label[app]\":\"api\"", 3000));

	assert_true(spinning(0) && spinning(1) && spinning(2));
	base_b1 = egress_progs(T.b1, true);
	npatch_before = fakeapi_count(&api);
	/* the attack, in the first container only. Not waited for: the
	 * quarantine may freeze the cat before it exits (it is reaped after
	 * the release) */
	{
		const char *argv[] = { "/bin/cat", T.attack, NULL };

		attacker = run_in(T.a1, argv);
	}
	assert_true(wait_alerts(run.out_path, "\"outcome\":\"done\"", 5000));

	/* both containers of the pod frozen and isolated */
	assert_int_equal(frozen(T.poda), 1);
	assert_int_equal(frozen(T.a1), 1);
	assert_int_equal(frozen(T.a2), 1);
	assert_false(spinning(0));
	assert_false(spinning(1));
	assert_true(egress_progs(T.poda, false) > 0);
	assert_true(egress_progs(T.a1, true) > base_b1);
	assert_true(egress_progs(T.a2, true) > base_b1);
	/* the other pod untouched */
	assert_int_equal(frozen(T.b1), 0);
	assert_true(spinning(2));
	assert_int_equal(egress_progs(T.podb, false), 0);
	assert_int_equal(egress_progs(T.b1, true), base_b1);

	/* the label PATCH, for that pod only, then the namespace's deny-all
	 * NetworkPolicy selecting that label */
	assert_true(fakeapi_wait(&api, npatch_before + 2, 3000) >= npatch_before + 2);
	for (int i = npatch_before; i < fakeapi_count(&api); i++) {
		const cJSON *l;

		assert_true(fakeapi_get(&api, i, &r));
		if (!strcmp(r.method, "POST") && strstr(r.path, "/eviction"))
			continue; /* the removal, checked below */
		if (!strcmp(r.method, "POST")) {
			netpols++;
			assert_string_equal(r.path, "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies");
			assert_string_equal(r.auth, "Bearer sys-token");
			assert_non_null(strstr(r.body, "\"shrike.io/quarantine\":\"true\""));
			assert_non_null(strstr(r.body, "\"Egress\""));
			continue;
		}
		if (strcmp(r.method, "PATCH"))
			continue;
		patches++;
		assert_string_equal(r.path, PATHA);
		assert_string_equal(r.ctype, "application/merge-patch+json");
		assert_string_equal(r.auth, "Bearer sys-token");
		body = cJSON_Parse(r.body);
		l = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(body, "metadata"), "labels"),
			"shrike.io/quarantine");
		assert_true(cJSON_IsString(l) && !strcmp(l->valuestring, "true"));
		assert_non_null(strstr(r.body, "\"shrike.io/quarantine-rule\":\"Pod attack\""));
		cJSON_Delete(body);
	}
	assert_int_equal(patches, 1);
	assert_int_equal(netpols, 1);

	/* k8s.evict_after_s later, the pod still quarantined is evicted:
	 * policy/v1 Eviction, and an alert of its own says so */
	assert_true(wait_alerts(run.out_path, "\"rule\":\"shrike: quarantined pod removed\"", 6000));
	{
		int evictions = 0;

		for (int i = npatch_before; i < fakeapi_count(&api); i++) {
			assert_true(fakeapi_get(&api, i, &r));
			if (strcmp(r.method, "POST") || !strstr(r.path, "/eviction"))
				continue;
			evictions++;
			assert_string_equal(r.path, PATHA "/eviction");
			assert_string_equal(r.ctype, "application/json");
			assert_string_equal(r.auth, "Bearer sys-token");
			body = cJSON_Parse(r.body);
			assert_non_null(body);
			assert_string_equal(
				cJSON_GetObjectItemCaseSensitive(body, "kind")->valuestring, "Eviction");
			assert_string_equal(
				cJSON_GetObjectItemCaseSensitive(body, "apiVersion")->valuestring,
				"policy/v1");
			assert_string_equal(
				cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(body, "metadata"), "name")
					->valuestring,
				PODA);
			cJSON_Delete(body);
		}
		assert_int_equal(evictions, 1);
	}
	/* noted in the durable record, so that a restart does not evict the
	 * pod again */
	{
		char qfile[PATH_MAX + 32], *text = NULL;

		snprintf(qfile, sizeof(qfile), "%s/quarantine.json", T.statedir);
		for (int i = 0; i < 100; i++) {
			free(text);
			text = test_read_file(qfile, NULL);
			if (text && strstr(text, "\"pod_removed\""))
				break;
			usleep(20 * 1000);
		}
		assert_non_null(text);
		assert_non_null(strstr(text, "\"pod_removed\""));
		free(text);
	}

	/* release through the daemon: thawed, un-isolated, label removed */
	npatch_before = fakeapi_count(&api);
	control("quarantine release --all", out, sizeof(out));
	fprintf(stderr, "release: %s", out);
	assert_non_null(strstr(out, "pod label removal queued"));
	assert_non_null(strstr(out, "NetworkPolicy: removal queued"));
	assert_int_equal(frozen(T.poda), 0);
	assert_true(spinning(0) && spinning(1));
	assert_int_equal(egress_progs(T.poda, false), 0);
	/* the label and the namespace's policy go, in either order */
	assert_true(fakeapi_wait(&api, npatch_before + 2, 3000) >= npatch_before + 2);
	patches = netpols = 0;
	for (int i = npatch_before; i < fakeapi_count(&api); i++) {
		assert_true(fakeapi_get(&api, i, &r));
		if (!strcmp(r.method, "PATCH")) {
			patches++;
			assert_string_equal(r.path, PATHA);
			assert_non_null(strstr(r.body, "\"shrike.io/quarantine\":null"));
		} else if (!strcmp(r.method, "DELETE")) {
			netpols++;
			assert_string_equal(r.path, "/apis/networking.k8s.io/v1/namespaces/shop/"
						    "networkpolicies/shrike-quarantine");
			assert_string_equal(r.auth, "Bearer sys-token");
		}
	}
	assert_int_equal(patches, 1);
	assert_int_equal(netpols, 1);
	{
		int status;

		assert_int_equal(waitpid(attacker, &status, 0), attacker); /* thawed: it ends */
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	shrike_run_stop(&run);
	a = shrike_run_find(&run, "Pod attack", "container.id", "1a2b3c4d5e6f");
	assert_non_null(a);
	resp = shrike_response0(a);
	assert_non_null(resp);
	assert_string_equal(shrike_json_str(resp, "outcome"), "done");
	assert_non_null(strstr(shrike_json_str(resp, "target"), "pod shop/" PODA));
	a = shrike_run_find(&run, "shrike: quarantined pod removed", "k8s.pod.name", PODA);
	assert_non_null(a);
	resp = shrike_response0(a);
	assert_non_null(resp);
	assert_string_equal(shrike_json_str(resp, "action"), "evict");
	assert_string_equal(shrike_json_str(resp, "outcome"), "done");
	assert_string_equal(shrike_json_str(resp, "target"), "pod shop/" PODA);
	assert_string_equal(field(a, "k8s.pod.name"), PODA);
	shrike_run_free(&run);

	/* the same attack under --dry-run: every step is named as what would
	 * be done, nothing is frozen, isolated, recorded or asked of the API */
	{
		const char *dargs[] = { "--config", T.config, "--policy", T.policy, "--state-dir",
					T.statedir, "--control", T.control, "--dry-run", NULL };
		const char *argv[] = { "/bin/cat", T.attack, NULL };
		int status, writes = fakeapi_count(&api);

		shrike_run_start(&run, T.dir, dargs);
		waitpid(run_in(T.a1, argv), &status, 0);
		assert_true(wait_alerts(run.out_path, "\"outcome\":\"would\"", 5000));
		usleep(2500 * 1000); /* past evict_after_s: nothing may follow */
		assert_int_equal(frozen(T.poda), 0);
		assert_true(spinning(0) && spinning(1));
		assert_int_equal(egress_progs(T.poda, false), 0);
		for (int i = writes; i < fakeapi_count(&api); i++) {
			assert_true(fakeapi_get(&api, i, &r));
			assert_string_equal(r.method, "GET"); /* label fetches only */
		}
		shrike_run_stop(&run);
		a = shrike_run_find(&run, "Pod attack", "container.id", "1a2b3c4d5e6f");
		assert_non_null(a);
		resp = shrike_response0(a);
		assert_non_null(resp);
		assert_string_equal(shrike_json_str(resp, "outcome"), "would");
		assert_non_null(strstr(shrike_json_str(resp, "target"),
				       "pod shop/" PODA " (label, NetworkPolicy, evict after 2 s)"));
		assert_null(shrike_run_find(&run, "shrike: quarantined pod removed", NULL, NULL));
		shrike_run_free(&run);
	}
}

static int setup(void **state)
{
	char text[16384], roots[2 * PATH_MAX + 64];

	T.dir = test_tmpdir();
	atexit(cleanup);
	state_file(K1, "api", PODA, UIDA);
	state_file(K2, "sidecar", PODA, UIDA);
	state_file(K3, "db", PODB, UIDB);
	cgroups();
	if (fakeapi_start(&api))
		die("fake API server");
	fakeapi_route(&api, "GET", PATHA, 200,
		      "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" PODA "\","
		      "\"namespace\":\"shop\",\"uid\":\"" UIDA "\",\"labels\":{\"app\":\"api\","
		      "\"pod-template-hash\":\"7c9d5f6b8\"}}}",
		      0);
	fakeapi_route(&api, "PATCH", PATHA, 200, "{\"kind\":\"Pod\"}", 0);
	fakeapi_route(&api, "POST", "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies", 201,
		      "{\"kind\":\"NetworkPolicy\"}", 0);
	fakeapi_route(&api, "POST", PATHA "/eviction", 201,
		      "{\"kind\":\"Status\",\"status\":\"Success\"}", 0);
	fakeapi_route(&api, "DELETE",
		      "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/shrike-quarantine",
		      200, "{\"kind\":\"Status\",\"status\":\"Success\"}", 0);

	snprintf(T.attack, sizeof(T.attack), "%s/attack", T.dir);
	snprintf(T.labelprobe, sizeof(T.labelprobe), "%s/labelprobe", T.dir);
	write_at(T.attack, "x\n");
	write_at(T.labelprobe, "x\n");
	snprintf(T.policy, sizeof(T.policy), "%s/policy.yaml", T.dir);
	snprintf(text, sizeof(text),
		 "- rule: Label probe\n  desc: t\n"
		 "  condition: evt.type in (open, openat) and fd.name = %s\n"
		 "  output: labels app=%%k8s.pod.label[app] all=%%k8s.pod.labels\n"
		 "  priority: WARNING\n"
		 "- rule: Pod attack\n  desc: t\n"
		 "  condition: evt.type in (open, openat) and fd.name = %s\n"
		 "  output: attack in %%container.id pod=%%k8s.pod.name\n"
		 "  priority: CRITICAL\n"
		 "  actions: [{quarantine: pod}]\n  mode: enforce\n",
		 T.labelprobe, T.attack);
	write_at(T.policy, text);
	snprintf(T.kubeconfig, sizeof(T.kubeconfig), "%s/kubeconfig", T.dir);
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
		 "contexts: [{name: t, context: {cluster: c, user: u}}]\n"
		 "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:%d'}}]\n"
		 "users: [{name: u, user: {token: sys-token}}]\n",
		 api.port);
	write_at(T.kubeconfig, text);
	snprintf(T.config, sizeof(T.config), "%s/shrike.yaml", T.dir);
	snprintf(text, sizeof(text),
		 "metrics: {enabled: false}\n"
		 "k8s:\n  enabled: true\n  kubeconfig: %s\n  timeout_ms: 2000\n"
		 "  evict_after_s: 2\n",
		 T.kubeconfig);
	write_at(T.config, text);
	snprintf(T.statedir, sizeof(T.statedir), "%s/state", T.dir);
	snprintf(T.control, sizeof(T.control), "%s/control.sock", T.dir);
	snprintf(roots, sizeof(roots), "containerd=%s/containerd,docker=,crio=", T.dir);
	setenv("SHRIKE_CONTAINER_ROOTS", roots, 1);
	return 0;
}

static int teardown(void **state)
{
	fakeapi_stop(&api);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_quarantine_through_api),
	};

	test_require_root("the system tier (loads BPF sensors, freezes and isolates cgroups)");
	return cmocka_run_group_tests(tests, setup, teardown);
}
