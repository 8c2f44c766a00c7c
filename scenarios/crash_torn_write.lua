-- crash_torn_write.lua: servers die in the middle of writing their log, leaving a torn
-- record at its tail (the simulator tears the unsynced bytes at a drawn point).  Each
-- restarts and must recover to its last whole record, rejoin, and lose nothing that
-- was acknowledged; at the end every server holds every acknowledged write, and
-- servers at one zxid hold one state (the world compares their digests).
ensemble { servers = 3, tick = 200 }
load { clients = 3, think_ms = 5 }

local w = client { timeout = 8000 }
expect(w:create("/acked", ""), "the parent is created")
local acked = {}
local writing = true
spawn(function()
  while writing do
    local p = w:create("/acked/n-", "v", { sequential = true })
    if p then acked[#acked + 1] = p end
    sleep(random(1, 10))
  end
end)

for round = 1, 3 do
  step("round " .. round .. ": a server dies mid-write")
  sleep(random(200, 1500))
  local victim = random(1, servers())
  if round == 3 then victim = leader() or victim end
  torn_write(victim)
  sleep(random(50, 800))
  restart(victim)
  expect(await_formed(30000), "the ensemble forms again after round " .. round)
end

step("every acknowledged write survived")
writing = false
sleep(500)
expect(#acked > 0, "some writes were acknowledged", #acked)
expect_every_server_holds("/acked", acked)
measure("acked_writes", #acked)
