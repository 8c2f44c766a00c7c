/*
 * marks.h: coverage marks (issue 7).  A mark is a named place in the core
 * that a rare path passes (a TRUNC, a reload, a leader giving up); the node
 * counts how often each was passed (no globals: the counters live in the
 * node), the simulator gathers them, and `paddock fuzz` and its report say
 * which marks a whole fuzzing campaign never hit: the paths its worlds do
 * not reach.
 */
#ifndef PD_MARKS_H
#define PD_MARKS_H

#define PD_MARKS(X)                                                                          \
	X(PD_MARK_ELECTED_LEADER, "elected_leader")     /* an election made me leader */       \
	X(PD_MARK_ELECTED_FOLLOWER, "elected_follower") /* ... a follower */                    \
	X(PD_MARK_ELECTED_OBSERVER, "elected_observer") /* ... an observer */                   \
	X(PD_MARK_FOLLOW_AFTER_RELOAD, "follow_after_reload") /* back to the leader that asked */ \
	X(PD_MARK_DISTRUST_EMPTY, "distrust_empty")     /* an empty disk heard of a history */ \
	X(PD_MARK_EPOCH_FROM_LEARNER, "epoch_from_learner") /* a learner had accepted a newer epoch */ \
	X(PD_MARK_LEARNER_NEWER, "learner_newer")       /* a learner more recent than its leader */ \
	X(PD_MARK_LEADER_INIT_LIMIT, "leader_init_limit") /* no quorum synced within initLimit */ \
	X(PD_MARK_LEARNER_GAVE_UP, "learner_gave_up")   /* the leader went quiet, or no dial took */ \
	X(PD_MARK_SYNC_DIFF, "sync_diff")                                                    \
	X(PD_MARK_SYNC_TRUNC, "sync_trunc")                                                  \
	X(PD_MARK_SYNC_SNAP, "sync_snap")                                                    \
	X(PD_MARK_RELOAD_TRUNC, "reload_trunc")         /* a learner cut its log */            \
	X(PD_MARK_RELOAD_SNAP, "reload_snap")           /* a learner took the leader's snapshot */ \
	X(PD_MARK_RELOAD_LOG_FAILED, "reload_log_failed") /* a learner's log failed under it */ \
	X(PD_MARK_LEADER_SERVING, "leader_serving")     /* a quorum acked NEWLEADER */         \
	X(PD_MARK_COMMIT_UNKNOWN, "commit_unknown")     /* a COMMIT of something never proposed */ \
	X(PD_MARK_FORWARDED, "forwarded_request")       /* a learner's client request at the leader */ \
	X(PD_MARK_SESSION_EXPIRED, "session_expired")   /* the leader (or standalone) expired one */ \
	X(PD_MARK_LOG_FAILED, "log_failed")             /* the disk refused the log */          \
	X(PD_MARK_SNAPSHOT_DUE, "snapshot_due")

#define PD_MARK_ENUM(name, text) name,
enum pd_mark { PD_MARKS(PD_MARK_ENUM) PD_MARK_COUNT };
#undef PD_MARK_ENUM

/* The marks' names, by enum pd_mark. */
extern const char *const pd_mark_names[PD_MARK_COUNT];

#endif
