-- election_storm.lua: five servers through a storm of leader crashes, isolations,
-- partitions, clogged leaders, clock jumps and restarts, round after round.  After each round the faults heal and
-- the ensemble must elect one leader that every server follows; writes acknowledged
-- along the way all survive.  The world checks all along that no epoch ever has two
-- leaders and that a zxid never names two different txns.
local ROUNDS = 6
ensemble { servers = 5, tick = 200 }
load { clients = 2 }

local w = client { timeout = 8000 }
expect(w:create("/storm", ""), "the parent is created")
local acked = {}
local writing = true
spawn(function()
  while writing do
    local p = w:create("/storm/n-", "v", { sequential = true })
    if p then acked[#acked + 1] = p end
    sleep(random(5, 50))
  end
end)

local worst = 0
for round = 1, ROUNDS do
  step("round " .. round)
  local l = leader()
  local move = random(1, 6)
  local down = {}
  if move == 1 and l then
    crash(l); down[#down + 1] = l
  elseif move == 2 and l then
    isolate(l)
  elseif move == 3 then
    local a, b = random(1, 5), random(1, 5)
    if a ~= b then partition({ a, b }, (function()
      local rest = {}
      for i = 1, 5 do if i ~= a and i ~= b then rest[#rest + 1] = i end end
      return rest
    end)()) end
  elseif move == 4 then
    local a = random(1, 5)
    crash(a); down[#down + 1] = a
    if l and l ~= a then crash(l); down[#down + 1] = l end
  elseif move == 5 and l then
    clog(l, random(500, 4000))       -- the leader hears nothing for a while, then everything
  else
    skew(random(1, 5), random(-5000, 5000)) -- a server's clock jumps
    if l then crash(l); down[#down + 1] = l end
  end
  sleep(random(100, 3000))
  heal()
  for _, i in ipairs(down) do restart(i) end
  local t0 = now()
  expect(await_formed(30000), "one leader that all five follow after round " .. round)
  local took = now() - t0
  if took > worst then worst = took end
end
measure("failover_ms", worst)

step("every acknowledged write survived")
writing = false
sleep(500)
expect_every_server_holds("/storm", acked)
measure("acked_writes", #acked)
