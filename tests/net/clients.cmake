# Real-client acceptance tests (label "net"): kazoo, the ZooKeeper C client, zkCli.sh,
# and the master-election story.  Each script starts its own server on 127.0.0.1
# through tests/net/harness.py; PD_TEST_SERVER=zookeeper in the environment runs the
# same script against Apache ZooKeeper 3.8 instead of paddock.

pd_add_py_test(client_kazoo_ops       SCRIPT tests/net/test_kazoo_ops.py       LABELS net TIMEOUT 180)
pd_add_py_test(client_kazoo_recipes   SCRIPT tests/net/test_kazoo_recipes.py   LABELS net TIMEOUT 180)
pd_add_py_test(client_master_election SCRIPT tests/net/test_master_election.py LABELS net TIMEOUT 120)
pd_add_py_test(client_zkcli           SCRIPT tests/net/test_zkcli.py           LABELS net TIMEOUT 180)
# The same scripts against a 3-member paddock ensemble (issue 5): kazoo connected to a
# follower only, and the master-election story with its clients spread over every member.
pd_add_py_test(client_kazoo_ops_follower     SCRIPT tests/net/test_kazoo_ops.py     LABELS net TIMEOUT 300
               ENV PD_TEST_SERVER=paddock-follower)
pd_add_py_test(client_kazoo_recipes_follower SCRIPT tests/net/test_kazoo_recipes.py LABELS net TIMEOUT 300
               ENV PD_TEST_SERVER=paddock-follower)
pd_add_py_test(client_master_election_ensemble SCRIPT tests/net/test_master_election.py LABELS net TIMEOUT 180
               ENV PD_TEST_SERVER=paddock-ensemble)

# The C client smoke program, built with the project's warning flags (-Werror).
find_path(PD_ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h)
find_library(PD_ZOOKEEPER_MT_LIBRARY NAMES zookeeper_mt)
if(PD_ZOOKEEPER_INCLUDE_DIR AND PD_ZOOKEEPER_MT_LIBRARY)
  find_package(Threads REQUIRED)
  add_executable(c_client_smoke ${CMAKE_CURRENT_SOURCE_DIR}/c_client_smoke.c)
  target_include_directories(c_client_smoke SYSTEM PRIVATE ${PD_ZOOKEEPER_INCLUDE_DIR})
  target_compile_definitions(c_client_smoke PRIVATE THREADED)
  target_link_libraries(c_client_smoke PRIVATE ${PD_ZOOKEEPER_MT_LIBRARY} Threads::Threads)
  pd_add_py_test(client_c SCRIPT tests/net/test_c_client.py ARGS $<TARGET_FILE:c_client_smoke>
                 LABELS net TIMEOUT 120)
else()
  message(STATUS "libzookeeper-mt not found: client_c test not built (apt-get install libzookeeper-mt-dev)")
endif()
