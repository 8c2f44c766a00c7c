# The paddock binary's commands and configuration errors.
pd_add_py_test(cli_paddock SCRIPT tests/net/test_cli.py LABELS net TIMEOUT 120)
pd_add_py_test(restart_recovery SCRIPT tests/net/test_restart.py LABELS net TIMEOUT 120)
pd_add_py_test(crash_kill9 SCRIPT tests/net/test_crash.py LABELS net TIMEOUT 300)
pd_add_py_test(snapshots_recovery SCRIPT tests/net/test_snapshots.py LABELS net TIMEOUT 180)
pd_add_py_test(disk_full SCRIPT tests/net/test_disk_full.py LABELS net TIMEOUT 120)
pd_add_py_test(ensemble SCRIPT tests/net/test_ensemble.py LABELS net TIMEOUT 300)
# Simulator runs recorded in SQLite (--db), and their replay commands.
pd_add_py_test(sim_run_records SCRIPT tests/net/test_rundb.py LABELS sim TIMEOUT 300)
# Every Lua scenario (scenarios/) over 100 simulator seeds, recorded in SQLite; failure messages.
pd_add_py_test(scenarios_sim SCRIPT tests/net/test_scenarios.py LABELS sim TIMEOUT 900)
# Scenarios against real server processes (paddock run).
pd_add_py_test(scenarios_real SCRIPT tests/net/test_scenarios_real.py LABELS net TIMEOUT 600)
# Swarm fuzzing (paddock fuzz): a bounded smoke with zero failures.
pd_add_py_test(fuzz_swarm_smoke SCRIPT tests/net/test_fuzz.py LABELS sim TIMEOUT 1200)
