-- disk_full.lua: a follower's disk fills up, then the leader's.  With one follower
-- refusing writes the other still makes a quorum, so writes go on.  When the leader's
-- disk refuses writes, nothing is acknowledged that is not durable on a quorum; writes
-- come back once the disk has room again, and nothing acknowledged is lost.
ensemble { servers = 3, tick = 200 }
load { clients = 2 }

local w = client { timeout = 8000 }
expect(w:create("/d", ""), "the parent is created")
local acked = {}
local function write(timeout_ms)
  local p, err = retry(function() return w:create("/d/n-", "v", { sequential = true }) end, timeout_ms)
  if p then acked[#acked + 1] = p end
  return p, err
end

step("a follower's disk is full")
local f = followers()[1]
disk_full(f, 3000)
for k = 1, 10 do
  local p, err = write(5000)
  expect(p ~= nil, "write " .. k .. " succeeds while one follower's disk is full", err)
end
sleep(3000)

step("the leader's disk is full")
local l = leader()
disk_full(l, 2000)
local t0 = now()
sleep(2000)

step("writes come back once the disk has room")
local p, err = write(30000)
expect(p ~= nil, "a write succeeds after the disk recovers", err)
measure("recovery_ms", now() - t0)
expect(await_formed(30000), "the ensemble is whole again")

step("nothing acknowledged is lost")
expect_every_server_holds("/d", acked)
