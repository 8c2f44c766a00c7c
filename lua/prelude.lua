-- prelude.lua: the scenario language (docs/scenarios.md), on top of the `pd`
-- primitives of lua/scenario.c.  Embedded in the paddock binary; it returns the
-- runner, which runs a scenario chunk as the main task of a small scheduler:
-- tasks are coroutines, a blocking call (a client request, sleep, wait_until)
-- yields a condition, and the world advances (virtual time in the simulator,
-- real time against processes) until some task's condition holds.
local pd = pd
local QUANTUM_US = 10000          -- the longest step of time between two looks
local REQUEST_TIMEOUT_MS = 30000  -- a request unanswered this long returns nil, "TIMEOUT"
local FORM_TIMEOUT_MS = 60000     -- an ensemble must elect a leader within this

local tasks, current = {}, nil
local clients_by_id = {}
local step_name = "start"

local ERRNAMES = {
  [0] = "OK", [-1] = "SYSTEMERROR", [-2] = "RUNTIMEINCONSISTENCY", [-4] = "CONNECTIONLOSS",
  [-5] = "MARSHALLINGERROR", [-6] = "UNIMPLEMENTED", [-7] = "OPERATIONTIMEOUT", [-8] = "BADARGUMENTS",
  [-101] = "NONODE", [-102] = "NOAUTH", [-103] = "BADVERSION", [-108] = "NOCHILDRENFOREPHEMERALS",
  [-110] = "NODEEXISTS", [-111] = "NOTEMPTY", [-112] = "SESSIONEXPIRED", [-114] = "INVALIDACL",
  [-115] = "AUTHFAILED", [-118] = "SESSIONMOVED", [-119] = "NOTREADONLY", [-121] = "NOWATCHER",
  [-123] = "RECONFIGDISABLED", [-125] = "QUOTAEXCEEDED",
}
local function errname(code) return ERRNAMES[code] or ("ERROR" .. tostring(code)) end

-- Where in the script a failure happened: the innermost frame of the script file.
local function script_where(co)
  for level = 0, 60 do
    local info
    if co then info = debug.getinfo(co, level, "Sl") else info = debug.getinfo(level, "Sl") end
    if not info then break end
    if info.source == "@" .. SCRIPT then return SCRIPT .. ":" .. tostring(info.currentline) end
  end
  return nil
end

local function raise(kind, msg)
  error({ kind = kind, msg = msg, step = step_name, where = script_where() }, 0)
end

-- Tasks -----------------------------------------------------------------------

local function resume(t)
  current = t
  local ok, err = coroutine.resume(t.co, table.unpack(t.args or {}))
  t.args = nil
  current = nil
  if not ok then
    if type(err) ~= "table" then
      err = { kind = "script", msg = tostring(err) }
    end
    err.step = err.step or step_name
    err.where = err.where or script_where(t.co)
    error(err, 0)
  end
  if coroutine.status(t.co) == "dead" then
    t.done = true
  else
    t.pred = err -- what it waits for (coroutine.yield's value)
  end
end

-- Runs fn(...) as a task beside the others; returns the task (see join).
function spawn(fn, ...)
  local t = { co = coroutine.create(fn), args = { ... } }
  tasks[#tasks + 1] = t
  return t
end

-- Blocks the calling task until pred() holds.
local function block(pred)
  if pred() then return end
  if current == nil then error("a blocking call outside a task", 2) end
  coroutine.yield(pred)
end

function now() return pd.now() end

function sleep(ms)
  local deadline = pd.now_us() + math.floor(ms * 1000)
  block(function() return pd.now_us() >= deadline end)
end

-- Waits until pred() holds or timeout_ms passes; true if it held.
function wait_until(pred, timeout_ms)
  local deadline = pd.now_us() + math.floor((timeout_ms or REQUEST_TIMEOUT_MS) * 1000)
  block(function() return pred() or pd.now_us() >= deadline end)
  return pred() and true or false
end

function join(t, timeout_ms)
  return wait_until(function() return t.done end, timeout_ms)
end

-- Expectations ----------------------------------------------------------------

function step(name)
  step_name = tostring(name)
  pd.set_step(step_name)
  pd.note("step", step_name)
end

function expect(cond, what, detail)
  what = what or "an expectation"
  pd.check(what, cond and true or false, step_name, detail and tostring(detail) or "")
  if not cond then
    raise("fail", "expected " .. what .. (detail and (" (" .. tostring(detail) .. ")") or ""))
  end
  return cond
end

-- Waits for pred() (up to timeout_ms) and fails the scenario if it never holds.
function eventually(pred, timeout_ms, what)
  timeout_ms = timeout_ms or REQUEST_TIMEOUT_MS
  local ok = wait_until(pred, timeout_ms)
  what = what or "a condition to hold in time"
  pd.check(what, ok, step_name, ok and "" or ("not within " .. tostring(timeout_ms) .. " ms"))
  if not ok then raise("fail", "expected " .. what .. " within " .. tostring(timeout_ms) .. " ms") end
  return true
end

function fail(msg) raise("fail", msg) end

-- Calls fn() until it returns a value, retrying (every 50 ms) while it fails with
-- CONNECTIONLOSS or TIMEOUT, as a ZooKeeper application retries an idempotent call;
-- gives up after timeout_ms.  Returns fn's results.
function retry(fn, timeout_ms)
  local deadline = pd.now() + (timeout_ms or REQUEST_TIMEOUT_MS)
  while true do
    local r = table.pack(fn())
    local err = r[2]
    if r[1] ~= nil or (err ~= "CONNECTIONLOSS" and err ~= "TIMEOUT") or pd.now() >= deadline then
      return table.unpack(r, 1, r.n)
    end
    sleep(50)
  end
end

function measure(name, value)
  pd.measure(name, value)
  pd.note("measure", name .. "=" .. tostring(value))
end

function note(text) pd.note("note", tostring(text)) end

function random(lo, hi) return pd.random(lo, hi) end

function world() return pd.world() end

-- The ensemble -------------------------------------------------------------------

local opened = false

local function leader_now()
  for i = 1, pd.servers() do
    local role, serving = pd.state(i)
    if role == "leading" and serving then return i end
  end
  return nil
end

local function formed()
  local l = leader_now()
  if not l then return false end
  for i = 1, pd.servers() do
    local role, serving, lead = pd.state(i)
    if role ~= "down" and not (serving and lead == l) then return false end
  end
  return true
end

function ensemble(cfg)
  cfg = cfg or {}
  pd.open(cfg)
  opened = true
  local t0 = pd.now()
  if not wait_until(formed, cfg.form_timeout or FORM_TIMEOUT_MS) then
    raise("fail", "the ensemble did not elect a leader that every server follows within "
      .. tostring(cfg.form_timeout or FORM_TIMEOUT_MS) .. " ms")
  end
  measure("first_election_ms", pd.now() - t0)
  return leader_now()
end

local function ensure()
  if not opened then ensemble({}) end
end

function servers() ensure() return pd.servers() end
function leader() ensure() return leader_now() end

function role(i) ensure() return (pd.state(i)) end

function serving(i) ensure() local _, s = pd.state(i) return s end

function state(i)
  ensure()
  local r, s, l, e, z, round = pd.state(i)
  return { role = r, serving = s, leader = l, epoch = e, zxid = z, election_round = round }
end

local function members(want)
  ensure()
  local out = {}
  for i = 1, pd.servers() do
    local r, s = pd.state(i)
    if r == want and s then out[#out + 1] = i end
  end
  return out
end

function followers() return members("following") end
function observers() return members("observing") end

-- Waits for a serving leader other than `other` (nil: any); returns it, or nil.
function await_leader(timeout_ms, other)
  local l
  wait_until(function()
    l = leader_now()
    return l ~= nil and l ~= other
  end, timeout_ms or FORM_TIMEOUT_MS)
  return (l ~= nil and l ~= other) and l or nil
end

-- Waits until every running server follows one serving leader.
function await_formed(timeout_ms)
  ensure()
  return wait_until(formed, timeout_ms or FORM_TIMEOUT_MS)
end

-- Faults ---------------------------------------------------------------------------

-- A server number, or a script error naming the verb (crash(leader()) while no leader
-- is elected passes nil).
local function sid(verb, i)
  if math.type(i) ~= "integer" or i < 1 or i > pd.servers() then
    error(verb .. ": there is no server " .. tostring(i) .. " (the ensemble has " .. pd.servers() .. ")", 3)
  end
  return i
end
local function ms_arg(verb, ms)
  if math.type(ms) ~= "integer" then error(verb .. ": a duration in ms, not " .. tostring(ms), 3) end
  return ms
end

function crash(i) ensure() pd.fault("crash", sid("crash", i)) end
function torn_write(i) ensure() pd.fault("torn_write", sid("torn_write", i)) end
function restart(i) ensure() pd.fault("restart", sid("restart", i)) end
function wipe(i) ensure() pd.fault("wipe", sid("wipe", i)) end
function isolate(i) ensure() pd.fault("isolate", sid("isolate", i)) end
function heal() ensure() pd.fault("heal", 0) end
function skew(i, ms) ensure() pd.fault("skew", sid("skew", i), ms_arg("skew", ms)) end
function clog(i, ms) ensure() pd.fault("clog", sid("clog", i), ms_arg("clog", ms)) end
function disk_full(i, ms) ensure() pd.fault("disk_full", sid("disk_full", i), ms_arg("disk_full", ms)) end
function partition(...)
  ensure()
  local groups = { ... }
  pd.fault("partition", 0, 0, groups)
end

-- Clients ---------------------------------------------------------------------------

local Client = {}
Client.__index = Client
local EVENT_NAMES = { [1] = "created", [2] = "deleted", [3] = "changed", [4] = "child", [-1] = "expired" }

function client(opts)
  ensure()
  opts = opts or {}
  local id = pd.client_new(opts.server or 0, opts.timeout or 10000)
  local c = setmetatable({ id = id, results = {}, events_q = {}, quiet = opts.quiet, name = opts.name }, Client)
  clients_by_id[id] = c
  return c
end

local function dispatch(list)
  if not list then return end
  for _, r in ipairs(list) do
    local c = clients_by_id[r.client]
    if c then
      if r.event then
        c.events_q[#c.events_q + 1] = { type = EVENT_NAMES[r.event] or tostring(r.event), path = r.path }
      elseif not c.abandoned or not c.abandoned[r.xid] then
        c.results[r.xid] = r
      else
        c.abandoned[r.xid] = nil
      end
    end
  end
end

-- Waits for the reply to xid; returns it, or nil, "TIMEOUT".
local function await(c, xid)
  if c.killed then return nil, "CONNECTIONLOSS" end -- its process is gone: nothing will answer
  local deadline = pd.now_us() + REQUEST_TIMEOUT_MS * 1000
  block(function() return c.results[xid] ~= nil or pd.now_us() >= deadline end)
  local r = c.results[xid]
  c.results[xid] = nil
  if r == nil then
    c.abandoned = c.abandoned or {}
    c.abandoned[xid] = true
    return nil, "TIMEOUT"
  end
  return r
end

local function submit(c, op, path, data, n, watch)
  return pd.submit(c.id, op, path, data, n, watch, not c.quiet)
end

local function outcome(r, e, value)
  if not r then return nil, e end
  if r.err ~= 0 then return nil, errname(r.err) end
  return value(r)
end

function Client:create(path, data, opts)
  opts = opts or {}
  local flags = (opts.ephemeral and 1 or 0) + (opts.sequential and 2 or 0)
  if opts.container then flags = 4 end
  local r, e = await(self, submit(self, "create", path, data or "", flags))
  return outcome(r, e, function(x) return x.path end)
end

function Client:get(path, opts)
  local r, e = await(self, submit(self, "get", path, "", 0, opts and opts.watch))
  return outcome(r, e, function(x) return x.data or "", x.stat end)
end

function Client:set(path, data, version)
  local r, e = await(self, submit(self, "set", path, data or "", version or -1))
  return outcome(r, e, function(x) return x.stat end)
end

function Client:delete(path, version)
  local r, e = await(self, submit(self, "delete", path, "", version or -1))
  return outcome(r, e, function() return true end)
end

function Client:exists(path, opts)
  local r, e = await(self, submit(self, "exists", path, "", 0, opts and opts.watch))
  return outcome(r, e, function(x) return x.stat end)
end

function Client:children(path, opts)
  local r, e = await(self, submit(self, "children", path, "", 0, opts and opts.watch))
  return outcome(r, e, function(x)
    table.sort(x.children)
    return x.children, x.stat
  end)
end

function Client:sync(path)
  local r, e = await(self, submit(self, "sync", path or "/", ""))
  return outcome(r, e, function() return true end)
end

function Client:add_watch(path, opts)
  local mode = (opts and opts.recursive) and 1 or 0
  local r, e = await(self, submit(self, "addwatch", path, "", mode))
  return outcome(r, e, function() return true end)
end

-- ops: {{op="create", path=, data=, ephemeral=, sequential=}, {op="delete", path=, version=},
--       {op="set", path=, data=, version=}, {op="check", path=, version=}}
function Client:multi(ops)
  local enc = {}
  for i, o in ipairs(ops) do
    local flags = (o.ephemeral and 1 or 0) + (o.sequential and 2 or 0)
    enc[i] = { op = o.op, path = o.path, data = o.data, flags = flags, version = o.version }
  end
  local r, e = await(self, pd.multi(self.id, enc, not self.quiet))
  if not r then return nil, e end
  local results = r.results or {}
  local cause -- a failed multi marks the other ops RUNTIMEINCONSISTENCY, the culprit with its own error
  for _, x in ipairs(results) do
    if x.err ~= 0 then
      x.error = errname(x.err)
      if cause == nil or cause == "RUNTIMEINCONSISTENCY" then cause = x.error end
    end
  end
  if r.err ~= 0 then return nil, errname(r.err), results end
  if cause then return nil, cause, results end
  return results
end

function Client:close()
  local r, e = await(self, submit(self, "close", "/", ""))
  return outcome(r, e, function() return true end)
end

function Client:kill()
  self.killed = true
  pd.client_kill(self.id)
end
function Client:pause(ms) pd.client_pause(self.id, ms) end
function Client:state() return self.killed and "killed" or pd.client_state(self.id) end
function Client:session() return pd.client_session(self.id) end
function Client:server() return pd.client_server(self.id) end

function Client:wait_connected(timeout_ms)
  return wait_until(function() return pd.client_state(self.id) == "connected" end, timeout_ms)
end

-- The watch events that arrived since the last call: {type=, path=} each.
function Client:events()
  local q = self.events_q
  self.events_q = {}
  return q
end

-- Waits for a watch event (on path, if given); returns it (taken off the queue), or nil.
function Client:wait_event(path, timeout_ms)
  local function index()
    for i, e in ipairs(self.events_q) do
      if path == nil or e.path == path then return i end
    end
    return nil
  end
  wait_until(function() return index() ~= nil end, timeout_ms)
  local i = index()
  return i and table.remove(self.events_q, i) or nil
end

-- Checks, through a client of each server in turn (after a sync), that every server
-- lists every path of `paths` (full paths) under parent; returns how many were checked.
function expect_every_server_holds(parent, paths)
  for i = 1, pd.servers() do
    local r = client { server = i }
    retry(function() return r:sync(parent) end, 20000)
    local kids = retry(function() return r:children(parent) end, 20000) or {}
    local have = {}
    for _, k in ipairs(kids) do have[parent .. "/" .. k] = true end
    local missing = 0
    for _, p in ipairs(paths) do if not have[p] then missing = missing + 1 end end
    expect(missing == 0, "server " .. i .. " holds every acknowledged write",
      missing .. " of " .. #paths .. " missing")
    r:close()
  end
  return #paths
end

-- Background load: n clients each writing its own znode under root every think_ms;
-- the throughput plot of the run record counts these.  Returns the clients.
function load(opts)
  ensure()
  opts = opts or {}
  local n, think, root = opts.clients or 2, opts.think_ms or 20, opts.root or "/load"
  local out = {}
  for k = 1, n do
    local c = client({ quiet = true, timeout = opts.timeout or 10000 })
    out[k] = c
    spawn(function()
      local path = root .. "-" .. tostring(k)
      local made = false
      local i = 0
      while true do
        if c:state() == "expired" or c:state() == "closed" then return end
        if not made then
          local ok, e = c:create(path, "0")
          made = ok ~= nil or e == "NODEEXISTS"
        else
          i = i + 1
          c:set(path, tostring(i))
        end
        sleep(think)
      end
    end)
  end
  return out
end

-- The runner ----------------------------------------------------------------------

math.random = function(lo, hi)
  if lo == nil then return pd.random(0, 1000000) / 1000000 end
  if hi == nil then lo, hi = 1, lo end
  return pd.random(lo, hi)
end
math.randomseed = function() end

return function(chunk)
  local main = spawn(chunk)
  while true do
    local progressed = true
    while progressed do
      progressed = false
      local n = #tasks
      for i = 1, n do
        local t = tasks[i]
        if not t.done and (t.pred == nil or t.pred()) then
          t.pred = nil
          resume(t)
          progressed = true
        end
      end
      if main.done then break end
    end
    if main.done then break end
    local keep = {}
    for _, t in ipairs(tasks) do if not t.done then keep[#keep + 1] = t end end
    tasks = keep
    pd.advance(QUANTUM_US)
    dispatch(pd.collect())
  end
  if opened then
    local rounds = 0
    for i = 1, pd.servers() do
      local _, _, _, _, _, round = pd.state(i)
      if round > rounds then rounds = round end
    end
    pd.measure("election_rounds", rounds)
  end
end
