add_executable(circuitlab_lab_tests
    ${CMAKE_CURRENT_LIST_DIR}/answers_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/guarded_call_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/retry_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/deadline_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/breaker_poller_test.cpp
)
target_include_directories(circuitlab_lab_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(circuitlab_lab_tests PRIVATE circuitlab_lab GTest::gtest_main)
gtest_discover_tests(circuitlab_lab_tests PROPERTIES LABELS unit)
