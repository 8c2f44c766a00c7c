-- lock_contention.lua: many clients take turns holding one lock, built the ZooKeeper
-- way: an EPHEMERAL_SEQUENTIAL node under /lock; the lowest holds it, every other
-- watches the node just below its own.  Inside the lock each does a read-modify-write
-- of /counter.  Checked: never two holders at once; no update lost (the counter ends
-- at the number of turns); every client gets its turns, through a leader crash.
local CLIENTS, TURNS = 8, 3
ensemble { servers = 3, tick = 200 }

local admin = client()
expect(admin:create("/lock", ""), "the lock parent is created")
expect(admin:create("/counter", "0"), "the counter is created")

local holder, max_holders, holders, turns_done = nil, 0, 0, 0

local function acquire(c, me)
  local prefix = "c" .. me .. "-lock-"
  local mine
  -- a create lost to a connection loss may still have happened: look for our node
  while mine == nil do
    local p, err = c:create("/lock/" .. prefix, "", { ephemeral = true, sequential = true })
    if p then
      mine = p
    else
      local kids = retry(function() return c:children("/lock") end, 20000) or {}
      for _, k in ipairs(kids) do if k:sub(1, #prefix) == prefix then mine = "/lock/" .. k end end
      if mine == nil and err ~= "CONNECTIONLOSS" and err ~= "TIMEOUT" then fail("lock create: " .. tostring(err)) end
    end
  end
  local seq = function(name) return tonumber(name:match("(%d+)$")) end
  while true do
    local kids = retry(function() return c:children("/lock") end, 20000)
    expect(kids ~= nil, "the lock's children can be read")
    table.sort(kids, function(x, y) return seq(x) < seq(y) end)
    local below
    for _, k in ipairs(kids) do
      if "/lock/" .. k == mine then break end
      below = "/lock/" .. k
    end
    if below == nil then return mine end
    local st = retry(function()
      local s, e = c:exists(below, { watch = true })
      if s == nil and e == "NONODE" then return false end
      return s, e
    end, 20000)
    if st then c:wait_event(below, 10000) end
  end
end

local function worker(me)
  local c = client { timeout = 8000 }
  for _ = 1, TURNS do
    local mine = acquire(c, me)
    holders = holders + 1
    if holders > max_holders then max_holders = holders end
    expect(holder == nil, "mutual exclusion: one holder at a time",
      "client " .. me .. " entered while client " .. tostring(holder) .. " held the lock")
    holder = me
    local v, st = retry(function() return c:get("/counter") end, 20000)
    sleep(random(1, 20))
    local ok, err = retry(function() return c:set("/counter", tostring(tonumber(v) + 1), st.version) end, 20000)
    expect(ok ~= nil, "the counter update inside the lock succeeds", err)
    turns_done = turns_done + 1
    holder = nil
    holders = holders - 1
    retry(function() return c:delete(mine) end, 20000)
  end
  c:close()
end

step("the clients contend")
local ws = {}
for me = 1, CLIENTS do ws[me] = spawn(worker, me) end
sleep(random(200, 1500))
step("the leader crashes while they contend")
local l = leader()
crash(l)
sleep(random(200, 1000))
restart(l)
step("every client gets its turns")
for me = 1, CLIENTS do expect(join(ws[me], 120000), "client " .. me .. " finishes its turns") end
expect(turns_done == CLIENTS * TURNS, "every turn was taken", turns_done)
local v = admin:get("/counter")
expect(tonumber(v) == CLIENTS * TURNS, "no update was lost: the counter is " .. CLIENTS * TURNS, v)
measure("max_holders", max_holders)
