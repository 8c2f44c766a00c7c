/* err.c: pd_strerror and the wire-code mapping behind err.h. */
#include "err.h"

#include <stdio.h>
#include <string.h>

#include "assert.h"

const char *pd_strerror(int code)
{
	switch (code) {
#define PD_ERR_TEXT(name, value, wire, text)                                     \
	case value:                                                              \
		return text;
		PD_ERR_TABLE(PD_ERR_TEXT)
#undef PD_ERR_TEXT
	}
	return "unknown error";
}

int pd_err_wire(int code)
{
	switch (code) {
#define PD_ERR_WIRE(name, value, wire, text)                                     \
	case value:                                                              \
		return wire;
		PD_ERR_TABLE(PD_ERR_WIRE)
#undef PD_ERR_WIRE
	}
	return code;
}

const char *pd_err_name(int code)
{
	switch (code) {
#define PD_ERR_NAME(name, value, wire, text)                                     \
	case value:                                                              \
		return #name;
		PD_ERR_TABLE(PD_ERR_NAME)
#undef PD_ERR_NAME
	}
	return "PD_E?";
}

void pd_errmsg_prefix(char *errmsg, size_t size, const char *prefix)
{
	char old[256];
	PD_ASSERT(size > 0);
	snprintf(old, sizeof(old), "%s", errmsg);
	if (old[0] != '\0')
		snprintf(errmsg, size, "%s: %s", prefix, old);
	else
		snprintf(errmsg, size, "%s", prefix);
}

static pd_assert_hook assert_hook;

void pd_assert_set_hook(pd_assert_hook hook)
{
	assert_hook = hook;
}

_Noreturn void pd_assert_fail(const char *expr, const char *file, int line)
{
	if (assert_hook != NULL)
		assert_hook(expr, file, line);
	__builtin_trap();
}
