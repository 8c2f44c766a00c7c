/*
 * prng.h: a seeded generator owned by each node (no global state).  The
 * driver supplies the seed; every draw traces back to it (DESIGN §2).
 * The algorithm is xoshiro256** seeded through splitmix64.
 */
#ifndef PD_PRNG_H
#define PD_PRNG_H

#include "types.h"

struct pd_prng {
	uint64_t s[4];
};

void pd_prng_seed(struct pd_prng *r, uint64_t seed);
uint64_t pd_prng_next(struct pd_prng *r);
/* Uniform in [0, bound); bound > 0. */
uint64_t pd_prng_below(struct pd_prng *r, uint64_t bound);
void pd_prng_bytes(struct pd_prng *r, uint8_t *out, size_t len);

#endif
