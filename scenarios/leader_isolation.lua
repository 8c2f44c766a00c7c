-- leader_isolation.lua: the leader is cut off from every other server and every client.
-- The others elect a new leader and keep taking writes; the isolated leader stops
-- serving; when the cut heals it rejoins as a follower and catches up with every
-- write made without it.
ensemble { servers = 3, tick = 200 }
load { clients = 2 }

local w = client()
expect(w:create("/data", "0"), "the data node is created")

step("the leader is isolated")
local old = leader()
isolate(old)
local t0 = now()

step("the others elect a new leader")
local new = await_leader(20000, old)
expect(new ~= nil and new ~= old, "a new leader other than the isolated one", new)
measure("failover_ms", now() - t0)
eventually(function() return not serving(old) end, 10000, "the isolated leader stops serving")

step("writes go on without it")
for k = 1, 10 do
  -- a client of the old leader loses its connection and moves on: it retries
  local st, err = retry(function() return w:set("/data", tostring(k)) end, 15000)
  expect(st ~= nil, "write " .. k .. " during the isolation succeeds", err)
end

step("the cut heals")
heal()
eventually(function() return role(old) == "following" and serving(old) end, 20000,
  "the old leader rejoins as a follower")
expect(leader() == new, "the new leader keeps leading", leader())

step("the old leader has every write")
local r = client { server = old }
expect(r:sync("/data"), "a sync through the old leader")
local v = r:get("/data")
expect(v == "10", "the old leader serves the last write", v)
