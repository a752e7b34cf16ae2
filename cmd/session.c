/* SPDX-License-Identifier: Apache-2.0 */
#include "session.h"

#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "loop.h"

#define DRAIN_MS 10     /* the consumer drains at least this often */
#define STATS_EVERY 100 /* ticks between drop checks (1 s) */
#define SWEEP_EVERY 1000 /* ticks between container cache sweeps (10 s) */

static int on_record(const struct shk_event *ev, void *ctx)
{
	struct session *s = ctx;

	/* state follows every record, whatever the command does with it */
	shk_proctable_apply(s->procs, ev);
	return s->o.on_event ? s->o.on_event(ev, s->o.ctx) : 0;
}

static int drain(void *ctx)
{
	struct session *s = ctx;
	int n = shk_sensor_consume(s->sensor);

	if (n < 0 && n != -EINTR)
		return n;
	/* flush per batch, not per line: the consumer keeps up at high rates */
	if (s->o.out) {
		fflush(s->o.out);
		if (ferror(s->o.out)) {
			cli_err("cannot write to the output");
			return -EIO;
		}
	}
	return 0;
}

/* Drain what the kernel batched without waking us; once a second, report
 * drops: nothing is lost silently. */
static int on_tick(void *ctx)
{
	struct session *s = ctx;
	struct shk_sensor_stats st;
	int err = drain(s);

	if (err)
		return err;
	if (s->o.on_tick)
		s->o.on_tick(s->o.ctx);
	if (s->containers && (s->ticks + 1) % SWEEP_EVERY == 0)
		shk_containers_sweep(s->containers);
	if (++s->ticks % STATS_EVERY)
		return 0;
	if (s->o.on_second && (err = s->o.on_second(s->o.ctx)))
		return err;
	if (shk_sensor_stats(s->sensor, &st))
		return 0;
	if (st.kernel.drops > s->last_drops)
		cli_warn("%llu events dropped: ring buffer full (total %llu; try --ringbuf-mb)",
			 (unsigned long long)(st.kernel.drops - s->last_drops),
			 (unsigned long long)st.kernel.drops);
	if (st.malformed > s->last_malformed)
		cli_warn("%llu malformed records skipped (total %llu)",
			 (unsigned long long)(st.malformed - s->last_malformed),
			 (unsigned long long)st.malformed);
	s->last_drops = st.kernel.drops;
	s->last_malformed = st.malformed;
	return 0;
}

static int on_signal(int sig, void *ctx)
{
	struct session *s = ctx;

	return s->o.on_signal ? s->o.on_signal(sig, s->o.ctx) : 0;
}

static int64_t boot_to_real(void)
{
	struct timespec b, r;

	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((int64_t)r.tv_sec - b.tv_sec) * 1000000000LL + (r.tv_nsec - b.tv_nsec);
}

/* The container cache, with the runtimes' state roots from
 * $SHRIKE_CONTAINER_ROOTS ("containerd=DIR,crio=DIR,docker=DIR") over the
 * defaults; entries are swept against the cgroup v2 mount. */
static int containers_start(struct session *s)
{
	struct shk_containers_opts co = { 0 };
	const char *spec = getenv("SHRIKE_CONTAINER_ROOTS"), *bad = NULL;
	struct shk_cgroup_mounts m;

	shk_ctr_roots_default(&co.roots);
	if (spec && !(s->ctr_roots_spec = strdup(spec)))
		return -ENOMEM;
	if (shk_ctr_roots_parse(&co.roots, s->ctr_roots_spec, &bad)) {
		cli_err("SHRIKE_CONTAINER_ROOTS: bad item '%s' (want containerd|crio|docker=/DIR, "
			"comma separated)",
			bad);
		return -EINVAL;
	}
	if (!shk_cgroup_mounts_discover(NULL, &m) && m.v2[0])
		co.cgroup_root = m.v2;
	s->containers = shk_containers_new(&co);
	if (!s->containers)
		return -errno;
	shk_proctable_set_containers(s->procs, s->containers);
	return 0;
}

int session_start(struct session *s, const struct session_opts *o)
{
	struct shk_sensor_opts so = { .self_pid = getpid() };
	const char *msg = NULL;
	struct stat ns;
	int err;

	memset(s, 0, sizeof(*s));
	s->o = *o;
	err = shk_sensor_probe(&msg);
	if (err) {
		cli_err("%s", msg);
		return err;
	}
	so.ringbuf_bytes = o->ringbuf_bytes ? o->ringbuf_bytes : 8u << 20;
	/* Wake the consumer each time another quarter of the buffer is
	 * unread: far from full, and at the rates the 10 ms drain tick keeps
	 * up with (hundreds of MB/s), no wakeup at all. The tick bounds the
	 * latency of a quiet trickle; urgent records wake it at once. */
	so.wakeup_bytes = so.ringbuf_bytes / 4;
	so.verbose = o->verbose;
	so.lsm = o->lsm;
	so.kp = o->kp;
	so.compat_watch = o->compat_watch;
	so.no_tracefs_mount = o->no_tracefs_mount;
	s->boot_to_real_ns = boot_to_real();
	if (!stat("/proc/self/ns/mnt", &ns))
		s->own_mntns = (uint32_t)ns.st_ino;
	s->procs = shk_proctable_new(65536);
	s->users = shk_users_new(4096, 10ull * 1000000000ull);
	if (!s->procs || !s->users) {
		cli_err("out of memory");
		return -ENOMEM;
	}
	err = containers_start(s);
	if (err) {
		if (err != -EINVAL)
			cli_err("cannot set up the container cache: %s", strerror(-err));
		return err;
	}
	s->sensor = shk_sensor_new(&so, on_record, s, &msg);
	if (!s->sensor) {
		err = -errno;
		cli_err("%s (%s)", msg ? msg : "cannot start the sensors", strerror(errno));
		return err;
	}
	if (shk_sensor_warning(s->sensor))
		cli_warn("%s", shk_sensor_warning(s->sensor));
	if (shk_sensor_notice(s->sensor))
		cli_info("%s", shk_sensor_notice(s->sensor));
	malloc_trim(0); /* what loading the sensors freed, back to the kernel */
	return 0;
}

/* systemd's readiness protocol: one datagram to $NOTIFY_SOCKET. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || !*path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		cli_warn("cannot notify systemd (%s): %s", path, strerror(errno));
	close(fd);
}

int session_run(struct session *s, const char *ready_what)
{
	int err;

	/* Seed after attaching: a process born during the scan is then seen
	 * either by the scan or by its fork/exec records, never by neither. */
	err = shk_proctable_seed(s->procs, "/proc");
	if (err < 0)
		cli_warn("cannot read /proc to seed the process table: %s", strerror(-err));
	s->loop = loop_new(DRAIN_MS, on_tick, on_signal, s);
	if (!s->loop || loop_add_fd(s->loop, shk_sensor_fd(s->sensor), drain, s) ||
	    (s->o.extra_fn && s->o.extra_fd >= 0 &&
	     loop_add_fd(s->loop, s->o.extra_fd, s->o.extra_fn, s->o.extra_ctx))) {
		err = -errno;
		cli_err("cannot set up the event loop: %s", strerror(errno));
		return err ? err : -EINVAL;
	}
	fprintf(stderr, "shrike: ready (%s)\n", ready_what);
	notify_ready();
	err = loop_run(s->loop);
	drain(s); /* what is already in the buffer */
	if (err)
		cli_err("event loop failed: %s", strerror(-err));
	return err;
}

void session_summary(struct session *s, const char *extra)
{
	struct shk_sensor_stats st;

	if (!s->sensor || shk_sensor_stats(s->sensor, &st))
		return;
	char compat[24] = "unwatched";

	if (shk_sensor_compat_watched(s->sensor))
		snprintf(compat, sizeof(compat), "%llu", (unsigned long long)st.kernel.compat);
	fprintf(stderr,
		"shrike: stopped: events=%llu %sdrops=%llu oversize=%llu truncated=%llu "
		"malformed=%llu compat_skipped=%s kp_verdicts=%llu kp_missed=%llu\n",
		(unsigned long long)st.received, extra ? extra : "",
		(unsigned long long)st.kernel.drops, (unsigned long long)st.kernel.oversize,
		(unsigned long long)st.kernel.truncated, (unsigned long long)st.malformed, compat,
		(unsigned long long)st.kernel.kp_verdicts, (unsigned long long)st.kernel.kp_missed);
	if (s->containers) {
		struct shk_containers_stats cs;

		shk_containers_stats(s->containers, &cs);
		fprintf(stderr,
			"shrike: containers: cgroups=%llu cached=%zu hits=%llu loaded=%llu "
			"misses=%llu retries=%llu parse_errors=%llu evicted=%llu gone=%llu\n",
			(unsigned long long)cs.lookups, cs.size, (unsigned long long)cs.hits,
			(unsigned long long)cs.loads, (unsigned long long)cs.misses,
			(unsigned long long)cs.retries, (unsigned long long)cs.parse_errors,
			(unsigned long long)cs.evictions, (unsigned long long)cs.gone);
	}
}

void session_stop(struct session *s)
{
	loop_free(s->loop);
	shk_sensor_free(s->sensor);
	shk_proctable_free(s->procs);
	shk_users_free(s->users);
	shk_containers_free(s->containers);
	free(s->ctr_roots_spec);
	memset(s, 0, sizeof(*s));
}
