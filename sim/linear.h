/*
 * linear.h: a linearizability checker for the history of one znode, seen as
 * a register that may be absent (value 0), present with no value (1), or
 * hold a written value (2 and up).  The search is Wing & Gong's with Lowe's
 * memoisation of (operations linearized, register state), as Porcupine
 * does it (the set kept as a 64-bit Zobrist hash and its size); the
 * simulator runs it per znode (partitioning by key) at the end of a run.
 *
 * An operation whose outcome the client never learnt (its connection
 * dropped first) has no return: it may take effect at any point after its
 * call, or never.  Such a write whose value no read returned is dropped
 * before the search (never having happened is always a valid choice for
 * it and never a worse one).
 */
#ifndef PD_SIM_LINEAR_H
#define PD_SIM_LINEAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lin_kind {
	LIN_CREATE_OK = 1, /* absent -> 1 */
	LIN_CREATE_EXISTS, /* present, unchanged */
	LIN_SET_OK,        /* present -> value */
	LIN_SET_NONODE,    /* absent, unchanged */
	LIN_GET,           /* reads value (0 = absent) */
	LIN_CREATE_UNKNOWN, /* no return: absent -> 1, or nothing */
	LIN_SET_UNKNOWN,   /* no return: present -> value, or nothing */
};

#define LIN_NO_RETURN UINT64_MAX

struct lin_op {
	enum lin_kind kind;
	uint64_t call;  /* invocation time */
	uint64_t ret;   /* response time, LIN_NO_RETURN if never learnt */
	uint64_t value; /* written or read value */
};

/* True if the operations are linearizable from the absent state.  On false
 * why says how far the search got.  max_steps bounds the search (0: none);
 * a search that runs out says so and returns true with *gave_up set. */
bool lin_check(const struct lin_op *ops, size_t n, uint64_t max_steps, bool *gave_up, char *why, size_t why_size);

#endif
