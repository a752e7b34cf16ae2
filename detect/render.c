/* SPDX-License-Identifier: Apache-2.0 */
#include "render.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct flag_name {
	uint64_t bit;
	const char *name;
};

/* Append "name" with '|' separators; out always stays terminated (cut
 * at outsz). No snprintf: this runs for every rendered flag set. */
static void append(char *out, size_t outsz, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (!outsz || *len >= outsz - 1)
		return;
	if (*len) {
		out[(*len)++] = '|';
		if (*len >= outsz - 1) {
			out[outsz - 1] = '\0';
			return;
		}
	}
	if (n > outsz - 1 - *len)
		n = outsz - 1 - *len;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

static const char *render_flags(uint64_t v, const struct flag_name *t, size_t n, const char *zero,
				char *out, size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if ((v & t[i].bit) == t[i].bit && t[i].bit) {
			append(out, outsz, &len, t[i].name);
			v &= ~t[i].bit;
		}
	}
	if (v) {
		char hex[24];

		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)v);
		append(out, outsz, &len, hex);
	}
	if (!len && zero)
		snprintf(out, outsz, "%s", zero);
	return out;
}

static const char *render_enum(uint64_t v, const char *const *names, size_t n, char *out, size_t outsz)
{
	size_t len = 0;

	if (v < n && names[v]) {
		if (outsz)
			out[0] = '\0';
		append(out, outsz, &len, names[v]);
	} else
		snprintf(out, outsz, "%llu", (unsigned long long)v);
	return out;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *shk_render_errno(int64_t ret, char *out, size_t outsz)
{
	const char *name = ret < 0 && ret > -4096 ? strerrorname_np((int)-ret) : NULL;

	if (name)
		snprintf(out, outsz, "%s", name);
	else
		snprintf(out, outsz, "%lld", (long long)ret);
	return out;
}

const char *shk_render_res(int64_t ret, char *out, size_t outsz)
{
	if (ret >= 0) {
		snprintf(out, outsz, "SUCCESS");
		return out;
	}
	return shk_render_errno(ret, out, outsz);
}

const char *shk_render_open_flags(uint64_t flags, char *out, size_t outsz)
{
	static const struct flag_name t[] = {
		{ O_WRONLY, "O_WRONLY" },     { O_RDWR, "O_RDWR" },
		{ O_CREAT, "O_CREAT" },       { O_EXCL, "O_EXCL" },
		{ O_NOCTTY, "O_NOCTTY" },     { O_TRUNC, "O_TRUNC" },
		{ O_APPEND, "O_APPEND" },     { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" },       { O_ASYNC, "O_ASYNC" },
		{ O_DIRECT, "O_DIRECT" },     { O_LARGEFILE, "O_LARGEFILE" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		{ O_NOATIME, "O_NOATIME" },   { O_CLOEXEC, "O_CLOEXEC" },
		{ O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE" }, { O_PATH, "O_PATH" },
		{ O_SYNC & ~O_DSYNC, "O_SYNC" },
	};
	size_t len = 0;

	out[0] = '\0';
	/* O_RDONLY is 0: Falco prints it when neither write bit is set. */
	if (!(flags & (O_WRONLY | O_RDWR)))
		append(out, outsz, &len, "O_RDONLY");
	if (flags) {
		char rest[256];

		render_flags(flags, t, N(t), NULL, rest, sizeof(rest));
		if (rest[0])
			append(out, outsz, &len, rest);
	}
	return out;
}

const char *shk_render_mode(uint64_t mode, char *out, size_t outsz)
{
	snprintf(out, outsz, "%#llo", (unsigned long long)(mode & 07777));
	return out;
}

const char *shk_render_ptrace_req(uint64_t req, char *out, size_t outsz)
{
	static const char *const names[] = {
		[0] = "PTRACE_TRACEME",	  [1] = "PTRACE_PEEKTEXT",  [2] = "PTRACE_PEEKDATA",
		[3] = "PTRACE_PEEKUSR",	  [4] = "PTRACE_POKETEXT",  [5] = "PTRACE_POKEDATA",
		[6] = "PTRACE_POKEUSR",	  [7] = "PTRACE_CONT",	    [8] = "PTRACE_KILL",
		[9] = "PTRACE_SINGLESTEP", [12] = "PTRACE_GETREGS", [13] = "PTRACE_SETREGS",
		[14] = "PTRACE_GETFPREGS", [15] = "PTRACE_SETFPREGS", [16] = "PTRACE_ATTACH",
		[17] = "PTRACE_DETACH",	  [24] = "PTRACE_SYSCALL",
	};
	static const struct { uint64_t v; const char *n; } hi[] = {
		{ 0x4200, "PTRACE_SETOPTIONS" }, { 0x4201, "PTRACE_GETEVENTMSG" },
		{ 0x4202, "PTRACE_GETSIGINFO" }, { 0x4203, "PTRACE_SETSIGINFO" },
		{ 0x4204, "PTRACE_GETREGSET" },	 { 0x4205, "PTRACE_SETREGSET" },
		{ 0x4206, "PTRACE_SEIZE" },	 { 0x4207, "PTRACE_INTERRUPT" },
		{ 0x4208, "PTRACE_LISTEN" },
	};

	for (size_t i = 0; i < N(hi); i++)
		if (hi[i].v == req) {
			snprintf(out, outsz, "%s", hi[i].n);
			return out;
		}
	return render_enum(req, names, N(names), out, outsz);
}

const char *shk_render_domain(uint64_t af, char *out, size_t outsz)
{
	static const char *const names[] = {
		[AF_UNSPEC] = "AF_UNSPEC", [AF_UNIX] = "AF_UNIX",   [AF_INET] = "AF_INET",
		[AF_INET6] = "AF_INET6",   [AF_NETLINK] = "AF_NETLINK", [AF_PACKET] = "AF_PACKET",
		[AF_ALG] = "AF_ALG",	   [AF_VSOCK] = "AF_VSOCK", [AF_XDP] = "AF_XDP",
	};

	return render_enum(af, names, N(names), out, outsz);
}

const char *shk_render_socktype(uint64_t type, char *out, size_t outsz)
{
	static const char *const names[] = {
		[SOCK_STREAM] = "SOCK_STREAM", [SOCK_DGRAM] = "SOCK_DGRAM", [SOCK_RAW] = "SOCK_RAW",
		[SOCK_RDM] = "SOCK_RDM", [SOCK_SEQPACKET] = "SOCK_SEQPACKET", [SOCK_PACKET] = "SOCK_PACKET",
	};
	size_t len;

	render_enum(type & 0xf, names, N(names), out, outsz);
	len = strlen(out);
	if (type & SOCK_NONBLOCK)
		append(out, outsz, &len, "SOCK_NONBLOCK");
	if (type & SOCK_CLOEXEC)
		append(out, outsz, &len, "SOCK_CLOEXEC");
	return out;
}

const char *shk_render_signal(uint64_t sig, char *out, size_t outsz)
{
	const char *abbrev = sig < 65 ? sigabbrev_np((int)sig) : NULL;

	if (abbrev)
		snprintf(out, outsz, "SIG%s", abbrev);
	else
		snprintf(out, outsz, "%llu", (unsigned long long)sig);
	return out;
}

const char *shk_render_caps(uint64_t caps, char *out, size_t outsz)
{
	static const char *const names[] = {
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
		"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
		"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
		"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
		"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
		"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
		"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
		"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
		"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
	};
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < 64; i++) {
		if (!(caps & (1ull << i)))
			continue;
		if (i < N(names)) {
			append(out, outsz, &len, names[i]);
		} else {
			char b[16];

			snprintf(b, sizeof(b), "CAP_%zu", i);
			append(out, outsz, &len, b);
		}
	}
	return out;
}

const char *shk_render_clone_flags(uint64_t flags, char *out, size_t outsz)
{
	static const struct flag_name t[] = {
		{ CLONE_NEWNS, "CLONE_NEWNS" },	    { CLONE_NEWUTS, "CLONE_NEWUTS" },
		{ CLONE_NEWIPC, "CLONE_NEWIPC" },   { CLONE_NEWUSER, "CLONE_NEWUSER" },
		{ CLONE_NEWPID, "CLONE_NEWPID" },   { CLONE_NEWNET, "CLONE_NEWNET" },
		{ CLONE_NEWCGROUP, "CLONE_NEWCGROUP" }, { CLONE_FILES, "CLONE_FILES" },
		{ CLONE_FS, "CLONE_FS" },	    { CLONE_SYSVSEM, "CLONE_SYSVSEM" },
		{ 0x00000080, "CLONE_NEWTIME" },
	};

	return render_flags(flags, t, N(t), "0", out, outsz);
}

const char *shk_render_prctl_opt(uint64_t opt, char *out, size_t outsz)
{
	static const char *const names[] = {
		[1] = "PR_SET_PDEATHSIG", [2] = "PR_GET_PDEATHSIG", [3] = "PR_GET_DUMPABLE",
		[4] = "PR_SET_DUMPABLE", [8] = "PR_SET_KEEPCAPS", [15] = "PR_SET_NAME",
		[16] = "PR_GET_NAME", [22] = "PR_SET_SECCOMP", [23] = "PR_CAPBSET_READ",
		[24] = "PR_CAPBSET_DROP", [36] = "PR_SET_CHILD_SUBREAPER", [38] = "PR_SET_NO_NEW_PRIVS",
		[47] = "PR_CAP_AMBIENT",
	};

	return render_enum(opt, names, N(names), out, outsz);
}

const char *shk_render_bpf_cmd(uint64_t cmd, char *out, size_t outsz)
{
	static const char *const names[] = {
		"BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM", "BPF_MAP_UPDATE_ELEM", "BPF_MAP_DELETE_ELEM",
		"BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_OBJ_PIN", "BPF_OBJ_GET",
		"BPF_PROG_ATTACH", "BPF_PROG_DETACH", "BPF_PROG_TEST_RUN", "BPF_PROG_GET_NEXT_ID",
		"BPF_MAP_GET_NEXT_ID", "BPF_PROG_GET_FD_BY_ID", "BPF_MAP_GET_FD_BY_ID",
		"BPF_OBJ_GET_INFO_BY_FD", "BPF_PROG_QUERY", "BPF_RAW_TRACEPOINT_OPEN", "BPF_BTF_LOAD",
		"BPF_BTF_GET_FD_BY_ID", "BPF_TASK_FD_QUERY", "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
		"BPF_MAP_FREEZE", "BPF_BTF_GET_NEXT_ID", "BPF_MAP_LOOKUP_BATCH",
		"BPF_MAP_LOOKUP_AND_DELETE_BATCH", "BPF_MAP_UPDATE_BATCH", "BPF_MAP_DELETE_BATCH",
		"BPF_LINK_CREATE", "BPF_LINK_UPDATE", "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
		"BPF_ENABLE_STATS", "BPF_ITER_CREATE", "BPF_LINK_DETACH", "BPF_PROG_BIND_MAP",
	};

	return render_enum(cmd, names, N(names), out, outsz);
}

const char *shk_fd_type_name(unsigned type)
{
	static const char *const names[SHK_FD_TYPE_MAX] = {
		[SHK_FD_NONE] = "<NA>",	      [SHK_FD_FILE] = "file",	    [SHK_FD_DIR] = "directory",
		[SHK_FD_IPV4] = "ipv4",	      [SHK_FD_IPV6] = "ipv6",	    [SHK_FD_UNIX] = "unix",
		[SHK_FD_PIPE] = "pipe",	      [SHK_FD_EVENT] = "event",	    [SHK_FD_SIGNALFD] = "signalfd",
		[SHK_FD_EVENTPOLL] = "eventpoll", [SHK_FD_INOTIFY] = "inotify", [SHK_FD_TIMERFD] = "timerfd",
		[SHK_FD_NETLINK] = "netlink", [SHK_FD_BPF] = "bpf",	    [SHK_FD_USERFAULTFD] = "userfaultfd",
		[SHK_FD_IO_URING] = "io_uring", [SHK_FD_MEMFD] = "memfd",   [SHK_FD_SOCK_OTHER] = "socket",
		[SHK_FD_ANON_OTHER] = "anon", [SHK_FD_CHAR] = "file",	    [SHK_FD_BLOCK] = "file",
	};

	return type < SHK_FD_TYPE_MAX && names[type] ? names[type] : "<NA>";
}

char shk_fd_typechar(unsigned type)
{
	/* Falco's scap fd type characters */
	static const char chars[SHK_FD_TYPE_MAX] = {
		[SHK_FD_NONE] = '?',	  [SHK_FD_FILE] = 'f',	     [SHK_FD_DIR] = 'd',
		[SHK_FD_IPV4] = '4',	  [SHK_FD_IPV6] = '6',	     [SHK_FD_UNIX] = 'u',
		[SHK_FD_PIPE] = 'p',	  [SHK_FD_EVENT] = 'e',	     [SHK_FD_SIGNALFD] = 's',
		[SHK_FD_EVENTPOLL] = 'l', [SHK_FD_INOTIFY] = 'i',    [SHK_FD_TIMERFD] = 't',
		[SHK_FD_NETLINK] = 'n',	  [SHK_FD_BPF] = 'b',	     [SHK_FD_USERFAULTFD] = 'u',
		[SHK_FD_IO_URING] = 'r',  [SHK_FD_MEMFD] = 'f',	     [SHK_FD_SOCK_OTHER] = 'o',
		[SHK_FD_ANON_OTHER] = 'o', [SHK_FD_CHAR] = 'f',	     [SHK_FD_BLOCK] = 'f',
	};

	return type < SHK_FD_TYPE_MAX && chars[type] ? chars[type] : '?';
}

const char *shk_render_endpoint(const struct shk_fd *fd, int remote, char *out, size_t outsz)
{
	char ip[INET6_ADDRSTRLEN];
	const uint8_t *a = remote ? fd->raddr : fd->laddr;
	unsigned port = remote ? fd->rport : fd->lport;

	if (fd->type == SHK_FD_IPV6) {
		inet_ntop(AF_INET6, a, ip, sizeof(ip));
		snprintf(out, outsz, "[%s]:%u", ip, port);
	} else {
		inet_ntop(AF_INET, a, ip, sizeof(ip));
		snprintf(out, outsz, "%s:%u", ip, port);
	}
	return out;
}

const char *shk_render_tuple(const struct shk_fd *fd, char *out, size_t outsz)
{
	char l[64], r[64];

	snprintf(out, outsz, "%s->%s", shk_render_endpoint(fd, 0, l, sizeof(l)),
		 shk_render_endpoint(fd, 1, r, sizeof(r)));
	return out;
}
