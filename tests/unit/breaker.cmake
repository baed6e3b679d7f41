add_executable(circuitlab_breaker_tests
    ${CMAKE_CURRENT_LIST_DIR}/circuit_breaker_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/window_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/in_flight_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/circuit_breaker_property_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/state_test.cpp
)
target_include_directories(circuitlab_breaker_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(circuitlab_breaker_tests PRIVATE circuitlab_breaker GTest::gtest_main)
gtest_discover_tests(circuitlab_breaker_tests PROPERTIES LABELS unit)

# Many threads on one breaker; the `concurrency` label lets a ThreadSanitizer build run just this.
add_executable(circuitlab_breaker_stress_tests
    ${CMAKE_CURRENT_LIST_DIR}/circuit_breaker_stress_test.cpp
)
target_include_directories(circuitlab_breaker_stress_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(circuitlab_breaker_stress_tests PRIVATE circuitlab_breaker GTest::gtest_main)
# One ctest entry: gtest_discover_tests cannot give a test two labels.
add_test(NAME CircuitBreakerStress COMMAND circuitlab_breaker_stress_tests)
set_tests_properties(CircuitBreakerStress PROPERTIES LABELS "unit;concurrency" TIMEOUT 300)
