/* jute.c: jute primitives with length limits; see jute.h. */
#include "jute.h"

#include <string.h>

#include "assert.h"
#include "err.h"

void pd_jr_init(struct pd_jr *jr, const uint8_t *p, size_t len, uint32_t field_bytes_max)
{
	jr->p = p;
	jr->end = p + len;
	jr->field_bytes_max = field_bytes_max;
	jr->err = 0;
}

static bool jr_need(struct pd_jr *jr, size_t n)
{
	if (jr->err != 0)
		return false;
	if ((size_t)(jr->end - jr->p) < n) {
		jr->err = PD_EPROTO;
		jr->p = jr->end;
		return false;
	}
	return true;
}

int32_t pd_jr_int(struct pd_jr *jr)
{
	int32_t v;
	if (!jr_need(jr, 4))
		return 0;
	v = (int32_t)pd_be32(jr->p);
	jr->p += 4;
	return v;
}

int64_t pd_jr_long(struct pd_jr *jr)
{
	int64_t v;
	if (!jr_need(jr, 8))
		return 0;
	v = (int64_t)pd_be64(jr->p);
	jr->p += 8;
	return v;
}

bool pd_jr_bool(struct pd_jr *jr)
{
	bool v;
	if (!jr_need(jr, 1))
		return false;
	v = jr->p[0] != 0;
	jr->p += 1;
	return v;
}

struct pd_span pd_jr_buffer(struct pd_jr *jr)
{
	struct pd_span s = {NULL, 0, true};
	int32_t len = pd_jr_int(jr);
	if (jr->err != 0)
		return s;
	if (len < 0) {
		if (len != -1)
			jr->err = PD_EPROTO;
		return s;
	}
	if ((uint32_t)len > jr->field_bytes_max) {
		jr->err = PD_EPROTO;
		return s;
	}
	if (!jr_need(jr, (size_t)len))
		return s;
	s.ptr = jr->p;
	s.len = (uint32_t)len;
	s.is_null = false;
	jr->p += len;
	return s;
}

int32_t pd_jr_vector_len(struct pd_jr *jr, bool *is_null)
{
	int32_t n = pd_jr_int(jr);
	*is_null = false;
	if (jr->err != 0)
		return 0;
	if (n == -1) {
		*is_null = true;
		return 0;
	}
	/* Every element takes at least one byte, so a count beyond the bytes
	 * left is malformed; this bounds allocation by the frame size. */
	if (n < 0 || (size_t)n > (size_t)(jr->end - jr->p)) {
		jr->err = PD_EPROTO;
		return 0;
	}
	return n;
}

size_t pd_jr_remaining(const struct pd_jr *jr)
{
	return (size_t)(jr->end - jr->p);
}

void pd_jw_int(struct pd_jw *jw, int32_t v)
{
	uint8_t b[4];
	pd_put_be32(b, (uint32_t)v);
	pd_buf_append(jw->mem, jw->buf, b, 4);
}

void pd_jw_long(struct pd_jw *jw, int64_t v)
{
	uint8_t b[8];
	pd_put_be64(b, (uint64_t)v);
	pd_buf_append(jw->mem, jw->buf, b, 8);
}

void pd_jw_bool(struct pd_jw *jw, bool v)
{
	uint8_t b = v ? 1 : 0;
	pd_buf_append(jw->mem, jw->buf, &b, 1);
}

void pd_jw_bytes(struct pd_jw *jw, const void *p, size_t len)
{
	pd_buf_append(jw->mem, jw->buf, p, len);
}

void pd_jw_buffer(struct pd_jw *jw, const void *p, int32_t len)
{
	pd_jw_int(jw, len);
	if (len > 0)
		pd_buf_append(jw->mem, jw->buf, p, (size_t)len);
}

void pd_jw_span(struct pd_jw *jw, struct pd_span s)
{
	if (s.is_null)
		pd_jw_int(jw, -1);
	else
		pd_jw_buffer(jw, s.ptr, (int32_t)s.len);
}

void pd_jw_string(struct pd_jw *jw, const char *s, size_t len)
{
	pd_jw_buffer(jw, s, (int32_t)len);
}

void pd_jw_cstr(struct pd_jw *jw, const char *s)
{
	pd_jw_string(jw, s, strlen(s));
}

void pd_jw_patch_int(struct pd_jw *jw, size_t offset, int32_t v)
{
	if (jw->buf->err != 0)
		return;
	PD_ASSERT(offset + 4 <= jw->buf->len);
	pd_put_be32(jw->buf->data + offset, (uint32_t)v);
}
