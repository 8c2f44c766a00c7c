/* prng.c: xoshiro256** with splitmix64 seeding; see prng.h. */
#include "prng.h"

#include "assert.h"

static uint64_t prng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void pd_prng_seed(struct pd_prng *r, uint64_t seed)
{
	int i;
	for (i = 0; i < 4; i++)
		r->s[i] = prng_splitmix(&seed);
}

static uint64_t prng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t pd_prng_next(struct pd_prng *r)
{
	uint64_t *s = r->s;
	uint64_t result = prng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = prng_rotl(s[3], 45);
	return result;
}

uint64_t pd_prng_below(struct pd_prng *r, uint64_t bound)
{
	uint64_t threshold, x;
	PD_ASSERT(bound > 0);
	threshold = (0 - bound) % bound;
	do {
		x = pd_prng_next(r);
	} while (x < threshold);
	return x % bound;
}

void pd_prng_bytes(struct pd_prng *r, uint8_t *out, size_t len)
{
	while (len > 0) {
		uint64_t x = pd_prng_next(r);
		size_t n = len < 8 ? len : 8, i;
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(x >> (8 * i));
		out += n;
		len -= n;
	}
}
