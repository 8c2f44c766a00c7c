/* mem.c: counted allocation over the world's allocator, with a byte budget. */
#include "mem.h"

#include <string.h>

#include "assert.h"
#include "err.h"

void pd_mem_init(struct pd_mem *mem, struct pd_allocator allocator, uint64_t budget_bytes)
{
	PD_ASSERT(allocator.alloc != NULL);
	PD_ASSERT(allocator.free != NULL);
	memset(mem, 0, sizeof(*mem));
	mem->allocator = allocator;
	mem->budget_bytes = budget_bytes;
}

/* Breakpoint anchor for injected faults (STYLE lesson 13). */
static void mem_fault_hit(void)
{
}

void *pd_mem_alloc(struct pd_mem *mem, size_t bytes)
{
	void *ptr;
	if (bytes == 0)
		bytes = 1;
	if (!mem->unbounded) {
		if (mem->fail_countdown > 0 && --mem->fail_countdown == 0) {
			mem_fault_hit();
			return NULL;
		}
		if (mem->budget_bytes != 0 && mem->used_bytes + bytes > mem->budget_bytes)
			return NULL;
	}
	ptr = mem->allocator.alloc(mem->allocator.ctx, bytes);
	if (ptr == NULL)
		return NULL;
	mem->used_bytes += bytes;
	if (mem->used_bytes > mem->used_bytes_peak)
		mem->used_bytes_peak = mem->used_bytes;
	mem->alloc_count++;
	return ptr;
}

bool pd_mem_headroom(const struct pd_mem *mem, uint64_t bytes)
{
	return mem->budget_bytes == 0 || mem->used_bytes + bytes <= mem->budget_bytes;
}

void *pd_mem_zalloc(struct pd_mem *mem, size_t bytes)
{
	void *ptr = pd_mem_alloc(mem, bytes);
	if (ptr != NULL)
		memset(ptr, 0, bytes == 0 ? 1 : bytes);
	return ptr;
}

void pd_mem_free(struct pd_mem *mem, void *ptr, size_t bytes)
{
	if (ptr == NULL)
		return;
	if (bytes == 0)
		bytes = 1;
	PD_ASSERT(mem->used_bytes >= bytes);
	mem->used_bytes -= bytes;
	mem->allocator.free(mem->allocator.ctx, ptr, bytes);
}

void *pd_mem_realloc(struct pd_mem *mem, void *ptr, size_t old_bytes, size_t new_bytes)
{
	void *fresh;
	if (ptr == NULL)
		return pd_mem_alloc(mem, new_bytes);
	fresh = pd_mem_alloc(mem, new_bytes);
	if (fresh == NULL)
		return NULL;
	memcpy(fresh, ptr, old_bytes < new_bytes ? old_bytes : new_bytes);
	pd_mem_free(mem, ptr, old_bytes);
	return fresh;
}

void *pd_mem_dup(struct pd_mem *mem, const void *src, size_t bytes)
{
	void *ptr = pd_mem_alloc(mem, bytes);
	if (ptr != NULL && bytes > 0)
		memcpy(ptr, src, bytes);
	return ptr;
}

int pd_buf_reserve(struct pd_mem *mem, struct pd_buf *buf, size_t extra)
{
	size_t need = buf->len + extra;
	size_t cap;
	uint8_t *fresh;
	if (buf->err != 0)
		return buf->err;
	if (need <= buf->cap)
		return 0;
	cap = buf->cap < 256 ? 256 : buf->cap;
	while (cap < need)
		cap *= 2;
	fresh = pd_mem_realloc(mem, buf->data, buf->cap, cap);
	if (fresh == NULL) {
		buf->err = PD_ENOMEM;
		return PD_ENOMEM;
	}
	buf->data = fresh;
	buf->cap = cap;
	return 0;
}

int pd_buf_append(struct pd_mem *mem, struct pd_buf *buf, const void *src, size_t len)
{
	int rc = pd_buf_reserve(mem, buf, len);
	if (rc != 0)
		return rc;
	if (len > 0)
		memcpy(buf->data + buf->len, src, len);
	buf->len += len;
	return 0;
}

void pd_buf_free(struct pd_mem *mem, struct pd_buf *buf)
{
	pd_mem_free(mem, buf->data, buf->cap);
	memset(buf, 0, sizeof(*buf));
}

void pd_buf_consume(struct pd_buf *buf, size_t n)
{
	PD_ASSERT(n <= buf->len);
	if (n == buf->len) {
		buf->len = 0;
		return;
	}
	memmove(buf->data, buf->data + n, buf->len - n);
	buf->len -= n;
}

/* --- slab --- */

void pd_slab_init(struct pd_slab *slab, struct pd_mem *mem)
{
	memset(slab, 0, sizeof(*slab));
	slab->mem = mem;
}

void pd_slab_destroy(struct pd_slab *slab)
{
	uint32_t i;
	for (i = 0; i < slab->page_count; i++)
		pd_mem_free(slab->mem, slab->pages[i], PD_SLAB_PAGE_BYTES);
	pd_mem_free(slab->mem, slab->pages, slab->page_cap * sizeof(void *));
	memset(slab, 0, sizeof(*slab));
}

static size_t slab_round(size_t bytes)
{
	return bytes == 0 ? 8 : (bytes + 7u) & ~(size_t)7u;
}

void *pd_slab_alloc(struct pd_slab *slab, size_t bytes)
{
	size_t size = slab_round(bytes);
	void **head;
	void *p;
	if (size > PD_SLAB_SMALL_MAX)
		return pd_mem_alloc(slab->mem, bytes);
	head = &slab->free_lists[size / 8];
	if (*head != NULL) {
		p = *head;
		memcpy(head, p, sizeof(void *));
		slab->bytes_in_use += size;
		return p;
	}
	if (slab->bump_left < size) {
		uint8_t *page;
		if (slab->page_count == slab->page_cap) {
			uint32_t cap = slab->page_cap == 0 ? 16 : slab->page_cap * 2;
			void **fresh = pd_mem_realloc(slab->mem, slab->pages, slab->page_cap * sizeof(void *),
						      cap * sizeof(void *));
			if (fresh == NULL)
				return NULL;
			slab->pages = fresh;
			slab->page_cap = cap;
		}
		page = pd_mem_alloc(slab->mem, PD_SLAB_PAGE_BYTES);
		if (page == NULL)
			return NULL;
		/* The tail of the old page becomes a free block of its class. */
		if (slab->bump_left >= 8) {
			size_t tail = slab->bump_left;
			memcpy(slab->bump, &slab->free_lists[tail / 8], sizeof(void *));
			slab->free_lists[tail / 8] = slab->bump;
		}
		slab->pages[slab->page_count++] = page;
		slab->bump = page;
		slab->bump_left = PD_SLAB_PAGE_BYTES;
	}
	p = slab->bump;
	slab->bump += size;
	slab->bump_left -= size;
	slab->bytes_in_use += size;
	return p;
}

void pd_slab_free(struct pd_slab *slab, void *ptr, size_t bytes)
{
	size_t size = slab_round(bytes);
	if (ptr == NULL)
		return;
	if (size > PD_SLAB_SMALL_MAX) {
		pd_mem_free(slab->mem, ptr, bytes);
		return;
	}
	PD_ASSERT(slab->bytes_in_use >= size);
	slab->bytes_in_use -= size;
	memcpy(ptr, &slab->free_lists[size / 8], sizeof(void *));
	slab->free_lists[size / 8] = ptr;
}

int pd_ring_reserve(struct pd_mem *mem, void **items, uint32_t *head, uint32_t count, uint32_t *cap,
		    size_t item_size)
{
	uint32_t fresh_cap, first;
	uint8_t *fresh;
	if (count < *cap)
		return 0;
	fresh_cap = *cap == 0 ? 64 : *cap * 2;
	fresh = pd_mem_alloc(mem, (size_t)fresh_cap * item_size);
	if (fresh == NULL)
		return PD_ENOMEM;
	/* the items from head to the end of the old ring, then the wrapped rest */
	first = *cap - *head < count ? *cap - *head : count;
	if (count > 0) {
		memcpy(fresh, (uint8_t *)*items + (size_t)*head * item_size, (size_t)first * item_size);
		memcpy(fresh + (size_t)first * item_size, *items, (size_t)(count - first) * item_size);
	}
	pd_mem_free(mem, *items, (size_t)*cap * item_size);
	*items = fresh;
	*cap = fresh_cap;
	*head = 0;
	return 0;
}
