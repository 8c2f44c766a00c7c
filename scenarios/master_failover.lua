-- master_failover.lua: the founding story.  Two masters register EPHEMERAL_SEQUENTIAL
-- nodes under /election; the lowest is active, the other standby, watching the node
-- just below its own.  The active master's process dies: its session expires, its node
-- vanishes, and the standby takes over.  The old master comes back, registers again and
-- stays standby.
--
-- ZooKeeper numbers a sequential node by the number of children its parent ever had
-- created (removals do not count).  The deployment that made /election ran one master
-- that has since gone (master-0000000000), so the two masters are master-0000000001
-- and master-0000000002, and the returning master registers as master-0000000003.
local SESSION_MS = 4000

ensemble { servers = 3, tick = 200 }
load { clients = 2 }

step("the deployment made /election, and a first master came and went")
local admin = client()
expect(admin:create("/election", ""), "the election parent is created")
local first = client()
expect(first:create("/election/master-", "boot", { ephemeral = true, sequential = true }) ==
  "/election/master-0000000000", "the first master was master-0000000000")
expect(first:close(), "the first master closed its session")

-- A master: register, then be active when lowest, else watch the node below.
local function register(c, name)
  local path, err = c:create("/election/master-", name, { ephemeral = true, sequential = true })
  expect(path ~= nil, name .. " registers", err)
  return path
end

local function active(c, mine)
  local kids, err = c:children("/election")
  if not kids then return nil, err end
  return "/election/" .. kids[1] == mine
end

step("two masters register")
local a = client { timeout = SESSION_MS, name = "master A" }
local b = client { timeout = SESSION_MS, name = "master B" }
local pa = register(a, "A")
local pb = register(b, "B")
expect(pa == "/election/master-0000000001", "master A is master-0000000001", pa)
expect(pb == "/election/master-0000000002", "master B is master-0000000002", pb)
expect(active(a, pa) == true, "master A (the lowest) is active")
expect(active(b, pb) == false, "master B is standby")
-- the standby watches its predecessor
expect(b:exists(pa, { watch = true }) ~= nil, "master B watches master A's node")

step("the active master's process dies")
sleep(random(0, 500))
a:kill()
local t0 = now()

step("the standby takes over")
local ev = b:wait_event(pa, SESSION_MS * 3)
expect(ev ~= nil and ev.type == "deleted", "master B hears master A's node deleted", ev and ev.type)
expect(active(b, pb) == true, "master B is active")
measure("failover_ms", now() - t0)
expect(now() - t0 >= SESSION_MS - 2 * 200, "the takeover waited for the session to expire", now() - t0)

step("the old master returns")
local a2 = client { timeout = SESSION_MS, name = "master A again" }
local pa2 = register(a2, "A")
expect(pa2 == "/election/master-0000000003", "the returning master registers as master-0000000003", pa2)
expect(active(a2, pa2) == false, "the returning master stays standby")
expect(active(b, pb) == true, "master B stays active")

step("every server agrees")
for i = 1, servers() do
  local r = client { server = i }
  r:sync("/election")
  local kids = r:children("/election")
  expect(kids and #kids == 2 and kids[1] == "master-0000000002" and kids[2] == "master-0000000003",
    "server " .. i .. " lists master-0000000002 and master-0000000003", kids and table.concat(kids, ","))
  r:close()
end
