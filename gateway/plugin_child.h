/*
 * One plugin child as an operating-system process, for plugin_host.c: started isolated (own
 * process group, dies with us, no core files, stdin from /dev/null, stdout and stderr into a
 * pipe, its channel on fd 3, every other descriptor closed), killed as a group, reaped; and
 * what it prints, turned into log lines cut at SPGW_MAX_LOG_LINE and limited to
 * SPGW_MAX_LOG_RATE a second.
 */
#ifndef SPGW_PLUGIN_CHILD_H
#define SPGW_PLUGIN_CHILD_H

#include <spgw/plugin.h>
#include <sys/types.h>

#include "buf.h"
#include "error.h"

struct spgw_child {
	pid_t pid;
	int sock;   /* our end of its fd 3, non-blocking; -1 once closed */
	int out;    /* its stdout and stderr, non-blocking; -1 once closed */
	int pidfd;  /* readable once it has exited; -1 when the kernel gives none (< 5.3) */
	int killed; /* SIGKILL was sent to its group */
	int exited; /* it has ended, not yet reaped */
};

/*
 * Start `runner` (argv: "spgw-plugin-runner" `name`) as an isolated child, in `workdir`
 * when not NULL (`runner` must then be an absolute path). On success every
 * descriptor of *ch is open and owned by it until spgw_child_reap(); on failure none is.
 */
enum spgw_rc spgw_child_start(struct spgw_child *ch, const char *runner, const char *name,
			      const char *workdir, struct spgw_error *err);

/* SIGKILL its whole process group (whatever the plugin forked too). Until reaped only. */
void spgw_child_kill(struct spgw_child *ch);

/* It has exited (its pidfd was readable): mark it and kill what it left in its group. */
void spgw_child_exited(struct spgw_child *ch);

/* Without a pidfd: look whether it has exited, and if so do as spgw_child_exited(). */
void spgw_child_check(struct spgw_child *ch);

/* Wait for it (killed or exited already), close its socket and pidfd, return the wait
 * status. The output pipe is left to spgw_child_log_end(). */
int spgw_child_reap(struct spgw_child *ch);

/* Where finished log lines go: the host tags them with the job. */
struct spgw_child_log {
	void (*emit)(void *ud, enum spgw_log_level level, const char *line);
	void *ud;
	struct spgw_buf line; /* a partial line of its output */
	int cut;              /* the current line passed the limit: skip to its end */
	double tokens;        /* lines it may still send now */
	long long refill;     /* monotonic ms of the last refill */
	unsigned long dropped;
};

void spgw_child_log_init(struct spgw_child_log *l,
			 void (*emit)(void *ud, enum spgw_log_level level, const char *line),
			 void *ud);
/* One line (from a LOG frame): cleaned, cut, rate-limited, emitted. */
void spgw_child_log_line(struct spgw_child_log *l, enum spgw_log_level level, const char *text,
			 size_t n);
/* Read what the output pipe has now. Returns 1 when it read bytes, 0 when none are waiting;
 * at end of file it closes ch->out. */
int spgw_child_log_read(struct spgw_child_log *l, struct spgw_child *ch);
/* The child ended: read its last output (bounded), flush a partial line, report dropped lines,
 * close ch->out and free the buffer. */
void spgw_child_log_end(struct spgw_child_log *l, struct spgw_child *ch);

#endif
