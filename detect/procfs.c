/* SPDX-License-Identifier: Apache-2.0 */
#include "procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Enough for any status or cgroup file procfs produces; a fixture or a
 * file bigger than this is read only this far. */
#define SCRATCH_SIZE (64 * 1024)
#define DELETED_SUFFIX " (deleted)"

/* Read up to size bytes of name (relative to dfd). Sets *ret_more when the
 * file had more. Returns the byte count or -errno. */
static ssize_t read_at(int dfd, const char *name, char *buf, size_t size,
		       bool *ret_more)
{
	size_t len = 0;
	int fd, err = 0;

	/* O_NONBLOCK: a FIFO planted in a fixture tree must not hang us. */
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (ret_more) {
		char c;

		*ret_more = !err && len == size && read(fd, &c, 1) == 1;
	}
	close(fd);
	return err ? err : (ssize_t)len;
}

/* Read a whole small text file as a C string (cut at size - 1). */
static ssize_t read_str_at(int dfd, const char *name, char *buf, size_t size)
{
	ssize_t n = read_at(dfd, name, buf, size - 1, NULL);

	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}

/* readlinkat() into a NUL-terminated buffer; a link that does not fit is
 * treated as unreadable rather than silently cut. */
static int readlink_str_at(int dfd, const char *name, char *buf, size_t size)
{
	ssize_t n = readlinkat(dfd, name, buf, size);

	if (n < 0)
		return -errno;
	if ((size_t)n >= size) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	buf[n] = '\0';
	return 0;
}

/* Parse an unsigned number at *p (leading blanks skipped) and advance *p.
 * Unlike strtoull, rejects signs and requires at least one digit. */
static int parse_u64(const char **p, int base, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	int ndig = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (;; s++, ndig++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			break;
		if (__builtin_mul_overflow(v, (uint64_t)base, &v) ||
		    __builtin_add_overflow(v, d, &v))
			return -ERANGE;
	}
	if (!ndig)
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

static int parse_s64(const char **p, int64_t *ret)
{
	const char *s = *p;
	bool neg = false;
	uint64_t v;
	int err;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-') {
		neg = true;
		s++;
	}
	err = parse_u64(&s, 10, &v);
	if (err)
		return err;
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*p = s;
	*ret = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* The next stat field must be a single space then a number. */
static int stat_field(const char **p, int64_t min, int64_t max, int64_t *ret)
{
	if (**p != ' ')
		return -EINVAL;
	(*p)++;
	if (**p == ' ' || parse_s64(p, ret) || *ret < min || *ret > max)
		return -EINVAL;
	if (**p != ' ' && **p != '\n' && **p != '\0')
		return -EINVAL;
	return 0;
}

/*
 * stat: "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt
 * cminflt majflt cmajflt utime stime cutime cstime priority nice
 * num_threads itrealvalue starttime ...". comm may hold spaces and ')',
 * so it ends at the last ')' of the line.
 */
int shk_procfs_parse_stat(const char *buf, size_t len,
			  struct shk_proc_info *info)
{
	const char *open, *close, *p;
	char line[1024];
	int64_t pid, v;
	uint64_t start = 0;
	uint32_t tty_nr = 0, flags = 0;
	int ppid = 0, session = 0;
	size_t clen;
	char state;

	if (!buf || !info)
		return -EINVAL;
	/* A NUL-terminated copy: the input need not be, and may hold NULs. */
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, buf, len);
	line[len] = '\0';

	p = line;
	if (parse_s64(&p, &pid) || pid <= 0 || pid > INT_MAX || *p != ' ')
		return -EINVAL;
	open = p + 1;
	close = strrchr(line, ')');
	if (*open != '(' || !close || close < open)
		return -EINVAL;
	clen = (size_t)(close - open - 1);
	p = close + 1;
	if (p[0] != ' ' || !isalpha((unsigned char)p[1]))
		return -EINVAL;
	state = p[1];
	p += 2;

	/* Fields 4 (ppid) to 22 (starttime). */
	for (int field = 4; field <= 22; field++) {
		int64_t min = INT32_MIN, max = INT32_MAX;

		if (field == 22 || (field >= 10 && field <= 13)) {
			/* unsigned long counters: accept them as u64 */
			const char *q;
			uint64_t u;

			if (*p != ' ')
				return -EINVAL;
			q = p + 1;
			if (*q == ' ' || parse_u64(&q, 10, &u))
				return -EINVAL;
			if (*q != ' ' && *q != '\n' && *q != '\0')
				return -EINVAL;
			p = q;
			if (field == 22)
				start = u;
			continue;
		}
		if (field == 9)
			max = UINT32_MAX;
		if (field == 7)
			min = 0, max = UINT32_MAX;
		if (field >= 14 && field <= 17)
			min = INT64_MIN, max = INT64_MAX;
		if (stat_field(&p, min, max, &v))
			return -EINVAL;
		if (field == 4) {
			if (v < 0)
				return -EINVAL;
			ppid = (int)v;
		} else if (field == 6) {
			session = v > 0 ? (int)v : 0;
		} else if (field == 7) {
			tty_nr = (uint32_t)v;
		} else if (field == 9) {
			if (v < 0)
				return -EINVAL;
			flags = (uint32_t)v;
		}
	}

	info->tgid = (int)pid;
	info->ppid = ppid;
	info->state = state;
	info->tty_nr = tty_nr;
	info->sid = session;
	info->flags = flags;
	info->start_ticks = start;
	info->is_kthread = flags & SHK_PF_KTHREAD;
	/* Kernels show longer names for some kthreads; task->comm, which
	 * events carry, holds SHK_COMM_LEN - 1. */
	if (clen > SHK_COMM_LEN - 1)
		clen = SHK_COMM_LEN - 1;
	memcpy(info->comm, open + 1, clen);
	info->comm[clen] = '\0';
	return 0;
}

struct status_ids {
	uint32_t r, e;
};

/* "Uid:\t1000\t1000\t1000\t1000": real, effective, saved, fs. */
static int parse_id_line(const char *p, struct status_ids *ret)
{
	uint64_t v[4];

	for (int i = 0; i < 4; i++) {
		if (parse_u64(&p, 10, &v[i]) || v[i] > UINT32_MAX)
			return -EINVAL;
	}
	ret->r = (uint32_t)v[0];
	ret->e = (uint32_t)v[1];
	return 0;
}

static int parse_cap_line(const char *p, uint64_t *ret)
{
	return parse_u64(&p, 16, ret);
}

static void parse_status(char *buf, size_t len, bool cut,
			 struct shk_proc_info *info)
{
	char *line = buf, *end = buf + len;
	unsigned int caps = 0;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		struct status_ids ids;
		uint64_t v;

		if (!nl) {
			/* The last line of a cut file may be partial. */
			if (cut)
				break;
			nl = end;
		}
		*nl = '\0';
		if (!strncmp(line, "Tgid:", 5)) {
			const char *p = line + 5;

			if (!parse_u64(&p, 10, &v) && v > 0 && v <= INT_MAX)
				info->tgid = (int)v;
		} else if (!strncmp(line, "Uid:", 4)) {
			if (!parse_id_line(line + 4, &ids)) {
				info->uid = ids.r;
				info->euid = ids.e;
				info->have |= SHK_PROCFS_HAVE_STATUS;
			}
		} else if (!strncmp(line, "Gid:", 4)) {
			if (!parse_id_line(line + 4, &ids)) {
				info->gid = ids.r;
				info->egid = ids.e;
			}
		} else if (!strncmp(line, "NSpid:", 6)) {
			const char *p = line + 6;
			uint64_t last = 0;

			/* One pid per nested namespace, innermost last. */
			while (!parse_u64(&p, 10, &v))
				last = v;
			if (*p == '\0' && last > 0 && last <= INT_MAX)
				info->vpid = (int)last;
		} else if (!strncmp(line, "CapInh:", 7)) {
			if (!parse_cap_line(line + 7, &info->cap_inh))
				caps |= 1;
		} else if (!strncmp(line, "CapPrm:", 7)) {
			if (!parse_cap_line(line + 7, &info->cap_prm))
				caps |= 2;
		} else if (!strncmp(line, "CapEff:", 7)) {
			if (!parse_cap_line(line + 7, &info->cap_eff))
				caps |= 4;
		}
		line = nl + 1;
	}
	if (caps == 7)
		info->have |= SHK_PROCFS_HAVE_CAPS;
}

/* "pid:[4026531836]" -> 4026531836 */
static uint32_t parse_ns_link(const char *link, const char *type)
{
	size_t tlen = strlen(type);
	const char *p;
	uint64_t v;

	if (strncmp(link, type, tlen) || link[tlen] != ':' || link[tlen + 1] != '[')
		return 0;
	p = link + tlen + 2;
	if (parse_u64(&p, 10, &v) || strcmp(p, "]") || v > UINT32_MAX)
		return 0;
	return (uint32_t)v;
}

static uint32_t read_ns(int dfd, const char *type)
{
	char name[32], link[64];

	snprintf(name, sizeof(name), "ns/%s", type);
	if (readlink_str_at(dfd, name, link, sizeof(link)))
		return 0;
	return parse_ns_link(link, type);
}

/* Find the cgroup v2 line, "0::/path". Other lines are v1 hierarchies. */
static void parse_cgroup(char *buf, size_t len, bool cut,
			 struct shk_proc_info *info)
{
	char *line = buf, *end = buf + len;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t llen;

		if (!nl) {
			if (cut)
				break;
			nl = end;
		}
		llen = (size_t)(nl - line);
		if (llen > 3 && !memcmp(line, "0::", 3) &&
		    llen - 3 < sizeof(info->cgroup) &&
		    !memchr(line + 3, '\0', llen - 3)) {
			memcpy(info->cgroup, line + 3, llen - 3);
			info->cgroup[llen - 3] = '\0';
			info->have |= SHK_PROCFS_HAVE_CGROUP;
			return;
		}
		line = nl + 1;
	}
}

/* cmdline and environ: NUL-separated, usually NUL-terminated. Keep one
 * byte for our own NUL, and drop the file's last one so the length counts
 * like an exec record's. */
static bool read_strings(int dfd, const char *name, char *buf, size_t size,
			 size_t *ret_len, bool *ret_cut)
{
	ssize_t n;
	bool more;

	n = read_at(dfd, name, buf, size - 1, &more);
	if (n < 0) {
		buf[0] = '\0';
		*ret_len = 0;
		return false;
	}
	if (n > 0 && buf[n - 1] == '\0' && !more)
		n--;
	buf[n] = '\0';
	*ret_len = (size_t)n;
	*ret_cut = more;
	return true;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

enum shk_fd_type shk_procfs_fd_type(const char *link)
{
	static const struct {
		const char *prefix;
		enum shk_fd_type type;
	} anon[] = {
		{ "anon_inode:[eventfd]", SHK_FD_EVENT },
		{ "anon_inode:[signalfd]", SHK_FD_SIGNALFD },
		{ "anon_inode:[eventpoll]", SHK_FD_EVENTPOLL },
		{ "anon_inode:inotify", SHK_FD_INOTIFY },
		{ "anon_inode:[timerfd]", SHK_FD_TIMERFD },
		{ "anon_inode:bpf", SHK_FD_BPF },
		{ "anon_inode:[userfaultfd]", SHK_FD_USERFAULTFD },
		{ "anon_inode:[io_uring]", SHK_FD_IO_URING },
	};

	if (!link || !*link)
		return SHK_FD_NONE;
	if (has_prefix(link, "pipe:["))
		return SHK_FD_PIPE;
	if (has_prefix(link, "socket:["))
		return SHK_FD_SOCK_OTHER;
	if (has_prefix(link, "/memfd:"))
		return SHK_FD_MEMFD;
	for (size_t i = 0; i < sizeof(anon) / sizeof(anon[0]); i++) {
		if (has_prefix(link, anon[i].prefix))
			return anon[i].type;
	}
	if (link[0] == '/')
		return SHK_FD_FILE;
	return SHK_FD_ANON_OTHER;
}

/* sockfs names the protocol in an xattr; it tells the family apart
 * without parsing /proc/net tables. */
static enum shk_fd_type socket_type(const char *path)
{
	char proto[32];
	ssize_t n = getxattr(path, "system.sockprotoname", proto,
			     sizeof(proto) - 1);

	if (n <= 0)
		return SHK_FD_SOCK_OTHER;
	proto[n] = '\0';
	if (has_prefix(proto, "UNIX"))
		return SHK_FD_UNIX;
	if (has_prefix(proto, "NETLINK"))
		return SHK_FD_NETLINK;
	if (strstr(proto, "v6"))
		return SHK_FD_IPV6;
	if (!strcmp(proto, "TCP") || !strcmp(proto, "UDP") ||
	    !strcmp(proto, "UDP-Lite") || !strcmp(proto, "RAW") ||
	    !strcmp(proto, "PING") || !strcmp(proto, "MPTCP"))
		return SHK_FD_IPV4;
	return SHK_FD_SOCK_OTHER;
}

static uint8_t std_fd_type(int dfd, const char *root, int pid, int fd)
{
	char name[16], link[SHK_PATH_MAX];
	enum shk_fd_type type;
	struct stat st;

	snprintf(name, sizeof(name), "fd/%d", fd);
	if (readlink_str_at(dfd, name, link, sizeof(link)))
		return SHK_FD_NONE;
	type = shk_procfs_fd_type(link);
	if (type == SHK_FD_SOCK_OTHER) {
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/%d/fd/%d", root, pid, fd) <
		    (int)sizeof(path))
			type = socket_type(path);
	} else if (type == SHK_FD_FILE && !fstatat(dfd, name, &st, 0)) {
		if (S_ISDIR(st.st_mode))
			type = SHK_FD_DIR;
		else if (S_ISCHR(st.st_mode))
			type = SHK_FD_CHAR;
		else if (S_ISBLK(st.st_mode))
			type = SHK_FD_BLOCK;
		else if (S_ISFIFO(st.st_mode))
			type = SHK_FD_PIPE;
	}
	return (uint8_t)type;
}

static uint64_t timespec_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static void read_exe(int dfd, struct shk_proc_info *info)
{
	size_t slen = strlen(DELETED_SUFFIX), len;
	struct stat st;

	if (readlink_str_at(dfd, "exe", info->exe, sizeof(info->exe)))
		return;
	info->have |= SHK_PROCFS_HAVE_EXE;
	len = strlen(info->exe);
	info->exe_deleted = len > slen &&
			    !strcmp(info->exe + len - slen, DELETED_SUFFIX);
	/* The magic link reaches the image even when its path is gone. */
	if (!fstatat(dfd, "exe", &st, 0)) {
		info->exe_ino = st.st_ino;
		info->exe_dev = (major(st.st_dev) << 20) | minor(st.st_dev);
		info->exe_ctime_ns = timespec_ns(&st.st_ctim);
		info->exe_mtime_ns = timespec_ns(&st.st_mtim);
		info->have |= SHK_PROCFS_HAVE_EXE_STAT;
	}
}

int shk_procfs_read(const char *proc_root, int pid, struct shk_proc_info *ret)
{
	struct shk_proc_info parsed = { 0 };
	char dir[PATH_MAX], *scratch;
	uint64_t v, tick_ns;
	long hz;
	bool cut;
	ssize_t n;
	int dfd, err;

	if (!ret || pid <= 0)
		return -EINVAL;
	if (!proc_root)
		proc_root = SHK_PROCFS_ROOT;
	if (snprintf(dir, sizeof(dir), "%s/%d", proc_root, pid) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0 || hz > 1000000000L)
		return -EINVAL;
	tick_ns = 1000000000ull / (uint64_t)hz;

	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	scratch = malloc(SCRATCH_SIZE);
	if (!scratch) {
		close(dfd);
		return -ENOMEM;
	}

	/* stat is the one piece we cannot do without. */
	n = read_at(dfd, "stat", scratch, SCRATCH_SIZE - 1, NULL);
	if (n < 0) {
		err = (int)n;
		goto out;
	}
	err = shk_procfs_parse_stat(scratch, (size_t)n, &parsed);
	if (!err && parsed.tgid != pid)
		err = -EINVAL; /* not the process we asked about */
	if (err)
		goto out;
	if (__builtin_mul_overflow(parsed.start_ticks, tick_ns, &parsed.start_ns)) {
		err = -EINVAL;
		goto out;
	}

	/* From here on, nothing fails: only the caller's struct is written. */
	memset(ret, 0, sizeof(*ret));
	ret->tgid = parsed.tgid;
	ret->ppid = parsed.ppid;
	ret->vpid = parsed.tgid;
	ret->state = parsed.state;
	ret->is_kthread = parsed.is_kthread;
	ret->tty_nr = parsed.tty_nr;
	ret->sid = parsed.sid;
	ret->flags = parsed.flags;
	ret->start_ticks = parsed.start_ticks;
	ret->start_ns = parsed.start_ns;
	memcpy(ret->comm, parsed.comm, sizeof(ret->comm));
	ret->uid = ret->gid = ret->euid = ret->egid = SHK_ID_UNKNOWN;
	ret->loginuid = SHK_LOGINUID_UNSET;

	/* One byte spare: the line parsers terminate lines in place. */
	n = read_at(dfd, "status", scratch, SCRATCH_SIZE - 1, &cut);
	if (n > 0)
		parse_status(scratch, (size_t)n, cut, ret);

	n = read_str_at(dfd, "loginuid", scratch, 32);
	if (n > 0) {
		const char *p = scratch;

		if (!parse_u64(&p, 10, &v) && v <= UINT32_MAX &&
		    (*p == '\0' || *p == '\n')) {
			ret->loginuid = (uint32_t)v;
			ret->have |= SHK_PROCFS_HAVE_LOGINUID;
		}
	}

	read_exe(dfd, ret);
	if (!readlink_str_at(dfd, "cwd", ret->cwd, sizeof(ret->cwd)))
		ret->have |= SHK_PROCFS_HAVE_CWD;

	if (read_strings(dfd, "cmdline", ret->args, sizeof(ret->args),
			 &ret->args_len, &cut)) {
		ret->have |= SHK_PROCFS_HAVE_CMDLINE;
		if (cut)
			ret->truncated |= SHK_PROCFS_TRUNC_ARGS;
	}
	/* Unreadable without ptrace access to the process: not an error. */
	if (read_strings(dfd, "environ", ret->env, sizeof(ret->env),
			 &ret->env_len, &cut)) {
		ret->have |= SHK_PROCFS_HAVE_ENVIRON;
		if (cut)
			ret->truncated |= SHK_PROCFS_TRUNC_ENV;
	}

	n = read_at(dfd, "cgroup", scratch, SCRATCH_SIZE - 1, &cut);
	if (n > 0)
		parse_cgroup(scratch, (size_t)n, cut, ret);

	ret->pidns = read_ns(dfd, "pid");
	ret->mntns = read_ns(dfd, "mnt");
	ret->netns = read_ns(dfd, "net");
	if (ret->pidns || ret->mntns || ret->netns)
		ret->have |= SHK_PROCFS_HAVE_NS;

	for (int fd = 0; fd < 3; fd++)
		ret->std_type[fd] = std_fd_type(dfd, proc_root, pid, fd);
	err = 0;
out:
	free(scratch);
	close(dfd);
	return err;
}

/* A pid directory name: digits only, no leading zero, fits an int. */
static int parse_pid_name(const char *name)
{
	const char *p = name;
	uint64_t v;

	if (name[0] < '1' || name[0] > '9')
		return -1;
	if (parse_u64(&p, 10, &v) || *p || v > INT_MAX)
		return -1;
	return (int)v;
}

int shk_procfs_for_each_pid(const char *proc_root,
			    int (*cb)(int pid, void *ctx), void *ctx)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (!cb)
		return -EINVAL;
	d = opendir(proc_root ? proc_root : SHK_PROCFS_ROOT);
	if (!d)
		return -errno;
	for (;;) {
		int pid;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				ret = -errno;
			break;
		}
		pid = parse_pid_name(de->d_name);
		if (pid <= 0)
			continue;
		ret = cb(pid, ctx);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}
