# PD_COVERAGE=ON adds gcov instrumentation; tools/coverage.sh turns the counters into lcov HTML.
if(PD_COVERAGE)
  # atomic counters: the simulator's seed tests run worlds on several threads
  add_compile_options(--coverage -O0 -fprofile-update=atomic)
  add_link_options(--coverage)
endif()
