-- minority_partition.lua: five servers split two against three, the leader on the
-- minority side.  The majority elects a leader among itself and takes writes; the
-- minority stops serving (a client pinned to it cannot write); after the heal every
-- server converges on the majority's history.
ensemble { servers = 5, tick = 200 }
load { clients = 2 }

local old = leader()
local minority, majority = { old }, {}
for i = 1, servers() do
  if i ~= old then
    if #minority < 2 then minority[#minority + 1] = i else majority[#majority + 1] = i end
  end
end

local w = client { server = majority[1] }
expect(w:create("/counter", "0"), "the counter is created")

step("the ensemble splits, the leader in the minority")
local stuck = client { server = minority[2], timeout = 6000 }
expect(stuck:wait_connected(5000), "a client of the minority connects")
partition(minority, majority)
local t0 = now()

step("the majority elects a leader")
local new = await_leader(20000, old)
expect(new ~= nil, "a leader in the majority", new)
local in_majority = false
for _, i in ipairs(majority) do if i == new then in_majority = true end end
expect(in_majority, "the new leader is one of the majority", new)
measure("failover_ms", now() - t0)

step("the minority stops serving and cannot write")
eventually(function() return not serving(minority[1]) and not serving(minority[2]) end, 10000,
  "neither minority server serves")
local st, err = stuck:set("/counter", "minority")
expect(st == nil, "a write through the minority fails", err)
-- its outcome is unknown to the client (a request made while it reconnects waits in
-- the client for a server): the application gives up, and its process ends
stuck:kill()

step("the majority takes writes")
for k = 1, 5 do
  local ok, e = w:set("/counter", tostring(k))
  expect(ok ~= nil, "majority write " .. k, e)
end

step("the partition heals and everyone converges")
heal()
expect(await_formed(30000), "all five servers follow one leader again")
for i = 1, servers() do
  local r = client { server = i }
  r:sync("/counter")
  local v = r:get("/counter")
  expect(v == "5", "server " .. i .. " has the majority's last write", v)
  r:close()
end
