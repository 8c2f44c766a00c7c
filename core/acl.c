/* acl.c: interned ACL lists, validation and scheme checks; see acl.h. */
#include "acl.h"

#include <openssl/sha.h>
#include <string.h>

#include "assert.h"
#include "err.h"

static uint32_t acl_hash(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u;
	uint32_t i;
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static bool span_eq(struct pd_span s, const char *lit)
{
	size_t n = strlen(lit);
	return !s.is_null && s.len == n && memcmp(s.ptr, lit, n) == 0;
}

static int32_t acl_world_perms(const uint8_t *bytes, uint32_t len)
{
	struct pd_vec v;
	struct pd_vec_iter it;
	struct pd_acl a;
	struct pd_jr jr;
	bool is_null;
	int32_t perms = 0;
	pd_jr_init(&jr, bytes, len, UINT32_MAX);
	v.count = pd_jr_vector_len(&jr, &is_null);
	v.is_null = is_null;
	v.ptr = jr.p;
	v.len = pd_jr_remaining(&jr);
	pd_vec_iter_init(&it, &v);
	while (pd_vec_next_acl(&it, &a)) {
		if (span_eq(a.scheme, "world") && span_eq(a.id, "anyone"))
			perms |= a.perms;
	}
	return perms;
}

static int acl_index_grow(struct pd_acl_table *t)
{
	uint32_t cap = t->index_cap == 0 ? 64 : t->index_cap * 2;
	uint32_t *idx = pd_mem_zalloc(t->mem, cap * sizeof(uint32_t));
	uint32_t i;
	if (idx == NULL)
		return PD_ENOMEM;
	for (i = 0; i < t->slot_count; i++) {
		uint32_t pos;
		if (t->slots[i].bytes == NULL)
			continue;
		pos = t->slots[i].hash & (cap - 1);
		while (idx[pos] != 0)
			pos = (pos + 1) & (cap - 1);
		idx[pos] = i + 1;
	}
	pd_mem_free(t->mem, t->index, t->index_cap * sizeof(uint32_t));
	t->index = idx;
	t->index_cap = cap;
	return 0;
}

static int acl_intern_static(struct pd_acl_table *t, int32_t perms)
{
	uint8_t buf[64];
	struct pd_buf b = {0};
	struct pd_jw jw = {t->mem, &b};
	uint32_t idx;
	int rc;
	(void)buf;
	pd_jw_int(&jw, 1);
	pd_jw_acl(&jw, perms, "world", 5, "anyone", 6);
	if (b.err != 0)
		return b.err;
	rc = pd_acl_intern(t, b.data, (uint32_t)b.len, &idx);
	pd_buf_free(t->mem, &b);
	return rc;
}

int pd_acl_table_init(struct pd_acl_table *t, struct pd_mem *mem)
{
	int rc;
	memset(t, 0, sizeof(*t));
	t->mem = mem;
	t->free_head = UINT32_MAX;
	rc = acl_intern_static(t, PD_PERM_ALL);
	if (rc == 0)
		rc = acl_intern_static(t, PD_PERM_READ);
	if (rc != 0)
		pd_acl_table_free(t);
	return rc;
}

void pd_acl_table_free(struct pd_acl_table *t)
{
	uint32_t i;
	for (i = 0; i < t->slot_count; i++)
		pd_mem_free(t->mem, t->slots[i].bytes, t->slots[i].len);
	pd_mem_free(t->mem, t->slots, t->slot_cap * sizeof(*t->slots));
	pd_mem_free(t->mem, t->index, t->index_cap * sizeof(uint32_t));
	memset(t, 0, sizeof(*t));
}

int pd_acl_intern(struct pd_acl_table *t, const uint8_t *bytes, uint32_t len, uint32_t *out)
{
	uint32_t h = acl_hash(bytes, len);
	uint32_t pos, slot;
	struct pd_acl_slot *s;
	int rc;
	if (t->index_cap != 0) {
		pos = h & (t->index_cap - 1);
		while (t->index[pos] != 0) {
			s = &t->slots[t->index[pos] - 1];
			if (s->hash == h && s->len == len && memcmp(s->bytes, bytes, len) == 0) {
				s->refcount++;
				*out = t->index[pos] - 1;
				return 0;
			}
			pos = (pos + 1) & (t->index_cap - 1);
		}
	}
	if ((t->live_count + 1) * 2 > t->index_cap) {
		rc = acl_index_grow(t);
		if (rc != 0)
			return rc;
	}
	if (t->free_head != UINT32_MAX) {
		slot = t->free_head;
		t->free_head = t->slots[slot].next_free;
	} else {
		if (t->slot_count == t->slot_cap) {
			uint32_t cap = t->slot_cap == 0 ? 16 : t->slot_cap * 2;
			struct pd_acl_slot *fresh = pd_mem_realloc(t->mem, t->slots,
				t->slot_cap * sizeof(*t->slots), cap * sizeof(*t->slots));
			if (fresh == NULL)
				return PD_ENOMEM;
			t->slots = fresh;
			t->slot_cap = cap;
		}
		slot = t->slot_count++;
	}
	s = &t->slots[slot];
	memset(s, 0, sizeof(*s));
	s->bytes = pd_mem_dup(t->mem, bytes, len);
	if (s->bytes == NULL) {
		s->next_free = t->free_head;
		t->free_head = slot;
		return PD_ENOMEM;
	}
	s->len = len;
	s->hash = h;
	s->refcount = 1;
	s->world_perms = acl_world_perms(bytes, len);
	pos = h & (t->index_cap - 1);
	while (t->index[pos] != 0)
		pos = (pos + 1) & (t->index_cap - 1);
	t->index[pos] = slot + 1;
	t->live_count++;
	*out = slot;
	return 0;
}

void pd_acl_ref(struct pd_acl_table *t, uint32_t index)
{
	PD_ASSERT(index < t->slot_count && t->slots[index].bytes != NULL);
	t->slots[index].refcount++;
}

static void acl_index_remove(struct pd_acl_table *t, uint32_t slot)
{
	uint32_t mask = t->index_cap - 1;
	uint32_t pos = t->slots[slot].hash & mask;
	uint32_t hole, next;
	while (t->index[pos] != slot + 1) {
		PD_ASSERT(t->index[pos] != 0);
		pos = (pos + 1) & mask;
	}
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	hole = pos;
	next = (pos + 1) & mask;
	while (t->index[next] != 0) {
		uint32_t home = t->slots[t->index[next] - 1].hash & mask;
		bool movable = hole <= next ? (home <= hole || home > next) : (home <= hole && home > next);
		if (movable) {
			t->index[hole] = t->index[next];
			hole = next;
		}
		next = (next + 1) & mask;
	}
	t->index[hole] = 0;
}

void pd_acl_unref(struct pd_acl_table *t, uint32_t index)
{
	struct pd_acl_slot *s;
	PD_ASSERT(index < t->slot_count);
	s = &t->slots[index];
	PD_ASSERT(s->bytes != NULL && s->refcount > 0);
	if (--s->refcount > 0 || index <= PD_ACL_READ_ONLY_WORLD)
		return;
	acl_index_remove(t, index);
	pd_mem_free(t->mem, s->bytes, s->len);
	s->bytes = NULL;
	s->next_free = t->free_head;
	t->free_head = index;
	t->live_count--;
}

const struct pd_acl_slot *pd_acl_get(const struct pd_acl_table *t, uint32_t index)
{
	PD_ASSERT(index < t->slot_count && t->slots[index].bytes != NULL);
	return &t->slots[index];
}

bool pd_acl_parse_ipv4(const char *s, size_t len, uint32_t *addr, int *bits)
{
	uint32_t a = 0;
	int parts = 0;
	size_t i = 0;
	*bits = 32;
	while (parts < 4) {
		uint32_t v = 0;
		size_t digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (uint32_t)(s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || v > 255)
			return false;
		a = (a << 8) | v;
		parts++;
		if (parts < 4) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	if (i < len) {
		int b = 0;
		size_t digits = 0;
		if (s[i] != '/')
			return false;
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3) {
			b = b * 10 + (s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || i != len || b > 32)
			return false;
		*bits = b;
	}
	*addr = a;
	return true;
}

static bool acl_ip_matches(const char *caller, size_t caller_len, const char *expr, size_t expr_len)
{
	uint32_t a, b, mask;
	int bits, caller_bits;
	if (!pd_acl_parse_ipv4(expr, expr_len, &a, &bits))
		return false;
	if (!pd_acl_parse_ipv4(caller, caller_len, &b, &caller_bits))
		return false;
	mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
	return (a & mask) == (b & mask);
}

static bool acl_digest_valid(struct pd_span id)
{
	const uint8_t *colon;
	if (id.is_null)
		return false;
	colon = memchr(id.ptr, ':', id.len);
	if (colon == NULL)
		return false;
	if (memchr(colon + 1, ':', id.len - (size_t)(colon + 1 - id.ptr)) != NULL)
		return false;
	return (size_t)(colon + 1 - id.ptr) < id.len;
}

/* Appends one entry unless an identical one is already in out. */
static void acl_append_unique(struct pd_jw *jw, size_t start, uint32_t *count, int32_t perms,
			      const char *scheme, size_t scheme_len, const char *id, size_t id_len)
{
	struct pd_jr jr;
	uint32_t i;
	pd_jr_init(&jr, jw->buf->data + start, jw->buf->len - start, UINT32_MAX);
	for (i = 0; i < *count && jw->buf->err == 0; i++) {
		int32_t p = pd_jr_int(&jr);
		struct pd_span s = pd_jr_buffer(&jr);
		struct pd_span d = pd_jr_buffer(&jr);
		if (p == perms && s.len == scheme_len && memcmp(s.ptr, scheme, scheme_len) == 0 &&
		    d.len == id_len && memcmp(d.ptr, id, id_len) == 0)
			return;
	}
	pd_jw_acl(jw, perms, scheme, scheme_len, id, id_len);
	(*count)++;
}

int pd_acl_canonicalize(struct pd_mem *mem, const struct pd_vec *acl, const struct pd_auth_set *ids,
			struct pd_buf *out)
{
	struct pd_jw jw = {mem, out};
	struct pd_vec_iter it;
	struct pd_acl a;
	uint32_t count = 0, i;
	size_t start;
	out->len = 0;
	if (acl->is_null || acl->count == 0)
		return PD_EINVALIDACL;
	pd_jw_int(&jw, 0); /* count, patched below */
	start = out->len;
	pd_vec_iter_init(&it, acl);
	while (pd_vec_next_acl(&it, &a)) {
		if (a.scheme.is_null)
			return PD_EINVALIDACL;
		if (a.id.is_null && !span_eq(a.scheme, "auth"))
			return PD_EINVALIDACL; /* the "auth" id is ignored; kazoo sends null */
		if (span_eq(a.scheme, "world")) {
			if (!span_eq(a.id, "anyone"))
				return PD_EINVALIDACL;
		} else if (span_eq(a.scheme, "auth")) {
			bool any = false;
			for (i = 0; i < ids->count; i++) {
				const struct pd_auth_id *id = &ids->ids[i];
				if (strcmp(id->scheme, "digest") != 0 && strcmp(id->scheme, "sasl") != 0 &&
				    strcmp(id->scheme, "x509") != 0)
					continue;
				acl_append_unique(&jw, start, &count, a.perms, id->scheme,
						  strlen(id->scheme), id->id, id->id_len);
				any = true;
			}
			if (!any)
				return PD_EINVALIDACL;
			continue;
		} else if (span_eq(a.scheme, "digest")) {
			if (!acl_digest_valid(a.id))
				return PD_EINVALIDACL;
		} else if (span_eq(a.scheme, "ip")) {
			uint32_t addr;
			int bits;
			if (!pd_acl_parse_ipv4((const char *)a.id.ptr, a.id.len, &addr, &bits))
				return PD_EINVALIDACL;
		} else if (span_eq(a.scheme, "sasl")) {
			/* Any non-null id names a SASL principal. */
		} else {
			return PD_EINVALIDACL;
		}
		acl_append_unique(&jw, start, &count, a.perms, (const char *)a.scheme.ptr, a.scheme.len,
				  (const char *)a.id.ptr, a.id.len);
	}
	if (out->err != 0)
		return out->err;
	pd_jw_patch_int(&jw, 0, (int32_t)count);
	return 0;
}

static bool acl_id_matches(const struct pd_auth_id *id, struct pd_span scheme, struct pd_span expr)
{
	if (scheme.len != strlen(id->scheme) || memcmp(scheme.ptr, id->scheme, scheme.len) != 0)
		return false;
	if (strcmp(id->scheme, "ip") == 0)
		return acl_ip_matches(id->id, id->id_len, (const char *)expr.ptr, expr.len);
	return expr.len == id->id_len && memcmp(expr.ptr, id->id, id->id_len) == 0;
}

bool pd_acl_allows(const struct pd_acl_table *t, uint32_t index, int32_t perm,
		   const struct pd_auth_set *ids)
{
	const struct pd_acl_slot *s = pd_acl_get(t, index);
	struct pd_jr jr;
	int32_t n, i;
	bool is_null;
	uint32_t k;
	if (ids != NULL && ids->super)
		return true;
	if ((s->world_perms & perm) != 0)
		return true;
	if (ids == NULL || ids->count == 0)
		return false;
	pd_jr_init(&jr, s->bytes, s->len, UINT32_MAX);
	n = pd_jr_vector_len(&jr, &is_null);
	for (i = 0; i < n; i++) {
		int32_t p = pd_jr_int(&jr);
		struct pd_span scheme = pd_jr_buffer(&jr);
		struct pd_span expr = pd_jr_buffer(&jr);
		if ((p & perm) == 0)
			continue;
		for (k = 0; k < ids->count; k++)
			if (acl_id_matches(&ids->ids[k], scheme, expr))
				return true;
	}
	return false;
}

void pd_acl_write_reply(const struct pd_acl_table *t, uint32_t index, bool mask, struct pd_jw *jw)
{
	const struct pd_acl_slot *s = pd_acl_get(t, index);
	struct pd_jr jr;
	int32_t n, i;
	bool is_null;
	if (!mask) {
		pd_jw_bytes(jw, s->bytes, s->len);
		return;
	}
	pd_jr_init(&jr, s->bytes, s->len, UINT32_MAX);
	n = pd_jr_vector_len(&jr, &is_null);
	pd_jw_int(jw, n);
	for (i = 0; i < n; i++) {
		int32_t p = pd_jr_int(&jr);
		struct pd_span scheme = pd_jr_buffer(&jr);
		struct pd_span id = pd_jr_buffer(&jr);
		pd_jw_int(jw, p);
		pd_jw_span(jw, scheme);
		if (span_eq(scheme, "digest")) {
			const uint8_t *colon = memchr(id.ptr, ':', id.len);
			size_t user_len = colon != NULL ? (size_t)(colon - id.ptr) : id.len;
			char masked[256];
			if (user_len + 2 <= sizeof(masked)) {
				memcpy(masked, id.ptr, user_len);
				memcpy(masked + user_len, ":x", 2);
				pd_jw_string(jw, masked, user_len + 2);
				continue;
			}
		}
		pd_jw_span(jw, id);
	}
}

int pd_auth_add(struct pd_mem *mem, struct pd_auth_set *set, const char *scheme, const char *id,
		size_t id_len)
{
	uint32_t i;
	struct pd_auth_id *a;
	PD_ASSERT(strlen(scheme) < sizeof(set->ids[0].scheme));
	if (strcmp(scheme, "super") == 0) {
		set->super = true;
	}
	for (i = 0; i < set->count; i++) {
		a = &set->ids[i];
		if (strcmp(a->scheme, scheme) == 0 && a->id_len == id_len && memcmp(a->id, id, id_len) == 0)
			return 0;
	}
	if (set->count == set->cap) {
		uint32_t cap = set->cap == 0 ? 2 : set->cap * 2;
		struct pd_auth_id *fresh = pd_mem_realloc(mem, set->ids, set->cap * sizeof(*set->ids),
							  cap * sizeof(*set->ids));
		if (fresh == NULL)
			return PD_ENOMEM;
		set->ids = fresh;
		set->cap = cap;
	}
	a = &set->ids[set->count];
	memset(a, 0, sizeof(*a));
	a->id = pd_mem_alloc(mem, id_len + 1);
	if (a->id == NULL)
		return PD_ENOMEM;
	memcpy(a->id, id, id_len);
	a->id[id_len] = '\0';
	a->id_len = (uint32_t)id_len;
	strcpy(a->scheme, scheme);
	set->count++;
	return 0;
}

bool pd_auth_has_scheme(const struct pd_auth_set *set, const char *scheme)
{
	uint32_t i;
	for (i = 0; i < set->count; i++)
		if (strcmp(set->ids[i].scheme, scheme) == 0)
			return true;
	return false;
}

void pd_auth_free(struct pd_mem *mem, struct pd_auth_set *set)
{
	uint32_t i;
	for (i = 0; i < set->count; i++)
		pd_mem_free(mem, set->ids[i].id, set->ids[i].id_len + 1);
	pd_mem_free(mem, set->ids, set->cap * sizeof(*set->ids));
	memset(set, 0, sizeof(*set));
}

size_t pd_base64_encode(const uint8_t *in, size_t len, char *out)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
		out[o++] = tbl[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t pd_acl_digest_id(const uint8_t *auth, size_t len, char *out, size_t out_size)
{
	uint8_t sha[SHA_DIGEST_LENGTH];
	const uint8_t *colon = memchr(auth, ':', len);
	size_t user_len = colon != NULL ? (size_t)(colon - auth) : len;
	PD_ASSERT(out_size >= user_len + 30);
	SHA1(auth, len, sha);
	memcpy(out, auth, user_len);
	out[user_len] = ':';
	return user_len + 1 + pd_base64_encode(sha, sizeof(sha), out + user_len + 1);
}
