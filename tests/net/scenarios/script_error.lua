-- script_error.lua: a scenario with a mistake in it (a call on nil), for the test.
ensemble { servers = 1, tick = 200 }
step("a mistake")
local c = client()
c:create("/x", "")
local missing = nil
missing.field = 1
