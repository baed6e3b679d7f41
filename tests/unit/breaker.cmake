add_executable(circuitlab_breaker_tests
    ${CMAKE_CURRENT_LIST_DIR}/circuit_breaker_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/window_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/state_test.cpp
)
target_include_directories(circuitlab_breaker_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(circuitlab_breaker_tests PRIVATE circuitlab_breaker GTest::gtest_main)
gtest_discover_tests(circuitlab_breaker_tests PROPERTIES LABELS unit)
