add_executable(circuitlab_replay_tests
    ${CMAKE_CURRENT_LIST_DIR}/replay_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/trace_test.cpp
)
target_link_libraries(circuitlab_replay_tests PRIVATE circuitlab_replay GTest::gtest_main)
gtest_discover_tests(circuitlab_replay_tests PROPERTIES LABELS unit)
