/*
 * mem.h: the core's only way to obtain memory (STYLE lesson 8, fallback form).
 *
 * The world hands the core a counted allocator at init: two function pointers
 * and a byte budget.  Every core allocation goes through pd_mem_alloc and is
 * charged against the budget; exhausting it is an operating error (PD_ENOMEM)
 * that reaches the client as an error reply, never a crash.  The counters
 * give benchmarks their bytes-per-znode figure straight from the source.
 * Allocation sizes are passed back on free, so no per-block header is needed.
 */
#ifndef PD_MEM_H
#define PD_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pd_allocator {
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *ptr, size_t bytes);
	void *ctx;
};

struct pd_mem {
	struct pd_allocator allocator;
	uint64_t budget_bytes;       /* 0 = unlimited */
	uint64_t used_bytes;         /* bytes currently allocated */
	uint64_t used_bytes_peak;
	uint64_t alloc_count;        /* allocations ever made */
	uint64_t fail_countdown;     /* test hook: fail the Nth allocation from now; 0 = off */
	/* While set, the budget and fail_countdown are not applied.  Applying a
	 * committed transaction runs this way: a transaction is admitted (or
	 * refused) when it is prepared, and once it has a zxid it must apply
	 * whole, so apply may overrun the budget by the little it needs. */
	bool unbounded;
};

void pd_mem_init(struct pd_mem *mem, struct pd_allocator allocator, uint64_t budget_bytes);
/* Returns NULL when the budget would be exceeded or the world is out of memory. */
void *pd_mem_alloc(struct pd_mem *mem, size_t bytes);
void *pd_mem_zalloc(struct pd_mem *mem, size_t bytes);
void pd_mem_free(struct pd_mem *mem, void *ptr, size_t bytes);
/* True if bytes more can be allocated within the budget. */
bool pd_mem_headroom(const struct pd_mem *mem, uint64_t bytes);
/* Grows or shrinks a block; on failure the old block is untouched and NULL returned. */
void *pd_mem_realloc(struct pd_mem *mem, void *ptr, size_t old_bytes, size_t new_bytes);
/* Copies bytes into a fresh allocation. */
void *pd_mem_dup(struct pd_mem *mem, const void *src, size_t bytes);
/* A FIFO kept as a ring of fixed-size items: makes room for one more item,
 * doubling the ring (and unwrapping it to head 0) when it is full.  Returns
 * 0 or PD_ENOMEM (the ring untouched). */
int pd_ring_reserve(struct pd_mem *mem, void **items, uint32_t *head, uint32_t count, uint32_t *cap,
		    size_t item_size);

/*
 * A size-classed allocator for small blocks (znode records), carved from
 * 64 KiB pages taken from a pd_mem.  Blocks up to PD_SLAB_SMALL_MAX bytes
 * are rounded to 8 bytes and carry no header, which is the point: glibc's
 * malloc would add 8 to 23 bytes to each znode.  Larger blocks go straight
 * to the pd_mem.  Freed blocks are kept on a per-size list for reuse; pages
 * are returned only when the slab is destroyed.
 */
#define PD_SLAB_SMALL_MAX 512u
#define PD_SLAB_PAGE_BYTES (64u * 1024u)

struct pd_slab {
	struct pd_mem *mem;
	void *free_lists[PD_SLAB_SMALL_MAX / 8 + 1];
	uint8_t *bump;
	size_t bump_left;
	void **pages;
	uint32_t page_count;
	uint32_t page_cap;
	uint64_t bytes_in_use; /* sum of rounded block sizes handed out */
};

void pd_slab_init(struct pd_slab *slab, struct pd_mem *mem);
void pd_slab_destroy(struct pd_slab *slab);
void *pd_slab_alloc(struct pd_slab *slab, size_t bytes);
void pd_slab_free(struct pd_slab *slab, void *ptr, size_t bytes);

/* Byte-exact growable buffer used for replies, effects and scratch space. */
struct pd_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* sticky: PD_ENOMEM after a failed growth */
};

int pd_buf_reserve(struct pd_mem *mem, struct pd_buf *buf, size_t extra);
int pd_buf_append(struct pd_mem *mem, struct pd_buf *buf, const void *src, size_t len);
void pd_buf_free(struct pd_mem *mem, struct pd_buf *buf);
/* Drops the first n bytes. */
void pd_buf_consume(struct pd_buf *buf, size_t n);

#endif
