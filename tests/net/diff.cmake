# Differential and protocol-conformance tests against Apache ZooKeeper 3.8 (Debian
# `zookeeper` package, started by the tests themselves on free 127.0.0.1 ports), and
# kazoo's own test suite run against paddock.  See the docstrings of each script.

# Byte-level probes (wire-protocol.md §0.2, Appendix A) against paddock ...
pd_add_py_test(protocol_probes SCRIPT tests/net/test_protocol_probes.py
  ARGS --server paddock LABELS net TIMEOUT 180)
# ... and against the reference, which validates the probes themselves.
pd_add_py_test(protocol_probes_zookeeper SCRIPT tests/net/test_protocol_probes.py
  ARGS --server zookeeper LABELS diff TIMEOUT 180)

# Seeded op streams in lockstep against paddock and ZooKeeper (3 seeds x 2000 ops plus a
# container/TTL reaping scenario, about 45 s).
pd_add_py_test(differential SCRIPT tests/net/test_differential.py LABELS diff TIMEOUT 300)
# The same op streams against two 3-member ensembles, talking to a follower of each (issue 5;
# the timing-bound reaping scenario is left to the standalone run).  Six server processes on a
# small machine: a reference member may stall past a ping deadline, so a failing seed gets a
# second try, reported as FLAKY.
pd_add_py_test(differential_follower SCRIPT tests/net/test_differential.py
  ARGS --follower --no-reap --tries 2 LABELS diff TIMEOUT 400)
# The same harness ZooKeeper-vs-ZooKeeper: proves the comparison has no false positives.
pd_add_py_test(differential_selfcheck SCRIPT tests/net/test_differential.py
  ARGS --self-check --seeds 11 --ops 2000 --no-reap LABELS diff TIMEOUT 300)

# kazoo 2.8.0's own suite (Debian python3-kazoo, unmodified) against ZooKeeper and then
# paddock; fails if a test that passes on ZooKeeper fails on paddock (about 2 x 95 s).
pd_add_py_test(kazoo_suite SCRIPT tests/net/run_kazoo_suite.py
  ARGS --compare LABELS kazoo TIMEOUT 1200)
pd_add_py_test(zookeeper_import SCRIPT tests/net/test_import.py LABELS diff TIMEOUT 300)
pd_add_py_test(shell_vs_zookeeper SCRIPT tests/net/test_shell.py LABELS diff TIMEOUT 180)
