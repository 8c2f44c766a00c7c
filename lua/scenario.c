/*
 * scenario.c: the Lua 5.4 side of scenarios.  The script runs as the main
 * task of a small scheduler written in Lua (lua/prelude.lua, embedded);
 * this file gives it the `pd` table of primitives over a world
 * (lua/world.h): open the ensemble, advance time, read the servers' roles,
 * apply faults, make clients and submit their requests, collect their
 * results and watch events (decoded into Lua tables), and keep what the
 * run records: checks, figures, client operations, throughput.
 *
 * Failures travel as Lua error values: a table {kind = "fail" |
 * "violation" | "unsupported", msg, step, where}; any other error is a
 * mistake in the script.
 */
#include <inttypes.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "zkc.h"
#include "prelude_lua.h"

#define PDL_CLIENTS_MAX 256
#define PDL_BUCKET_MS 100

struct pdl_pending {
	int32_t xid;
	int64_t op_index;  /* into out->ops, -1 when not recorded one by one */
	uint64_t called_us;
	int32_t op;
};

struct pdl_client {
	struct pdl_pending *pending;
	size_t count, cap;
	int64_t last_zxid;
};

struct pdl_state {
	const struct pdw_ops *ops;
	void *world;
	struct pdw_config cfg;
	struct pdl_outcome *out;
	struct pdl_client clients[PDL_CLIENTS_MAX];
	int client_count;
	size_t checks_cap, figures_cap, ops_cap, buckets_cap;
	char why[512];
};

static struct pdl_state *pdl_get(lua_State *L)
{
	struct pdl_state *st;
	lua_getfield(L, LUA_REGISTRYINDEX, "pdl_state");
	st = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return st;
}

/* Raises a structured failure: {kind=kind, msg=msg}; the prelude adds the
 * step and the place. */
static int pdl_raise(lua_State *L, const char *kind, const char *msg)
{
	lua_newtable(L);
	lua_pushstring(L, kind);
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, msg);
	lua_setfield(L, -2, "msg");
	return lua_error(L);
}

static void *pdl_grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = *cap == 0 ? 16 : *cap * 2;
	while (*cap < need)
		*cap *= 2;
	p = realloc(p, *cap * size);
	if (p == NULL)
		abort();
	return p;
}

static void pdl_need_world(lua_State *L, struct pdl_state *st)
{
	if (st->world == NULL)
		luaL_error(L, "no ensemble yet: call ensemble{...} first");
}

/* pd.open{servers=, observers=, tick=, init_limit=, sync_limit=, snap_count=} */
static lua_Integer pdl_field(lua_State *L, const char *name, lua_Integer dflt)
{
	lua_Integer v;
	lua_getfield(L, 1, name);
	v = lua_isnil(L, -1) ? dflt : luaL_checkinteger(L, -1);
	lua_pop(L, 1);
	return v;
}

static int pdl_open(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	if (st->world != NULL)
		return luaL_error(L, "ensemble{} may be called once");
	st->cfg.servers = (uint32_t)pdl_field(L, "servers", 3);
	st->cfg.observers = (uint32_t)pdl_field(L, "observers", 0);
	st->cfg.tick_ms = (uint32_t)pdl_field(L, "tick", 2000);
	st->cfg.init_limit = (uint32_t)pdl_field(L, "init_limit", 10);
	st->cfg.sync_limit = (uint32_t)pdl_field(L, "sync_limit", 5);
	st->cfg.snap_count = (uint32_t)pdl_field(L, "snap_count", 0);
	if (st->cfg.servers < 1 || st->cfg.servers > 7 || st->cfg.observers >= st->cfg.servers + (st->cfg.servers == 1))
		return luaL_error(L, "ensemble: servers must be 1..7 and observers fewer than servers");
	st->out->config = st->cfg;
	st->world = st->ops->open(&st->cfg, st->why, sizeof(st->why));
	if (st->world == NULL)
		return pdl_raise(L, "unsupported", st->why);
	return 0;
}

static int pdl_now(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	lua_pushinteger(L, st->world != NULL ? (lua_Integer)(st->ops->now_us(st->world) / 1000) : 0);
	return 1;
}

static int pdl_now_us(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	lua_pushinteger(L, st->world != NULL ? (lua_Integer)st->ops->now_us(st->world) : 0);
	return 1;
}

static int pdl_advance(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	lua_Integer us = luaL_checkinteger(L, 1);
	pdl_need_world(L, st);
	if (st->ops->advance(st->world, (uint64_t)(us > 0 ? us : 0), st->why, sizeof(st->why)) != 0)
		return pdl_raise(L, "violation", st->why);
	return 0;
}

static int pdl_servers(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	pdl_need_world(L, st);
	lua_pushinteger(L, st->cfg.servers);
	return 1;
}

/* pd.state(i) -> role, serving, leader, epoch, zxid, election_round */
static int pdl_state_of(lua_State *L)
{
	static const char *const roles[] = {"down", "looking", "following", "leading", "observing"};
	struct pdl_state *st = pdl_get(L);
	lua_Integer i = luaL_checkinteger(L, 1);
	struct pdw_server_state s;
	pdl_need_world(L, st);
	if (i < 1 || i > (lua_Integer)st->cfg.servers)
		return luaL_error(L, "there is no server %d (the ensemble has %d)", (int)i, (int)st->cfg.servers);
	st->ops->server_state(st->world, (uint32_t)i, &s);
	lua_pushstring(L, roles[s.role <= PDW_OBSERVING ? s.role : 0]);
	lua_pushboolean(L, s.serving);
	lua_pushinteger(L, (lua_Integer)s.leader);
	lua_pushinteger(L, (lua_Integer)s.epoch);
	lua_pushinteger(L, (lua_Integer)s.zxid);
	lua_pushinteger(L, (lua_Integer)s.election_round);
	return 6;
}

/* pd.fault(kind, server, ms, groups) */
static int pdl_fault(lua_State *L)
{
	static const char *const kinds[] = {"crash", "torn_write", "restart", "partition", "isolate", "heal",
					    "skew", "clog", "disk_full", "wipe", NULL};
	static const enum pdw_fault_kind values[] = {PDW_CRASH, PDW_TORN_WRITE, PDW_RESTART, PDW_PARTITION, PDW_ISOLATE,
						     PDW_HEAL,  PDW_SKEW,       PDW_CLOG,    PDW_DISK_FULL, PDW_WIPE};
	struct pdl_state *st = pdl_get(L);
	struct pdw_fault f;
	int k = luaL_checkoption(L, 1, NULL, kinds);
	pdl_need_world(L, st);
	memset(&f, 0, sizeof(f));
	f.kind = values[k];
	f.server = (uint32_t)luaL_optinteger(L, 2, 0);
	f.ms = (int64_t)luaL_optinteger(L, 3, 0);
	if (f.kind == PDW_PARTITION) {
		lua_Integer g, n = (lua_Integer)luaL_len(L, 4), j, m;
		luaL_checktype(L, 4, LUA_TTABLE);
		for (g = 1; g <= n; g++) {
			lua_geti(L, 4, g);
			luaL_checktype(L, -1, LUA_TTABLE);
			m = (lua_Integer)luaL_len(L, -1);
			for (j = 1; j <= m; j++) {
				lua_Integer sid;
				lua_geti(L, -1, j);
				sid = luaL_checkinteger(L, -1);
				lua_pop(L, 1);
				if (sid < 1 || sid > (lua_Integer)st->cfg.servers)
					return luaL_error(L, "partition: there is no server %d", (int)sid);
				if (f.group_of[sid - 1] != 0)
					return luaL_error(L, "partition: server %d is in two groups", (int)sid);
				f.group_of[sid - 1] = (uint32_t)g;
			}
			lua_pop(L, 1);
		}
	}
	switch (st->ops->fault(st->world, &f, st->why, sizeof(st->why))) {
	case 0:
		return 0;
	case PDW_STOPPED:
		return pdl_raise(L, "violation", st->why);
	case PDW_UNSUPPORTED:
		return pdl_raise(L, "unsupported", st->why);
	default:
		lua_pushstring(L, st->why); /* a mistake in the script (the runner says where) */
		return lua_error(L);
	}
}

/* pd.client_new(server, timeout_ms) -> id */
static int pdl_client_new(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	lua_Integer server = luaL_optinteger(L, 1, 0), timeout = luaL_optinteger(L, 2, 10000);
	int id;
	pdl_need_world(L, st);
	if (server < 0 || server > (lua_Integer)st->cfg.servers)
		return luaL_error(L, "client: there is no server %d", (int)server);
	id = st->ops->client_new(st->world, (uint32_t)server, (int32_t)timeout);
	if (id < 0 || id >= PDL_CLIENTS_MAX)
		return luaL_error(L, "client: no more clients (%d at most)", PDL_CLIENTS_MAX);
	if (id >= st->client_count)
		st->client_count = id + 1;
	lua_pushinteger(L, id);
	return 1;
}

static int pdl_check_client(lua_State *L, struct pdl_state *st, int arg)
{
	lua_Integer id = luaL_checkinteger(L, arg);
	if (id < 0 || id >= st->client_count)
		luaL_error(L, "no client %d", (int)id);
	return (int)id;
}

static const char *pdl_op_name(int32_t op)
{
	switch (op) {
	case 1:
		return "create";
	case 2:
		return "delete";
	case 3:
		return "exists";
	case 4:
		return "get";
	case 5:
		return "set";
	case 9:
		return "sync";
	case 12:
		return "children";
	case 14:
		return "multi";
	case 19:
		return "create";
	case -11:
		return "close";
	case 106:
		return "addwatch";
	default:
		return "other";
	}
}

static void pdl_track(struct pdl_state *st, int id, int32_t xid, int32_t op, const char *path, bool record)
{
	struct pdl_client *c = &st->clients[id];
	struct pdl_pending *p;
	uint64_t now = st->ops->now_us(st->world);
	c->pending = pdl_grow(c->pending, &c->cap, c->count + 1, sizeof(*c->pending));
	p = &c->pending[c->count++];
	p->xid = xid;
	p->op = op;
	p->called_us = now;
	p->op_index = -1;
	if (record) {
		struct pdl_op *o;
		st->out->ops = pdl_grow(st->out->ops, &st->ops_cap, st->out->ops_count + 1, sizeof(*st->out->ops));
		o = &st->out->ops[st->out->ops_count];
		memset(o, 0, sizeof(*o));
		o->client = (uint32_t)id;
		snprintf(o->op, sizeof(o->op), "%s", pdl_op_name(op));
		snprintf(o->path, sizeof(o->path), "%s", path != NULL ? path : "");
		o->called_us = now;
		o->returned_us = UINT64_MAX;
		p->op_index = (int64_t)st->out->ops_count++;
	}
}

/* Big-endian writers for the multi body. */
static void pdl_put(luaL_Buffer *b, uint32_t v)
{
	char x[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
	luaL_addlstring(b, x, 4);
}

static void pdl_put_str(luaL_Buffer *b, const char *s, size_t n)
{
	pdl_put(b, (uint32_t)n);
	luaL_addlstring(b, s, n);
}

static void pdl_put_acl(luaL_Buffer *b)
{
	pdl_put(b, 1);
	pdl_put(b, 31);
	pdl_put_str(b, "world", 5);
	pdl_put_str(b, "anyone", 6);
}

/* pd.submit(id, op, path, data, n, watch, record) -> xid; n: flags for
 * create, version for set/delete, mode for addwatch */
static int pdl_submit(lua_State *L)
{
	static const char *const opnames[] = {"create", "delete", "exists", "get", "set", "children",
					      "sync",   "close",  "addwatch", NULL};
	struct pdl_state *st = pdl_get(L);
	int id = pdl_check_client(L, st, 1);
	int op = luaL_checkoption(L, 2, NULL, opnames);
	const char *path = luaL_optstring(L, 3, "/");
	size_t len = 0;
	const char *data = luaL_optlstring(L, 4, "", &len);
	int32_t n = (int32_t)luaL_optinteger(L, 5, 0);
	bool watch = lua_toboolean(L, 6), record = lua_isnone(L, 7) || lua_toboolean(L, 7);
	struct zkc *z = st->ops->client_zkc(st->world, id);
	int32_t xid, code;
	switch (op) {
	case 0:
		xid = zkc_create(z, path, data, len, n);
		code = n == 4 ? 19 : 1;
		break;
	case 1:
		xid = zkc_delete(z, path, n);
		code = 2;
		break;
	case 2:
		xid = zkc_exists(z, path, watch);
		code = 3;
		break;
	case 3:
		xid = zkc_get_data(z, path, watch);
		code = 4;
		break;
	case 4:
		xid = zkc_set_data(z, path, data, len, n);
		code = 5;
		break;
	case 5:
		xid = zkc_get_children(z, path, watch);
		code = 12;
		break;
	case 6:
		xid = zkc_sync(z, path);
		code = 9;
		break;
	case 7:
		xid = zkc_close_session(z);
		code = -11;
		break;
	default:
		xid = zkc_add_watch(z, path, n);
		code = 106;
		break;
	}
	pdl_track(st, id, xid, code, path, record);
	st->ops->client_flush(st->world, id);
	lua_pushinteger(L, xid);
	return 1;
}

/* pd.multi(id, ops): ops = {{op="create"|"delete"|"set"|"check", path=,
 * data=, flags=, version=}, ...} -> xid */
static int pdl_multi(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	int id = pdl_check_client(L, st, 1);
	lua_Integer i, n;
	luaL_Buffer b;
	struct zkc *z;
	int32_t xid;
	size_t blen;
	const char *body;
	luaL_checktype(L, 2, LUA_TTABLE);
	n = (lua_Integer)luaL_len(L, 2);
	luaL_buffinit(L, &b);
	for (i = 1; i <= n; i++) {
		const char *kind, *path, *data;
		size_t plen, dlen = 0;
		lua_Integer flags, version;
		lua_geti(L, 2, i);
		luaL_checktype(L, -1, LUA_TTABLE);
		lua_getfield(L, -1, "op");
		kind = luaL_checkstring(L, -1);
		lua_getfield(L, -2, "path");
		path = luaL_checklstring(L, -1, &plen);
		lua_getfield(L, -3, "data");
		data = lua_isnil(L, -1) ? "" : luaL_checklstring(L, -1, &dlen);
		lua_getfield(L, -4, "flags");
		flags = luaL_optinteger(L, -1, 0);
		lua_getfield(L, -5, "version");
		version = luaL_optinteger(L, -1, -1);
		/* the buffer sits on the stack below these: copy what is needed
		 * first (luaL_Buffer wants its top untouched) */
		{
			char kbuf[16], pbuf[512];
			char *dcopy = malloc(dlen + 1);
			if (dcopy == NULL)
				abort();
			snprintf(kbuf, sizeof(kbuf), "%s", kind);
			if (plen >= sizeof(pbuf)) {
				free(dcopy);
				return luaL_error(L, "multi: path too long");
			}
			memcpy(pbuf, path, plen + 1);
			memcpy(dcopy, data, dlen);
			lua_pop(L, 6);
			if (strcmp(kbuf, "create") == 0) {
				pdl_put(&b, 1);
				luaL_addchar(&b, 0);
				pdl_put(&b, UINT32_MAX);
				pdl_put_str(&b, pbuf, plen);
				pdl_put_str(&b, dcopy, dlen);
				pdl_put_acl(&b);
				pdl_put(&b, (uint32_t)flags);
			} else if (strcmp(kbuf, "delete") == 0 || strcmp(kbuf, "check") == 0) {
				pdl_put(&b, strcmp(kbuf, "delete") == 0 ? 2 : 13);
				luaL_addchar(&b, 0);
				pdl_put(&b, UINT32_MAX);
				pdl_put_str(&b, pbuf, plen);
				pdl_put(&b, (uint32_t)version);
			} else if (strcmp(kbuf, "set") == 0) {
				pdl_put(&b, 5);
				luaL_addchar(&b, 0);
				pdl_put(&b, UINT32_MAX);
				pdl_put_str(&b, pbuf, plen);
				pdl_put_str(&b, dcopy, dlen);
				pdl_put(&b, (uint32_t)version);
			} else {
				free(dcopy);
				return luaL_error(L, "multi: unknown op '%s' (create, delete, set, check)", kbuf);
			}
			free(dcopy);
		}
	}
	pdl_put(&b, UINT32_MAX);
	luaL_addchar(&b, 1);
	pdl_put(&b, UINT32_MAX);
	luaL_pushresult(&b);
	body = lua_tolstring(L, -1, &blen);
	z = st->ops->client_zkc(st->world, id);
	xid = zkc_multi(z, body, blen);
	pdl_track(st, id, xid, 14, "", lua_isnone(L, 3) || lua_toboolean(L, 3));
	st->ops->client_flush(st->world, id);
	lua_pushinteger(L, xid);
	return 1;
}

/* --- decoding replies --- */

struct pdl_rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint32_t pdl_u32(struct pdl_rd *r)
{
	uint32_t v;
	if (r->off + 4 > r->len) {
		r->bad = true;
		return 0;
	}
	v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 | (uint32_t)r->p[r->off + 2] << 8 |
	    r->p[r->off + 3];
	r->off += 4;
	return v;
}

static int64_t pdl_i64(struct pdl_rd *r)
{
	uint64_t hi = pdl_u32(r);
	return (int64_t)(hi << 32 | pdl_u32(r));
}

static void pdl_push_str(lua_State *L, struct pdl_rd *r)
{
	int32_t n = (int32_t)pdl_u32(r);
	if (n < 0 || r->off + (size_t)n > r->len) {
		if (n >= 0)
			r->bad = true;
		lua_pushnil(L);
		return;
	}
	lua_pushlstring(L, (const char *)r->p + r->off, (size_t)n);
	r->off += (size_t)n;
}

static void pdl_push_stat(lua_State *L, struct pdl_rd *r)
{
	lua_createtable(L, 0, 11);
	lua_pushinteger(L, pdl_i64(r));
	lua_setfield(L, -2, "czxid");
	lua_pushinteger(L, pdl_i64(r));
	lua_setfield(L, -2, "mzxid");
	lua_pushinteger(L, pdl_i64(r));
	lua_setfield(L, -2, "ctime");
	lua_pushinteger(L, pdl_i64(r));
	lua_setfield(L, -2, "mtime");
	lua_pushinteger(L, (int32_t)pdl_u32(r));
	lua_setfield(L, -2, "version");
	lua_pushinteger(L, (int32_t)pdl_u32(r));
	lua_setfield(L, -2, "cversion");
	lua_pushinteger(L, (int32_t)pdl_u32(r));
	lua_setfield(L, -2, "aversion");
	lua_pushinteger(L, pdl_i64(r));
	lua_setfield(L, -2, "ephemeral_owner");
	lua_pushinteger(L, (int32_t)pdl_u32(r));
	lua_setfield(L, -2, "data_length");
	lua_pushinteger(L, (int32_t)pdl_u32(r));
	lua_setfield(L, -2, "num_children");
	lua_pushinteger(L, pdl_i64(r));
	lua_setfield(L, -2, "pzxid");
}

/* The reply of one op (op code) into the table on top. */
static void pdl_decode(lua_State *L, int32_t op, struct pdl_rd *r)
{
	switch (op) {
	case 1:
	case 19:
	case 9:
		pdl_push_str(L, r);
		lua_setfield(L, -2, "path");
		break;
	case 3:
	case 5:
		pdl_push_stat(L, r);
		lua_setfield(L, -2, "stat");
		break;
	case 4:
		pdl_push_str(L, r);
		lua_setfield(L, -2, "data");
		pdl_push_stat(L, r);
		lua_setfield(L, -2, "stat");
		break;
	case 12: {
		int32_t n = (int32_t)pdl_u32(r), i;
		if (n < 0 || (size_t)n > r->len) {
			r->bad = true;
			break;
		}
		lua_createtable(L, n, 0);
		for (i = 0; i < n && !r->bad; i++) {
			pdl_push_str(L, r);
			lua_seti(L, -2, i + 1);
		}
		lua_setfield(L, -2, "children");
		pdl_push_stat(L, r);
		lua_setfield(L, -2, "stat");
		break;
	}
	case 14: {
		int i = 1;
		lua_newtable(L);
		for (;;) {
			int32_t type = (int32_t)pdl_u32(r), err;
			bool done;
			if (r->bad || r->off >= r->len) {
				r->bad = true;
				break;
			}
			done = r->p[r->off++] != 0;
			err = (int32_t)pdl_u32(r);
			if (done)
				break;
			lua_newtable(L);
			if (type == -1) { /* an ErrorResponse follows */
				err = (int32_t)pdl_u32(r);
				lua_pushinteger(L, err);
				lua_setfield(L, -2, "err");
			} else {
				lua_pushinteger(L, 0);
				lua_setfield(L, -2, "err");
				pdl_decode(L, type, r);
			}
			lua_seti(L, -2, i++);
		}
		lua_setfield(L, -2, "results");
		break;
	}
	default:
		break;
	}
}

static struct pdl_pending pdl_untrack(struct pdl_state *st, int id, int32_t xid)
{
	struct pdl_client *c = &st->clients[id];
	struct pdl_pending p = {xid, -1, 0, 0};
	size_t i;
	for (i = 0; i < c->count; i++)
		if (c->pending[i].xid == xid) {
			p = c->pending[i];
			memmove(c->pending + i, c->pending + i + 1, (c->count - i - 1) * sizeof(*c->pending));
			c->count--;
			break;
		}
	return p;
}

static void pdl_count(struct pdl_state *st, uint64_t at_us, bool ok)
{
	uint64_t b = at_us / 1000 / PDL_BUCKET_MS;
	struct pdl_outcome *o = st->out;
	while (o->buckets_count <= b) {
		o->buckets = pdl_grow(o->buckets, &st->buckets_cap, o->buckets_count + 1, sizeof(*o->buckets));
		o->buckets[o->buckets_count].at_ms = o->buckets_count * PDL_BUCKET_MS;
		o->buckets[o->buckets_count].ok = 0;
		o->buckets[o->buckets_count].failed = 0;
		o->buckets_count++;
	}
	if (ok)
		o->buckets[b].ok++;
	else
		o->buckets[b].failed++;
}

/* pd.collect() -> list of {client=, xid=, err=, zxid=, ...} results and
 * {client=, event=type, path=} watch events, everything new since the
 * last call, in the order each client got them. */
static int pdl_collect(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	int id, n = 0;
	uint64_t now;
	if (st->world == NULL)
		return 0;
	now = st->ops->now_us(st->world);
	lua_newtable(L);
	for (id = 0; id < st->client_count; id++) {
		struct zkc *z = st->ops->client_zkc(st->world, id);
		struct zkc_event e;
		struct zkc_result r;
		if (z == NULL)
			continue;
		while (zkc_next_event(z, &e)) {
			lua_createtable(L, 0, 4);
			lua_pushinteger(L, id);
			lua_setfield(L, -2, "client");
			lua_pushinteger(L, e.type);
			lua_setfield(L, -2, "event");
			lua_pushinteger(L, e.state);
			lua_setfield(L, -2, "state");
			lua_pushstring(L, e.path);
			lua_setfield(L, -2, "path");
			lua_seti(L, -2, ++n);
		}
		while (zkc_next_result(z, &r)) {
			struct pdl_pending p = pdl_untrack(st, id, r.xid);
			struct pdl_rd rd = {r.body, r.body_len, 0, false};
			if (r.err == 0 && r.zxid > 0 && r.zxid < st->clients[id].last_zxid) {
				char msg[160];
				snprintf(msg, sizeof(msg), "client %d: a reply's zxid went back from 0x%" PRIx64 " to 0x%" PRIx64,
					 id, (uint64_t)st->clients[id].last_zxid, (uint64_t)r.zxid);
				return pdl_raise(L, "violation", msg);
			}
			if (r.zxid > st->clients[id].last_zxid)
				st->clients[id].last_zxid = r.zxid;
			pdl_count(st, now, r.err == 0);
			if (p.op_index >= 0) {
				struct pdl_op *o = &st->out->ops[p.op_index];
				o->returned_us = now;
				o->err = r.err;
				o->zxid = r.zxid;
			}
			lua_createtable(L, 0, 6);
			lua_pushinteger(L, id);
			lua_setfield(L, -2, "client");
			lua_pushinteger(L, r.xid);
			lua_setfield(L, -2, "xid");
			lua_pushinteger(L, r.err);
			lua_setfield(L, -2, "err");
			lua_pushinteger(L, r.zxid);
			lua_setfield(L, -2, "zxid");
			lua_pushinteger(L, (lua_Integer)(now - p.called_us));
			lua_setfield(L, -2, "latency_us");
			if (r.err == 0 || r.op == 14)
				pdl_decode(L, r.op == 19 ? 1 : r.op, &rd);
			if (rd.bad) {
				char msg[96];
				snprintf(msg, sizeof(msg), "client %d: a malformed %s reply", id, pdl_op_name(r.op));
				return pdl_raise(L, "violation", msg);
			}
			lua_seti(L, -2, ++n);
		}
	}
	return 1;
}

static int pdl_client_state(lua_State *L)
{
	static const char *const names[] = {"?", "connecting", "connected", "expired", "closed"};
	struct pdl_state *st = pdl_get(L);
	int id = pdl_check_client(L, st, 1);
	enum zkc_state s = zkc_state(st->ops->client_zkc(st->world, id));
	lua_pushstring(L, names[s <= ZKC_CLOSED ? s : 0]);
	return 1;
}

static int pdl_client_session(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	int id = pdl_check_client(L, st, 1);
	lua_pushinteger(L, (lua_Integer)zkc_session_id(st->ops->client_zkc(st->world, id)));
	return 1;
}

static int pdl_client_server(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	int id = pdl_check_client(L, st, 1);
	uint32_t s = st->ops->client_server(st->world, id);
	if (s == 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, s);
	return 1;
}

static int pdl_client_kill(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	st->ops->client_kill(st->world, pdl_check_client(L, st, 1));
	return 0;
}

static int pdl_client_pause(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	int id = pdl_check_client(L, st, 1);
	lua_Integer ms = luaL_checkinteger(L, 2);
	st->ops->client_pause(st->world, id, (uint64_t)(ms > 0 ? ms : 0));
	return 0;
}

static int pdl_random(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	lua_Integer lo = luaL_checkinteger(L, 1), hi = luaL_checkinteger(L, 2);
	pdl_need_world(L, st);
	if (hi < lo)
		return luaL_error(L, "random(%d, %d): an empty range", (int)lo, (int)hi);
	lua_pushinteger(L, lo + (lua_Integer)st->ops->random(st->world, 0, (uint64_t)(hi - lo)));
	return 1;
}

static int pdl_note(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	const char *kind = luaL_checkstring(L, 1), *detail = luaL_optstring(L, 2, "");
	lua_Integer server = luaL_optinteger(L, 3, 0);
	if (st->world != NULL)
		st->ops->note(st->world, (uint32_t)server, kind, detail);
	return 0;
}

/* pd.check(name, held, step, message): one row per name (held only if it
 * held every time it was checked). */
static int pdl_check(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	const char *name = luaL_checkstring(L, 1), *step = luaL_optstring(L, 3, ""), *msg = luaL_optstring(L, 4, "");
	int held = lua_toboolean(L, 2);
	struct pdl_outcome *o = st->out;
	size_t i;
	for (i = 0; i < o->checks_count; i++)
		if (strncmp(o->checks[i].name, name, sizeof(o->checks[i].name) - 1) == 0)
			break;
	if (i == o->checks_count) {
		o->checks = pdl_grow(o->checks, &st->checks_cap, o->checks_count + 1, sizeof(*o->checks));
		memset(&o->checks[i], 0, sizeof(o->checks[i]));
		snprintf(o->checks[i].name, sizeof(o->checks[i].name), "%s", name);
		snprintf(o->checks[i].step, sizeof(o->checks[i].step), "%s", step);
		o->checks[i].held = 1;
		o->checks_count++;
	}
	if (!held && o->checks[i].held) {
		o->checks[i].held = 0;
		snprintf(o->checks[i].step, sizeof(o->checks[i].step), "%s", step);
		snprintf(o->checks[i].message, sizeof(o->checks[i].message), "%s", msg);
	}
	return 0;
}

static int pdl_measure(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	const char *name = luaL_checkstring(L, 1);
	double v = luaL_checknumber(L, 2);
	struct pdl_outcome *o = st->out;
	size_t i;
	for (i = 0; i < o->figures_count; i++)
		if (strncmp(o->figures[i].name, name, sizeof(o->figures[i].name) - 1) == 0)
			break;
	if (i == o->figures_count) {
		o->figures = pdl_grow(o->figures, &st->figures_cap, o->figures_count + 1, sizeof(*o->figures));
		snprintf(o->figures[i].name, sizeof(o->figures[i].name), "%s", name);
		o->figures_count++;
	}
	o->figures[i].value = v;
	return 0;
}

static int pdl_set_step(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	snprintf(st->out->step, sizeof(st->out->step), "%s", luaL_checkstring(L, 1));
	return 0;
}

static int pdl_world_name(lua_State *L)
{
	struct pdl_state *st = pdl_get(L);
	lua_pushstring(L, st->ops->name);
	return 1;
}

static const luaL_Reg pdl_funcs[] = {
	{"open", pdl_open},
	{"now", pdl_now},
	{"now_us", pdl_now_us},
	{"advance", pdl_advance},
	{"servers", pdl_servers},
	{"state", pdl_state_of},
	{"fault", pdl_fault},
	{"client_new", pdl_client_new},
	{"submit", pdl_submit},
	{"multi", pdl_multi},
	{"collect", pdl_collect},
	{"client_state", pdl_client_state},
	{"client_session", pdl_client_session},
	{"client_server", pdl_client_server},
	{"client_kill", pdl_client_kill},
	{"client_pause", pdl_client_pause},
	{"random", pdl_random},
	{"note", pdl_note},
	{"check", pdl_check},
	{"measure", pdl_measure},
	{"set_step", pdl_set_step},
	{"world", pdl_world_name},
	{NULL, NULL},
};

/* The failure's fields, from the error value on top. */
static int pdl_failure(lua_State *L, struct pdl_outcome *out, const char *script, uint64_t seed, const char *replay)
{
	const char *kind = "script", *msg, *where = "", *step = out->step;
	int code;
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "kind");
		kind = lua_isstring(L, -1) ? lua_tostring(L, -1) : "fail";
		lua_getfield(L, -2, "msg");
		msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "(no message)";
		lua_getfield(L, -3, "where");
		where = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
		lua_getfield(L, -4, "step");
		if (lua_isstring(L, -1))
			step = lua_tostring(L, -1);
	} else {
		msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "(an error without a message)";
	}
	code = strcmp(kind, "fail") == 0	? PDL_FAILED
	       : strcmp(kind, "violation") == 0 ? PDL_VIOLATION
	       : strcmp(kind, "unsupported") == 0 ? PDL_UNSUPPORTED
						  : PDL_SCRIPT;
	snprintf(out->message, sizeof(out->message), "%s %s at step \"%s\"%s%s%s: %s; seed %" PRIu64 "; replay: %s",
		 out->name[0] != '\0' ? out->name : script,
		 code == PDL_FAILED	   ? "failed"
		 : code == PDL_VIOLATION   ? "found a violation"
		 : code == PDL_UNSUPPORTED ? "cannot run here"
					   : "has a script error",
		 step, where[0] != '\0' ? " (" : "", where, where[0] != '\0' ? ")" : "", msg, seed, replay);
	if (step != out->step)
		snprintf(out->step, sizeof(out->step), "%s", step);
	return code;
}

int pdl_run(const struct pdw_ops *ops, const char *script, uint64_t seed, const char *replay, struct pdl_outcome *out)
{
	struct pdl_state *st = calloc(1, sizeof(*st));
	lua_State *L;
	const char *base;
	int code = PDL_OK, i;
	if (st == NULL)
		abort();
	memset(out, 0, sizeof(*out));
	st->ops = ops;
	st->out = out;
	st->cfg.seed = seed;
	base = strrchr(script, '/');
	snprintf(out->name, sizeof(out->name), "%s", base != NULL ? base + 1 : script);
	if (strlen(out->name) > 4 && strcmp(out->name + strlen(out->name) - 4, ".lua") == 0)
		out->name[strlen(out->name) - 4] = '\0';
	snprintf(out->step, sizeof(out->step), "%s", "start");
	L = luaL_newstate();
	if (L == NULL)
		abort();
	luaL_openlibs(L);
	lua_pushlightuserdata(L, st);
	lua_setfield(L, LUA_REGISTRYINDEX, "pdl_state");
	luaL_newlib(L, pdl_funcs);
	lua_setglobal(L, "pd");
	lua_pushstring(L, script);
	lua_setglobal(L, "SCRIPT");
	lua_pushinteger(L, (lua_Integer)seed);
	lua_setglobal(L, "SEED");
	if (luaL_loadbuffer(L, pd_prelude_lua, sizeof(pd_prelude_lua) - 1, "=prelude") != LUA_OK ||
	    lua_pcall(L, 0, 1, 0) != LUA_OK) {
		code = pdl_failure(L, out, script, seed, replay);
		goto done;
	}
	/* the prelude returns its runner: runner(chunk) */
	if (luaL_loadfile(L, script) != LUA_OK) {
		code = pdl_failure(L, out, script, seed, replay);
		goto done;
	}
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		code = pdl_failure(L, out, script, seed, replay);
		goto done;
	}
	if (st->world != NULL && ops->finish(st->world, st->why, sizeof(st->why)) != 0) {
		lua_newtable(L);
		lua_pushstring(L, "violation");
		lua_setfield(L, -2, "kind");
		lua_pushstring(L, st->why);
		lua_setfield(L, -2, "msg");
		lua_pushstring(L, "the end");
		lua_setfield(L, -2, "step");
		code = pdl_failure(L, out, script, seed, replay);
	}
done:
	out->code = code;
	if (code == PDL_OK)
		out->message[0] = '\0';
	if (st->world != NULL) {
		size_t n;
		const struct pdw_note *tl = ops->timeline(st->world, &n);
		out->virtual_us = ops->now_us(st->world);
		out->digest = ops->digest != NULL ? ops->digest(st->world) : 0;
		if (n > 0) {
			out->timeline = malloc(n * sizeof(*tl));
			if (out->timeline == NULL)
				abort();
			memcpy(out->timeline, tl, n * sizeof(*tl));
			out->timeline_count = n;
		}
		ops->close(st->world);
	}
	lua_close(L);
	for (i = 0; i < PDL_CLIENTS_MAX; i++)
		free(st->clients[i].pending);
	free(st);
	return code;
}

void pdl_outcome_free(struct pdl_outcome *out)
{
	free(out->checks);
	free(out->figures);
	free(out->ops);
	free(out->buckets);
	free(out->timeline);
	memset(out, 0, sizeof(*out));
}
