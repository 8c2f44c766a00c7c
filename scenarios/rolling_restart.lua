-- rolling_restart.lua: an operator restarts every server in turn, the followers first
-- and the leader last, waiting each time for the ensemble to form again.  Writes go on
-- all along; none that was acknowledged is lost, and each step keeps the service up.
ensemble { servers = 3, tick = 200 }
load { clients = 2 }

local w = client { timeout = 8000 }
expect(w:create("/log", ""), "the log parent is created")
local acked = {}

local function write_some(n)
  for _ = 1, n do
    local p = w:create("/log/e-", "x", { sequential = true })
    if p then acked[#acked + 1] = p end
  end
end

write_some(5)
local order = followers()
order[#order + 1] = leader()
for _, i in ipairs(order) do
  step("restart server " .. i .. " (" .. role(i) .. ")")
  crash(i)
  write_some(3)
  sleep(random(100, 1000))
  restart(i)
  expect(await_formed(30000), "the ensemble forms again after server " .. i .. " restarts")
  local before = #acked
  write_some(5)
  expect(#acked >= before + 5, "writes succeed after server " .. i .. " is back", #acked - before)
end

step("no acknowledged write is lost")
expect_every_server_holds("/log", acked)
measure("acked_writes", #acked)
