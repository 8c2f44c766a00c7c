-- old_master_stays.lua: a scenario that expects something false (the crashed master stays
-- master), so the test can check how a failing expectation is reported.
ensemble { servers = 3, tick = 200 }
local admin = client()
expect(admin:create("/election", ""), "the election parent is created")
local a = client { timeout = 4000 }
local b = client { timeout = 4000 }
local pa = a:create("/election/master-", "A", { ephemeral = true, sequential = true })
expect(b:create("/election/master-", "B", { ephemeral = true, sequential = true }), "master B registers")
step("the master crashes")
a:kill()
sleep(12000)
step("the old master stays master")
local kids = admin:children("/election")
expect("/election/" .. kids[1] == pa, "master A to be active still", kids[1])
