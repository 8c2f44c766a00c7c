-- session_expiry.lua: a worker holds an ephemeral node.  A pause shorter than its
-- session timeout costs nothing; a stall past the timeout expires the session: the
-- node vanishes, a watcher hears it, and the worker, when it wakes, finds its session
-- expired and every request failing with SESSIONEXPIRED.
local SESSION_MS = 4000
ensemble { servers = 3, tick = 200 }

local watcher = client()
expect(watcher:create("/workers", ""), "the workers parent is created")
local worker = client { timeout = SESSION_MS }
expect(worker:create("/workers/w1", "alive", { ephemeral = true }), "the worker registers")

step("a short pause keeps the session")
worker:pause(SESSION_MS // 3)
sleep(SESSION_MS)
expect(worker:state() == "connected", "the worker is still connected", worker:state())
expect(watcher:exists("/workers/w1") ~= nil, "its node is still there")

step("a stall past the timeout expires the session")
expect(watcher:exists("/workers/w1", { watch = true }) ~= nil, "the watcher watches the worker's node")
worker:pause(SESSION_MS * 3)
local t0 = now()
local ev = watcher:wait_event("/workers/w1", SESSION_MS * 3)
expect(ev ~= nil and ev.type == "deleted", "the watcher hears the node deleted", ev and ev.type)
local took = now() - t0
measure("expiry_ms", took)
-- the server last heard the worker up to a third of the timeout before the stall (an
-- idle client pings every third), and expires sessions on tick boundaries
expect(took >= SESSION_MS * 2 // 3 - 200, "not before the session timeout", took)
expect(took <= SESSION_MS * 2 + 2000, "and not long after it", took)

step("the worker wakes to an expired session")
eventually(function() return worker:state() == "expired" end, SESSION_MS * 4, "the worker learns its session expired")
local ok, err = worker:get("/workers")
expect(ok == nil and err == "SESSIONEXPIRED", "its requests fail with SESSIONEXPIRED", err)

step("a new session registers again")
local again = client { timeout = SESSION_MS }
expect(again:create("/workers/w1", "alive again", { ephemeral = true }), "the worker registers with a new session")
