add_executable(circuitlab_lab_tests
    ${CMAKE_CURRENT_LIST_DIR}/answers_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/guarded_call_test.cpp
)
target_link_libraries(circuitlab_lab_tests PRIVATE circuitlab_lab GTest::gtest_main)
gtest_discover_tests(circuitlab_lab_tests PROPERTIES LABELS unit)
