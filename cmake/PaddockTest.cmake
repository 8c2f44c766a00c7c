# Test registration helpers.
#   pd_add_unit_test(name SOURCES a.c ... [LIBS ...])  cmocka binary, label "unit"
#   pd_add_py_test(name SCRIPT tests/net/x.py [ARGS ...] [LABELS ...] [TIMEOUT s])
# Python tests run under Debian's /usr/bin/python3 (python3-kazoo lives there), with
# PADDOCK_BIN pointing at the built server and PADDOCK_SOURCE_DIR at the checkout.
find_program(PD_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT PD_PYTHON3)
  find_program(PD_PYTHON3 NAMES python3)
endif()

function(pd_add_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE pd_core cmocka ${T_LIBS})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "unit" TIMEOUT ${T_TIMEOUT})
endfunction()

function(pd_add_py_test name)
  cmake_parse_arguments(T "" "SCRIPT;TIMEOUT" "ARGS;LABELS;ENV" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_LABELS)
    set(T_LABELS net)
  endif()
  add_test(NAME ${name} COMMAND ${PD_PYTHON3} ${CMAKE_SOURCE_DIR}/${T_SCRIPT} ${T_ARGS})
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "PADDOCK_BIN=$<TARGET_FILE:paddock>;PADDOCK_SOURCE_DIR=${CMAKE_SOURCE_DIR};PADDOCK_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1;${T_ENV}")
endfunction()
