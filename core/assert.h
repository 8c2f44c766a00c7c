/*
 * assert.h: assertions that stay on in every build (STYLE lesson 7).
 *
 * PD_ASSERT is for programmer errors only; operating errors (bad packets,
 * full budgets) return PD_E* codes.  The failure hook is set by the world:
 * the production server prints and aborts, the simulator prints the seed.
 */
#ifndef PD_ASSERT_H
#define PD_ASSERT_H

typedef void (*pd_assert_hook)(const char *expr, const char *file, int line);

/* Installs the hook called when an assertion fails; the hook must not return. */
void pd_assert_set_hook(pd_assert_hook hook);
_Noreturn void pd_assert_fail(const char *expr, const char *file, int line);

#define PD_ASSERT(cond)                                                          \
	do {                                                                     \
		if (__builtin_expect(!(cond), 0))                                \
			pd_assert_fail(#cond, __FILE__, __LINE__);               \
	} while (0)

#define PD_UNREACHABLE() pd_assert_fail("unreachable", __FILE__, __LINE__)

/* Documents a condition that may legitimately go either way. */
#define PD_MAYBE(cond) ((void)(cond))

#endif
