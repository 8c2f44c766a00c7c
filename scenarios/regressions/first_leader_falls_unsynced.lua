-- regression: election seed 3067 (paddock fuzz, found 2026-11-26; shrunk to one move: the first
-- leader of a fresh ensemble isolated for 1.8 s, 14 ms after it was elected).
-- Its followers had accepted its epoch, so they told each other of epoch 1 with no txns.  Each
-- still counted itself as a fresh, empty disk, took that epoch for a history it lacked (as a
-- wiped disk would) and stopped voting; the old leader could not win alone: no leader ever again.
-- A server that has made a promise to a leader is no longer an empty disk (core/peer.c,
-- peer_epoch_durable).
local function others(s) local t = {} for i = 1, servers() do if i ~= s then t[#t + 1] = i end end return t end
ensemble { servers = 3, tick = 300 }

step("every disk wiped: a fresh ensemble")
for i = 1, 3 do crash(i) end
for i = 1, 3 do wipe(i) end
for i = 1, 3 do restart(i) end

step("its first leader is cut off before it syncs anyone")
local l
wait_until(function()
  for i = 1, 3 do
    if role(i) == "leading" then l = i return true end
  end
  return false
end, 20000)
expect(l ~= nil and not serving(l), "a leader that has not synced anyone yet", l)
partition({ l }, others(l))
sleep(1800)
heal()

step("a leader again")
eventually(function()
  local n, lead = 0, leader()
  for i = 1, 3 do
    if lead ~= nil and serving(i) and state(i).leader == lead then n = n + 1 end
  end
  return n >= 2
end, 15000, "a quorum follows one serving leader")
