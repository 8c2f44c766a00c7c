-- lone_voter.lua: one voter and two observers.  The voter is a quorum by itself: it
-- leads (ZooKeeper delivers a server's votes to itself, and its leader counts itself
-- among the followers it waits for), even while both observers are down, and a
-- client of an observer writes through it.
ensemble { servers = 3, observers = 2, tick = 200 }
expect(leader() == 1, "the voter leads", leader())
expect(role(2) == "observing" and role(3) == "observing", "the others observe")
local c = client { server = 2 }
expect(c:create("/via-observer", "x"), "a write through an observer")
step("the voter restarts while the observers are down")
crash(2)
crash(3)
crash(1)
restart(1)
eventually(function() return leader() == 1 end, 10000, "the voter leads again on its own")
local d = client { server = 1 }
expect(d:create("/alone", "x"), "a write with no observer up")
