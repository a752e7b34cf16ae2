/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The field table: every field a condition or an output may name, with its
 * type and argument rules. Conditions are compiled against it once; the
 * evaluator switches on enum shk_field_id and never sees field names.
 *
 * The X-macro list is kept sorted by name (strcmp order) so that
 * shk_field_lookup() can binary-search the table without any run-time
 * initialisation; a unit test checks the order.
 */
#ifndef SHRIKE_FIELDS_H
#define SHRIKE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum shk_ftype {
	SHK_FT_STRING,	/* text (charbuf) */
	SHK_FT_BYTEBUF, /* binary data (b* operators compare bytes) */
	SHK_FT_UINT64,
	SHK_FT_INT64,
	SHK_FT_BOOL,	/* compared with true / false */
	SHK_FT_IPADDR,	/* compared with an IPv4/IPv6 address */
	SHK_FT_IPNET,	/* an address compared with a CIDR network */
	SHK_FT_PORT,	/* 0..65535 */
	SHK_FT_RELTIME, /* a duration in nanoseconds */
	SHK_FT_ABSTIME, /* nanoseconds since the epoch */
	SHK_FT_STRLIST, /* a list of strings (in / intersects) */
	SHK_FT_DYN,	/* evt.arg.*: the type depends on the event; any operator */
	SHK_FT__COUNT,
};

/* Field flags. */
#define SHK_FF_ARG_INDEX (1u << 0)    /* takes [N] */
#define SHK_FF_ARG_KEY (1u << 1)      /* takes [name] */
#define SHK_FF_ARG_DOT (1u << 2)      /* takes .name (evt.arg.flags) */
#define SHK_FF_ARG_REQUIRED (1u << 3) /* an argument is mandatory */
#define SHK_FF_EVTYPE (1u << 4)	      /* values are event type names */

/* X(ident, name, type, flags, description), sorted by name. */
#define SHK_FIELDS(X) \
	X(CONTAINER_CNI_JSON, "container.cni.json", SHK_FT_STRING, 0, \
	  "the container's CNI result, as JSON") \
	X(CONTAINER_DURATION, "container.duration", SHK_FT_RELTIME, 0, \
	  "nanoseconds since the container started") \
	X(CONTAINER_FULL_ID, "container.full_id", SHK_FT_STRING, 0, \
	  "the full container id") \
	X(CONTAINER_HEALTHCHECK, "container.healthcheck", SHK_FT_STRING, 0, \
	  "the container's health check command") \
	X(CONTAINER_HOST_IPC, "container.host_ipc", SHK_FT_BOOL, 0, \
	  "true if the container shares the host IPC namespace") \
	X(CONTAINER_HOST_NETWORK, "container.host_network", SHK_FT_BOOL, 0, \
	  "true if the container shares the host network namespace") \
	X(CONTAINER_HOST_PID, "container.host_pid", SHK_FT_BOOL, 0, \
	  "true if the container shares the host PID namespace") \
	X(CONTAINER_ID, "container.id", SHK_FT_STRING, 0, \
	  "the container id (12 characters), \"host\" outside containers") \
	X(CONTAINER_IMAGE, "container.image", SHK_FT_STRING, 0, \
	  "the container image name") \
	X(CONTAINER_IMAGE_DIGEST, "container.image.digest", SHK_FT_STRING, 0, \
	  "the container image digest") \
	X(CONTAINER_IMAGE_ID, "container.image.id", SHK_FT_STRING, 0, \
	  "the container image id") \
	X(CONTAINER_IMAGE_REPOSITORY, "container.image.repository", SHK_FT_STRING, 0, \
	  "the container image repository") \
	X(CONTAINER_IMAGE_TAG, "container.image.tag", SHK_FT_STRING, 0, \
	  "the container image tag") \
	X(CONTAINER_IP, "container.ip", SHK_FT_STRING, 0, \
	  "the container's primary IP address") \
	X(CONTAINER_LIVENESS_PROBE, "container.liveness_probe", SHK_FT_STRING, 0, \
	  "the container's liveness probe command") \
	X(CONTAINER_MOUNT, "container.mount", SHK_FT_STRING, SHK_FF_ARG_INDEX | SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "a mount, by index or by source path (glob), as source:dest:mode:rdwr:propagation") \
	X(CONTAINER_MOUNT_DEST, "container.mount.dest", SHK_FT_STRING, SHK_FF_ARG_INDEX | SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "mount destination, by index or by source path (glob)") \
	X(CONTAINER_MOUNT_MODE, "container.mount.mode", SHK_FT_STRING, SHK_FF_ARG_INDEX | SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "mount mode, by index or by source path (glob)") \
	X(CONTAINER_MOUNT_PROPAGATION, "container.mount.propagation", SHK_FT_STRING, SHK_FF_ARG_INDEX | SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "mount propagation, by index or by source path (glob)") \
	X(CONTAINER_MOUNT_RDWR, "container.mount.rdwr", SHK_FT_STRING, SHK_FF_ARG_INDEX | SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "mount read/write flag, by index or by source path (glob)") \
	X(CONTAINER_MOUNT_SOURCE, "container.mount.source", SHK_FT_STRING, SHK_FF_ARG_INDEX | SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "mount source, by index or by destination path (glob)") \
	X(CONTAINER_MOUNTS, "container.mounts", SHK_FT_STRING, 0, \
	  "all container mounts, as source:dest:mode:rdwr:propagation, comma separated") \
	X(CONTAINER_NAME, "container.name", SHK_FT_STRING, 0, \
	  "the container name") \
	X(CONTAINER_PRIVILEGED, "container.privileged", SHK_FT_BOOL, 0, \
	  "true if the container runs privileged") \
	X(CONTAINER_READINESS_PROBE, "container.readiness_probe", SHK_FT_STRING, 0, \
	  "the container's readiness probe command") \
	X(CONTAINER_START_TS, "container.start_ts", SHK_FT_ABSTIME, 0, \
	  "container start time, nanoseconds since the epoch") \
	X(CONTAINER_TYPE, "container.type", SHK_FT_STRING, 0, \
	  "the container runtime type (docker, cri-o, containerd, podman, ...)") \
	X(EVT_ARG, "evt.arg", SHK_FT_DYN, SHK_FF_ARG_INDEX | SHK_FF_ARG_DOT | SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "one event argument, by name (evt.arg.NAME) or index (evt.arg[N]), formatted as text") \
	X(EVT_ARGS, "evt.args", SHK_FT_STRING, 0, \
	  "all event arguments, formatted as text") \
	X(EVT_BUFFER, "evt.buffer", SHK_FT_BYTEBUF, 0, \
	  "the data buffer of I/O events") \
	X(EVT_CATEGORY, "evt.category", SHK_FT_STRING, 0, \
	  "the event category (file, net, process, ...)") \
	X(EVT_CPU, "evt.cpu", SHK_FT_UINT64, 0, \
	  "the CPU the event happened on") \
	X(EVT_DATETIME, "evt.datetime", SHK_FT_STRING, 0, \
	  "event time as YYYY-MM-DD HH:MM:SS.nanoseconds") \
	X(EVT_DELTATIME, "evt.deltatime", SHK_FT_RELTIME, 0, \
	  "nanoseconds since the previous event") \
	X(EVT_DIR, "evt.dir", SHK_FT_STRING, 0, \
	  "event direction: '>' enter, '<' exit") \
	X(EVT_FAILED, "evt.failed", SHK_FT_BOOL, 0, \
	  "true if the syscall returned an error") \
	X(EVT_HOSTNAME, "evt.hostname", SHK_FT_STRING, 0, \
	  "the host name") \
	X(EVT_INFO, "evt.info", SHK_FT_STRING, 0, \
	  "event arguments, or a description for some events") \
	X(EVT_IS_ASYNC, "evt.is_async", SHK_FT_BOOL, 0, \
	  "true for asynchronous (not syscall) events") \
	X(EVT_IS_OPEN_CREATE, "evt.is_open_create", SHK_FT_BOOL, 0, \
	  "true for an open that created the file") \
	X(EVT_IS_OPEN_EXEC, "evt.is_open_exec", SHK_FT_BOOL, 0, \
	  "true for an open with execute permission") \
	X(EVT_IS_OPEN_READ, "evt.is_open_read", SHK_FT_BOOL, 0, \
	  "true for an open with read permission") \
	X(EVT_IS_OPEN_WRITE, "evt.is_open_write", SHK_FT_BOOL, 0, \
	  "true for an open with write permission") \
	X(EVT_LATENCY, "evt.latency", SHK_FT_RELTIME, 0, \
	  "syscall latency in nanoseconds") \
	X(EVT_NUM, "evt.num", SHK_FT_UINT64, 0, \
	  "the event sequence number") \
	X(EVT_RAWARG, "evt.rawarg", SHK_FT_DYN, SHK_FF_ARG_INDEX | SHK_FF_ARG_DOT | SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "one event argument, by name or index, unformatted") \
	X(EVT_RAWRES, "evt.rawres", SHK_FT_INT64, 0, \
	  "the syscall return value, as a number") \
	X(EVT_RAWTIME, "evt.rawtime", SHK_FT_ABSTIME, 0, \
	  "event time, nanoseconds since the epoch") \
	X(EVT_RES, "evt.res", SHK_FT_STRING, 0, \
	  "the syscall result: SUCCESS or an errno name such as ENOENT") \
	X(EVT_SOURCE, "evt.source", SHK_FT_STRING, 0, \
	  "the event source (syscall)") \
	X(EVT_TIME, "evt.time", SHK_FT_STRING, 0, \
	  "event time as HH:MM:SS.nanoseconds") \
	X(EVT_TIME_ISO8601, "evt.time.iso8601", SHK_FT_STRING, 0, \
	  "event time in ISO 8601 format") \
	X(EVT_TIME_S, "evt.time.s", SHK_FT_STRING, 0, \
	  "event time as HH:MM:SS") \
	X(EVT_TYPE, "evt.type", SHK_FT_STRING, SHK_FF_EVTYPE, \
	  "the event type: the syscall name, or procexit, container, ...") \
	X(FD_CIP, "fd.cip", SHK_FT_IPADDR, 0, \
	  "client IP address") \
	X(FD_CIP_NAME, "fd.cip.name", SHK_FT_STRING, 0, \
	  "client domain name") \
	X(FD_CNET, "fd.cnet", SHK_FT_IPNET, 0, \
	  "client IP network (compare with a CIDR)") \
	X(FD_CONNECTED, "fd.connected", SHK_FT_BOOL, 0, \
	  "true if the socket is connected") \
	X(FD_CONTAINERDIRECTORY, "fd.containerdirectory", SHK_FT_STRING, 0, \
	  "fd.directory prefixed with the container id") \
	X(FD_CONTAINERNAME, "fd.containername", SHK_FT_STRING, 0, \
	  "fd.name prefixed with the container id") \
	X(FD_CPORT, "fd.cport", SHK_FT_PORT, 0, \
	  "client TCP/UDP port") \
	X(FD_CPROTO, "fd.cproto", SHK_FT_STRING, 0, \
	  "client protocol name") \
	X(FD_DEV, "fd.dev", SHK_FT_UINT64, 0, \
	  "device number of the file") \
	X(FD_DEV_MAJOR, "fd.dev.major", SHK_FT_UINT64, 0, \
	  "device major number of the file") \
	X(FD_DEV_MINOR, "fd.dev.minor", SHK_FT_UINT64, 0, \
	  "device minor number of the file") \
	X(FD_DIRECTORY, "fd.directory", SHK_FT_STRING, 0, \
	  "the directory of the file") \
	X(FD_FILENAME, "fd.filename", SHK_FT_STRING, 0, \
	  "the file name without the directory") \
	X(FD_INO, "fd.ino", SHK_FT_UINT64, 0, \
	  "inode number of the file") \
	X(FD_IP, "fd.ip", SHK_FT_IPADDR, 0, \
	  "matches either the client or the server IP address") \
	X(FD_IS_SERVER, "fd.is_server", SHK_FT_BOOL, 0, \
	  "true if the process owns the server side of the socket") \
	X(FD_L4PROTO, "fd.l4proto", SHK_FT_STRING, 0, \
	  "layer 4 protocol: tcp, udp, icmp, raw") \
	X(FD_LIP, "fd.lip", SHK_FT_IPADDR, 0, \
	  "local IP address") \
	X(FD_LIP_NAME, "fd.lip.name", SHK_FT_STRING, 0, \
	  "local domain name") \
	X(FD_LNET, "fd.lnet", SHK_FT_IPNET, 0, \
	  "local IP network (compare with a CIDR)") \
	X(FD_LPORT, "fd.lport", SHK_FT_PORT, 0, \
	  "local TCP/UDP port") \
	X(FD_LPROTO, "fd.lproto", SHK_FT_STRING, 0, \
	  "local protocol name") \
	X(FD_NAME, "fd.name", SHK_FT_STRING, 0, \
	  "the fd's full name: the absolute path, or the connection tuple") \
	X(FD_NAME_CHANGED, "fd.name_changed", SHK_FT_BOOL, 0, \
	  "true if the fd's name changed (rename, connect, ...)") \
	X(FD_NAMERAW, "fd.nameraw", SHK_FT_STRING, 0, \
	  "the fd name as passed to the syscall, not normalised") \
	X(FD_NET, "fd.net", SHK_FT_IPNET, 0, \
	  "matches either the client or the server network (compare with a CIDR)") \
	X(FD_NUM, "fd.num", SHK_FT_INT64, 0, \
	  "the fd number") \
	X(FD_PORT, "fd.port", SHK_FT_PORT, 0, \
	  "matches either the client or the server port") \
	X(FD_PROTO, "fd.proto", SHK_FT_STRING, 0, \
	  "matches either the client or the server protocol name") \
	X(FD_RIP, "fd.rip", SHK_FT_IPADDR, 0, \
	  "remote IP address") \
	X(FD_RIP_NAME, "fd.rip.name", SHK_FT_STRING, 0, \
	  "remote domain name") \
	X(FD_RNET, "fd.rnet", SHK_FT_IPNET, 0, \
	  "remote IP network (compare with a CIDR)") \
	X(FD_RPORT, "fd.rport", SHK_FT_PORT, 0, \
	  "remote TCP/UDP port") \
	X(FD_RPROTO, "fd.rproto", SHK_FT_STRING, 0, \
	  "remote protocol name") \
	X(FD_SIP, "fd.sip", SHK_FT_IPADDR, 0, \
	  "server IP address") \
	X(FD_SIP_NAME, "fd.sip.name", SHK_FT_STRING, 0, \
	  "server domain name") \
	X(FD_SNET, "fd.snet", SHK_FT_IPNET, 0, \
	  "server IP network (compare with a CIDR)") \
	X(FD_SOCKFAMILY, "fd.sockfamily", SHK_FT_STRING, 0, \
	  "socket family: ip or unix") \
	X(FD_SPORT, "fd.sport", SHK_FT_PORT, 0, \
	  "server TCP/UDP port") \
	X(FD_SPROTO, "fd.sproto", SHK_FT_STRING, 0, \
	  "server protocol name") \
	X(FD_TYPE, "fd.type", SHK_FT_STRING, 0, \
	  "fd type: file, directory, ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify, timerfd, netlink, bpf, userfaultfd, io_uring, memfd") \
	X(FD_TYPECHAR, "fd.typechar", SHK_FT_STRING, 0, \
	  "fd type as one character: f 4 6 u p e s l i t n b") \
	X(FD_TYPES, "fd.types", SHK_FT_STRLIST, 0, \
	  "the types of all fds the process has open") \
	X(FD_UID, "fd.uid", SHK_FT_STRING, 0, \
	  "a unique fd identifier (thread id and fd number)") \
	X(FS_PATH_NAME, "fs.path.name", SHK_FT_STRING, 0, \
	  "the path a filesystem syscall acts on, absolute") \
	X(FS_PATH_NAMERAW, "fs.path.nameraw", SHK_FT_STRING, 0, \
	  "the path a filesystem syscall acts on, as passed") \
	X(FS_PATH_SOURCE, "fs.path.source", SHK_FT_STRING, 0, \
	  "the source path of a link, rename or mount, absolute") \
	X(FS_PATH_SOURCERAW, "fs.path.sourceraw", SHK_FT_STRING, 0, \
	  "the source path, as passed") \
	X(FS_PATH_TARGET, "fs.path.target", SHK_FT_STRING, 0, \
	  "the target path of a link, rename or mount, absolute") \
	X(FS_PATH_TARGETRAW, "fs.path.targetraw", SHK_FT_STRING, 0, \
	  "the target path, as passed") \
	X(GROUP_GID, "group.gid", SHK_FT_UINT64, 0, \
	  "the group id") \
	X(GROUP_NAME, "group.name", SHK_FT_STRING, 0, \
	  "the group name") \
	X(K8S_NS_NAME, "k8s.ns.name", SHK_FT_STRING, 0, \
	  "the Kubernetes namespace") \
	X(K8S_POD_CNI_JSON, "k8s.pod.cni.json", SHK_FT_STRING, 0, \
	  "the pod's CNI result, as JSON") \
	X(K8S_POD_FULL_SANDBOX_ID, "k8s.pod.full_sandbox_id", SHK_FT_STRING, 0, \
	  "the pod's full sandbox id") \
	X(K8S_POD_ID, "k8s.pod.id", SHK_FT_STRING, 0, \
	  "the pod's uid (legacy name)") \
	X(K8S_POD_IP, "k8s.pod.ip", SHK_FT_STRING, 0, \
	  "the pod's IP address") \
	X(K8S_POD_LABEL, "k8s.pod.label", SHK_FT_STRING, SHK_FF_ARG_KEY | SHK_FF_ARG_REQUIRED, \
	  "one pod label, by key") \
	X(K8S_POD_LABELS, "k8s.pod.labels", SHK_FT_STRLIST, 0, \
	  "all pod labels, as key:value") \
	X(K8S_POD_NAME, "k8s.pod.name", SHK_FT_STRING, 0, \
	  "the pod name") \
	X(K8S_POD_SANDBOX_ID, "k8s.pod.sandbox_id", SHK_FT_STRING, 0, \
	  "the pod's sandbox id (12 characters)") \
	X(K8S_POD_UID, "k8s.pod.uid", SHK_FT_STRING, 0, \
	  "the pod's uid") \
	X(PROC_ACMDLINE, "proc.acmdline", SHK_FT_STRING, SHK_FF_ARG_INDEX, \
	  "command line of an ancestor; [0] is the process itself") \
	X(PROC_AEXE, "proc.aexe", SHK_FT_STRING, SHK_FF_ARG_INDEX, \
	  "argv[0] of an ancestor; [0] is the process itself") \
	X(PROC_AEXEPATH, "proc.aexepath", SHK_FT_STRING, SHK_FF_ARG_INDEX, \
	  "executable path of an ancestor; [0] is the process itself") \
	X(PROC_ANAME, "proc.aname", SHK_FT_STRING, SHK_FF_ARG_INDEX, \
	  "name of an ancestor ([1] parent, [2] grandparent, ...); without an index, matches any ancestor") \
	X(PROC_APID, "proc.apid", SHK_FT_INT64, SHK_FF_ARG_INDEX, \
	  "pid of an ancestor; [0] is the process itself") \
	X(PROC_ARGS, "proc.args", SHK_FT_STRING, 0, \
	  "the command line arguments, without the program name") \
	X(PROC_CMDLENARGS, "proc.cmdlenargs", SHK_FT_UINT64, 0, \
	  "total length of the command line arguments") \
	X(PROC_CMDLINE, "proc.cmdline", SHK_FT_STRING, 0, \
	  "name and arguments, as in ps") \
	X(PROC_CMDNARGS, "proc.cmdnargs", SHK_FT_UINT64, 0, \
	  "number of command line arguments") \
	X(PROC_CWD, "proc.cwd", SHK_FT_STRING, 0, \
	  "the current working directory") \
	X(PROC_DURATION, "proc.duration", SHK_FT_RELTIME, 0, \
	  "nanoseconds since the process started") \
	X(PROC_ENV, "proc.env", SHK_FT_STRING, SHK_FF_ARG_KEY, \
	  "the environment, or one variable by name (proc.env[NAME])") \
	X(PROC_EXE, "proc.exe", SHK_FT_STRING, 0, \
	  "argv[0] as passed to execve") \
	X(PROC_EXE_INO, "proc.exe_ino", SHK_FT_UINT64, 0, \
	  "inode number of the executable") \
	X(PROC_EXE_INO_CTIME, "proc.exe_ino.ctime", SHK_FT_ABSTIME, 0, \
	  "ctime of the executable's inode") \
	X(PROC_EXE_INO_CTIME_DURATION_PIDNS_START, "proc.exe_ino.ctime_duration_pidns_start", SHK_FT_RELTIME, 0, \
	  "nanoseconds between the pid namespace's start and the executable's ctime") \
	X(PROC_EXE_INO_CTIME_DURATION_PROC_START, "proc.exe_ino.ctime_duration_proc_start", SHK_FT_RELTIME, 0, \
	  "nanoseconds between the executable's ctime and the process start") \
	X(PROC_EXE_INO_MTIME, "proc.exe_ino.mtime", SHK_FT_ABSTIME, 0, \
	  "mtime of the executable's inode") \
	X(PROC_EXELINE, "proc.exeline", SHK_FT_STRING, 0, \
	  "argv[0] and the arguments") \
	X(PROC_EXEPATH, "proc.exepath", SHK_FT_STRING, 0, \
	  "the full path of the executable") \
	X(PROC_FDOPENCOUNT, "proc.fdopencount", SHK_FT_UINT64, 0, \
	  "number of open fds") \
	X(PROC_IS_CONTAINER_HEALTHCHECK, "proc.is_container_healthcheck", SHK_FT_BOOL, 0, \
	  "true if the process runs a container health check") \
	X(PROC_IS_CONTAINER_LIVENESS_PROBE, "proc.is_container_liveness_probe", SHK_FT_BOOL, 0, \
	  "true if the process runs a liveness probe") \
	X(PROC_IS_CONTAINER_READINESS_PROBE, "proc.is_container_readiness_probe", SHK_FT_BOOL, 0, \
	  "true if the process runs a readiness probe") \
	X(PROC_IS_EXE_FROM_MEMFD, "proc.is_exe_from_memfd", SHK_FT_BOOL, 0, \
	  "true if the executable is a memfd (fileless execution)") \
	X(PROC_IS_EXE_LOWER_LAYER, "proc.is_exe_lower_layer", SHK_FT_BOOL, 0, \
	  "true if the executable is on an overlayfs lower layer") \
	X(PROC_IS_EXE_UPPER_LAYER, "proc.is_exe_upper_layer", SHK_FT_BOOL, 0, \
	  "true if the executable is on an overlayfs upper layer (written in the container)") \
	X(PROC_IS_EXE_WRITABLE, "proc.is_exe_writable", SHK_FT_BOOL, 0, \
	  "true if the executable is writable by the process") \
	X(PROC_IS_SID_LEADER, "proc.is_sid_leader", SHK_FT_BOOL, 0, \
	  "true if the process is its session leader") \
	X(PROC_IS_VPGID_LEADER, "proc.is_vpgid_leader", SHK_FT_BOOL, 0, \
	  "true if the process is its process group leader") \
	X(PROC_LOGINSHELLID, "proc.loginshellid", SHK_FT_INT64, 0, \
	  "pid of the oldest shell ancestor") \
	X(PROC_NAME, "proc.name", SHK_FT_STRING, 0, \
	  "the process name (comm, or the executable's base name)") \
	X(PROC_NCHILDS, "proc.nchilds", SHK_FT_UINT64, 0, \
	  "number of children") \
	X(PROC_NTHREADS, "proc.nthreads", SHK_FT_UINT64, 0, \
	  "number of threads") \
	X(PROC_PCMDLINE, "proc.pcmdline", SHK_FT_STRING, 0, \
	  "the parent's command line") \
	X(PROC_PEXE, "proc.pexe", SHK_FT_STRING, 0, \
	  "the parent's argv[0]") \
	X(PROC_PEXEPATH, "proc.pexepath", SHK_FT_STRING, 0, \
	  "the parent's executable path") \
	X(PROC_PID, "proc.pid", SHK_FT_INT64, 0, \
	  "the process id") \
	X(PROC_PID_TS, "proc.pid.ts", SHK_FT_ABSTIME, 0, \
	  "process start time, nanoseconds since the epoch") \
	X(PROC_PNAME, "proc.pname", SHK_FT_STRING, 0, \
	  "the parent's name") \
	X(PROC_PPID, "proc.ppid", SHK_FT_INT64, 0, \
	  "the parent's process id") \
	X(PROC_PPID_DURATION, "proc.ppid.duration", SHK_FT_RELTIME, 0, \
	  "nanoseconds since the parent started") \
	X(PROC_PPID_TS, "proc.ppid.ts", SHK_FT_ABSTIME, 0, \
	  "parent start time, nanoseconds since the epoch") \
	X(PROC_PVPID, "proc.pvpid", SHK_FT_INT64, 0, \
	  "the parent's pid in its pid namespace") \
	X(PROC_SID, "proc.sid", SHK_FT_INT64, 0, \
	  "the session id") \
	X(PROC_SID_EXE, "proc.sid.exe", SHK_FT_STRING, 0, \
	  "argv[0] of the session leader") \
	X(PROC_SID_EXEPATH, "proc.sid.exepath", SHK_FT_STRING, 0, \
	  "executable path of the session leader") \
	X(PROC_SNAME, "proc.sname", SHK_FT_STRING, 0, \
	  "name of the session leader") \
	X(PROC_STDERR_NAME, "proc.stderr.name", SHK_FT_STRING, 0, \
	  "name of fd 2 (a path, a connection tuple, ...)") \
	X(PROC_STDERR_TYPE, "proc.stderr.type", SHK_FT_STRING, 0, \
	  "type of fd 2 (file, ipv4, ipv6, unix, pipe, ...)") \
	X(PROC_STDIN_NAME, "proc.stdin.name", SHK_FT_STRING, 0, \
	  "name of fd 0") \
	X(PROC_STDIN_TYPE, "proc.stdin.type", SHK_FT_STRING, 0, \
	  "type of fd 0") \
	X(PROC_STDOUT_NAME, "proc.stdout.name", SHK_FT_STRING, 0, \
	  "name of fd 1") \
	X(PROC_STDOUT_TYPE, "proc.stdout.type", SHK_FT_STRING, 0, \
	  "type of fd 1") \
	X(PROC_TTY, "proc.tty", SHK_FT_INT64, 0, \
	  "the controlling terminal (0 if none)") \
	X(PROC_VMRSS, "proc.vmrss", SHK_FT_UINT64, 0, \
	  "resident memory, KiB") \
	X(PROC_VMSIZE, "proc.vmsize", SHK_FT_UINT64, 0, \
	  "virtual memory, KiB") \
	X(PROC_VMSWAP, "proc.vmswap", SHK_FT_UINT64, 0, \
	  "swapped memory, KiB") \
	X(PROC_VPGID, "proc.vpgid", SHK_FT_INT64, 0, \
	  "the process group id in its pid namespace") \
	X(PROC_VPGID_EXE, "proc.vpgid.exe", SHK_FT_STRING, 0, \
	  "argv[0] of the process group leader") \
	X(PROC_VPGID_EXEPATH, "proc.vpgid.exepath", SHK_FT_STRING, 0, \
	  "executable path of the process group leader") \
	X(PROC_VPGID_NAME, "proc.vpgid.name", SHK_FT_STRING, 0, \
	  "name of the process group leader") \
	X(PROC_VPID, "proc.vpid", SHK_FT_INT64, 0, \
	  "the pid in the process's pid namespace") \
	X(SYSCALL_TYPE, "syscall.type", SHK_FT_STRING, SHK_FF_EVTYPE, \
	  "the syscall name (evt.type for syscall events)") \
	X(THREAD_CAP_EFFECTIVE, "thread.cap_effective", SHK_FT_STRING, 0, \
	  "effective capabilities, as CAP_ names separated by spaces") \
	X(THREAD_CAP_INHERITABLE, "thread.cap_inheritable", SHK_FT_STRING, 0, \
	  "inheritable capabilities") \
	X(THREAD_CAP_PERMITTED, "thread.cap_permitted", SHK_FT_STRING, 0, \
	  "permitted capabilities") \
	X(THREAD_EXECTIME, "thread.exectime", SHK_FT_RELTIME, 0, \
	  "CPU time of the last scheduled run") \
	X(THREAD_ISMAIN, "thread.ismain", SHK_FT_BOOL, 0, \
	  "true for the main thread") \
	X(THREAD_TID, "thread.tid", SHK_FT_INT64, 0, \
	  "the thread id") \
	X(THREAD_TOTEXECTIME, "thread.totexectime", SHK_FT_RELTIME, 0, \
	  "total CPU time of the thread") \
	X(THREAD_VTID, "thread.vtid", SHK_FT_INT64, 0, \
	  "the thread id in its pid namespace") \
	X(USER_HOMEDIR, "user.homedir", SHK_FT_STRING, 0, \
	  "the user's home directory") \
	X(USER_LOGINNAME, "user.loginname", SHK_FT_STRING, 0, \
	  "the login (audit) user's name") \
	X(USER_LOGINUID, "user.loginuid", SHK_FT_INT64, 0, \
	  "the login (audit) uid; -1 if unset") \
	X(USER_NAME, "user.name", SHK_FT_STRING, 0, \
	  "the user name") \
	X(USER_SHELL, "user.shell", SHK_FT_STRING, 0, \
	  "the user's shell") \
	X(USER_UID, "user.uid", SHK_FT_UINT64, 0, \
	  "the user id")

enum shk_field_id {
#define SHK_FIELD_ENUM(id, name, type, flags, desc) SHK_FIELD_##id,
	SHK_FIELDS(SHK_FIELD_ENUM)
#undef SHK_FIELD_ENUM
	SHK_FIELD__COUNT,
};

struct shk_field {
	enum shk_field_id id;
	enum shk_ftype type;
	const char *name;
	const char *desc;
	uint32_t flags;
};

/* Exact lookup by name (no argument part). NULL if unknown. */
const struct shk_field *shk_field_lookup(const char *name, size_t len);

/* Lookup of a condition's field token: an exact name, or NAME.arg for
 * fields that take a dotted argument (evt.arg.flags). On success
 * ret_arg and ret_arg_len point at the dotted argument inside name (NULL/0
 * when there is none). */
const struct shk_field *shk_field_resolve(const char *name, size_t len,
					  const char **ret_arg,
					  size_t *ret_arg_len);

/* The whole table, sorted by name, for `shrike fields`. */
const struct shk_field *shk_fields(size_t *ret_count);
const struct shk_field *shk_field_by_id(enum shk_field_id id);

const char *shk_ftype_name(enum shk_ftype type);

#endif /* SHRIKE_FIELDS_H */
