/* path.c: path validation, parent split, sequence formatting; see path.h. */
#include "path.h"

#include <string.h>

#include "err.h"

/* Decodes one UTF-8 sequence; returns its length or 0 if malformed. */
static size_t path_utf8_next(const uint8_t *p, size_t left, uint32_t *cp)
{
	uint32_t c = p[0];
	size_t n, i;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return n;
}

static bool path_char_forbidden(uint32_t c)
{
	return c == 0 || (c >= 0x01 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) ||
	       (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff) || c >= 0x10000;
}

int pd_path_validate(const char *path, size_t len)
{
	const uint8_t *p = (const uint8_t *)path;
	size_t i, n, seg_start;
	uint32_t c;
	if (path == NULL || len == 0 || p[0] != '/')
		return PD_EBADARGUMENTS;
	if (len == 1)
		return 0;
	if (p[len - 1] == '/')
		return PD_EBADARGUMENTS;
	seg_start = 1;
	for (i = 1; i <= len; i += n) {
		if (i == len || p[i] == '/') {
			size_t seg_len = i - seg_start;
			if (seg_len == 0)
				return PD_EBADARGUMENTS;
			if ((seg_len == 1 && p[seg_start] == '.') ||
			    (seg_len == 2 && p[seg_start] == '.' && p[seg_start + 1] == '.'))
				return PD_EBADARGUMENTS;
			seg_start = i + 1;
			n = 1;
			if (i == len)
				break;
			continue;
		}
		n = path_utf8_next(p + i, len - i, &c);
		if (n == 0 || path_char_forbidden(c))
			return PD_EBADARGUMENTS;
	}
	return 0;
}

size_t pd_path_parent_len(const char *path, size_t len)
{
	size_t i = len;
	while (i > 0 && path[i - 1] != '/')
		i--;
	if (i == 0)
		return 0;
	return i == 1 ? 1 : i - 1;
}

size_t pd_path_basename_off(const char *path, size_t len)
{
	size_t i = len;
	while (i > 0 && path[i - 1] != '/')
		i--;
	return i;
}

size_t pd_path_seq_suffix(int32_t counter, char *out)
{
	char digits[12];
	size_t nd = 0, width, pos = 0;
	bool neg = counter < 0;
	uint32_t v = neg ? (uint32_t)(-(int64_t)counter) : (uint32_t)counter;
	do {
		digits[nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	width = nd + (neg ? 1 : 0);
	if (neg)
		out[pos++] = '-';
	while (width < 10) {
		out[pos++] = '0';
		width++;
	}
	while (nd > 0)
		out[pos++] = digits[--nd];
	out[pos] = '\0';
	return pos;
}

static bool path_eq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && memcmp(a, b, alen) == 0;
}

bool pd_path_is_reserved(const char *path, size_t len)
{
	return path_eq(path, len, "/") || path_eq(path, len, "/zookeeper") ||
	       path_eq(path, len, "/zookeeper/quota") || path_eq(path, len, "/zookeeper/config");
}

bool pd_path_is_prefix(const char *path, size_t len, const char *desc, size_t desc_len)
{
	if (len == 1 && path[0] == '/')
		return desc_len >= 1 && desc[0] == '/';
	if (desc_len < len || memcmp(path, desc, len) != 0)
		return false;
	return desc_len == len || desc[len] == '/';
}
