/* A plugin child as a process, and its printed output as log lines (see plugin_child.h). */
#define _GNU_SOURCE /* pipe2, SOCK_CLOEXEC, the pidfd_open and close_range system calls */

#include "plugin_child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "spgw_limits.h"

/* In the child between fork and exec: async-signal-safe calls only. */
static void child_exec(const char *runner, char *const argv[], const char *workdir, int sock,
		       int out, int null, pid_t parent, int maxfd) __attribute__((noreturn));
static void child_exec(const char *runner, char *const argv[], const char *workdir, int sock,
		       int out, int null, pid_t parent, int maxfd)
{
	static const char msg[] = "spgw: cannot execute spgw-plugin-runner\n";
	static const char nodir[] = "spgw: cannot enter the source's directory\n";
	static const int sigs[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD};
	struct rlimit core = {0, 0};
	sigset_t none;
	int s, o, n, fd;
	size_t i;

	/* its own group, so the host can kill whatever the plugin forks */
	setpgid(0, 0);
	/* die with the host; the check covers a host that died before prctl */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* a crashing plugin leaves no core file: its memory holds the source's secrets. The
	 * memory limit is set by the runner itself, which knows whether it was built with
	 * AddressSanitizer (whose shadow memory cannot live under RLIMIT_AS). */
	setrlimit(RLIMIT_CORE, &core);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	/* out of the way of 0..3 first, whatever numbers they had */
	s = fcntl(sock, F_DUPFD, 10);
	o = fcntl(out, F_DUPFD, 10);
	n = fcntl(null, F_DUPFD, 10);
	if (s < 0 || o < 0 || n < 0 || dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0 ||
	    dup2(s, 3) < 0)
		_exit(127);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 4u, ~0u, 0u))
#endif
		for (fd = 4; fd < maxfd; fd++)
			close(fd);
	/* settings such as a drop directory are written relative to the source file */
	if (workdir && chdir(workdir)) {
		if (write(2, nodir, sizeof(nodir) - 1) < 0)
			_exit(126);
		_exit(126);
	}
	execv(runner, argv);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

enum spgw_rc spgw_child_start(struct spgw_child *ch, const char *runner, const char *name,
			      const char *workdir, struct spgw_error *err)
{
	int sv[2] = {-1, -1}, pp[2] = {-1, -1}, null = -1;
	char *argv[3];
	struct rlimit nofile;
	enum spgw_rc rc = SPGW_OK;
	pid_t parent = getpid();

	memset(ch, 0, sizeof(*ch));
	ch->sock = ch->out = ch->pidfd = -1;
	/* close-on-exec everywhere: a child started by another thread must not inherit them */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe2(pp, O_CLOEXEC) ||
	    (null = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		rc = spgw_error_set(err, SPGW_E_IO, NULL, 0, 0, "cannot start %s: %s", runner,
				    strerror(errno));
		goto out;
	}
	if (getrlimit(RLIMIT_NOFILE, &nofile) || nofile.rlim_cur > (1u << 20))
		nofile.rlim_cur = 1u << 20; /* only without close_range (Linux < 5.9) */
	argv[0] = "spgw-plugin-runner";
	argv[1] = (char *)name;
	argv[2] = NULL;
	ch->pid = fork();
	if (ch->pid == 0)
		child_exec(runner, argv, workdir, sv[1], pp[1], null, parent,
			   (int)nofile.rlim_cur);
	if (ch->pid < 0) {
		rc = spgw_error_set(err, SPGW_E_IO, NULL, 0, 0, "cannot start %s: fork: %s", runner,
				    strerror(errno));
		goto out;
	}
	setpgid(ch->pid, ch->pid); /* here too: a kill may come before the child ran setpgid */
	ch->sock = sv[0];
	ch->out = pp[0];
	sv[0] = pp[0] = -1;
	fcntl(ch->sock, F_SETFL, O_NONBLOCK);
	fcntl(ch->out, F_SETFL, O_NONBLOCK);
#ifdef SYS_pidfd_open
	ch->pidfd = (int)syscall(SYS_pidfd_open, ch->pid, 0);
#endif
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (pp[0] >= 0)
		close(pp[0]);
	if (pp[1] >= 0)
		close(pp[1]);
	if (null >= 0)
		close(null);
	return rc;
}

/* Safe until the child is reaped: its pid, and so its process group, stay ours till then. */
void spgw_child_kill(struct spgw_child *ch)
{
	if (ch->killed)
		return;
	kill(-ch->pid, SIGKILL);
	kill(ch->pid, SIGKILL); /* in case it left its group */
	ch->killed = 1;
}

/* Its zombie still holds the pid, so the group id is still ours: kill what it left behind
 * (a forked helper holding the channel or the pipe open). */
void spgw_child_exited(struct spgw_child *ch)
{
	kill(-ch->pid, SIGKILL);
	ch->exited = 1;
}

void spgw_child_check(struct spgw_child *ch)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	/* WNOWAIT: the zombie must stay until its group is killed and the socket drained */
	if (!waitid(P_PID, (id_t)ch->pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
	    si.si_pid == ch->pid)
		spgw_child_exited(ch);
}

int spgw_child_reap(struct spgw_child *ch)
{
	int st = 0;

	while (waitpid(ch->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (ch->sock >= 0)
		close(ch->sock);
	if (ch->pidfd >= 0)
		close(ch->pidfd);
	ch->sock = ch->pidfd = -1;
	return st;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void spgw_child_log_init(struct spgw_child_log *l,
			 void (*emit)(void *ud, enum spgw_log_level level, const char *line),
			 void *ud)
{
	memset(l, 0, sizeof(*l));
	l->emit = emit;
	l->ud = ud;
	spgw_buf_init(&l->line, SPGW_MAX_LOG_LINE, "plugin output line");
	l->tokens = SPGW_MAX_LOG_RATE;
	l->refill = now_ms();
}

static void report_dropped(struct spgw_child_log *l)
{
	char line[160];

	snprintf(line, sizeof(line), "%lu lines of the plugin's output were dropped: it wrote "
		 "more than %d lines per second", l->dropped, SPGW_MAX_LOG_RATE);
	l->dropped = 0;
	l->emit(l->ud, SPGW_LOG_WARNING, line);
}

static void put_line(struct spgw_child_log *l, enum spgw_log_level level, const char *text,
		     size_t n, int cut)
{
	char line[SPGW_MAX_LOG_LINE + 64];
	long long t = now_ms();
	size_t o;

	if (!l->emit)
		return;
	l->tokens += (double)(t - l->refill) * SPGW_MAX_LOG_RATE / 1000.0;
	if (l->tokens > SPGW_MAX_LOG_RATE)
		l->tokens = SPGW_MAX_LOG_RATE;
	l->refill = t;
	if (l->tokens < 1) {
		l->dropped++;
		return;
	}
	l->tokens -= 1;
	if (l->dropped)
		report_dropped(l);
	if (n > SPGW_MAX_LOG_LINE) {
		n = SPGW_MAX_LOG_LINE;
		cut = 1;
	}
	o = spgw_frame_clean_text(line, SPGW_MAX_LOG_LINE + 1, text, n);
	if (cut)
		snprintf(line + o, sizeof(line) - o, " [cut at %d bytes]", SPGW_MAX_LOG_LINE);
	l->emit(l->ud, level, line);
}

void spgw_child_log_line(struct spgw_child_log *l, enum spgw_log_level level, const char *text,
			 size_t n)
{
	put_line(l, level, text, n, 0);
}

/* Bytes of its stdout/stderr: whole lines, each cut at SPGW_MAX_LOG_LINE. */
static void out_bytes(struct spgw_child_log *l, const char *p, size_t n)
{
	const char *end = p + n, *nl;
	size_t len, room, take;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl ? nl : end) - p);
		if (!l->cut) {
			room = SPGW_MAX_LOG_LINE - l->line.len;
			take = len < room ? len : room;
			if (take && spgw_buf_add(&l->line, p, take, NULL))
				l->cut = 1; /* out of memory: lose this line, not the child */
			if (len > room) {
				put_line(l, SPGW_LOG_INFO, l->line.data, l->line.len, 1);
				l->cut = 1;
			}
		}
		if (!nl)
			break;
		len = l->line.len;
		if (len && l->line.data[len - 1] == '\r')
			len--;
		if (!l->cut && len)
			put_line(l, SPGW_LOG_INFO, l->line.data, len, 0);
		spgw_buf_reset(&l->line);
		l->cut = 0;
		p = nl + 1;
	}
}

int spgw_child_log_read(struct spgw_child_log *l, struct spgw_child *ch)
{
	char tmp[65536];
	ssize_t n;

	n = read(ch->out, tmp, sizeof(tmp));
	if (n > 0) {
		out_bytes(l, tmp, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (l->line.len && !l->cut)
		put_line(l, SPGW_LOG_INFO, l->line.data, l->line.len, 0);
	spgw_buf_reset(&l->line);
	close(ch->out);
	ch->out = -1;
	return 0;
}

void spgw_child_log_end(struct spgw_child_log *l, struct spgw_child *ch)
{
	int i;

	/* bounded: a process that escaped its group could keep writing for ever */
	for (i = 0; i < 16 && ch->out >= 0 && spgw_child_log_read(l, ch); i++)
		;
	if (ch->out >= 0) {
		if (l->line.len && !l->cut)
			put_line(l, SPGW_LOG_INFO, l->line.data, l->line.len, 0);
		close(ch->out);
		ch->out = -1;
	}
	if (l->dropped && l->emit)
		report_dropped(l);
	spgw_buf_free(&l->line);
}
