# PD_COVERAGE=ON adds gcov instrumentation; tools/coverage.sh turns the counters into lcov HTML.
if(PD_COVERAGE)
  add_compile_options(--coverage -O0)
  add_link_options(--coverage)
endif()
