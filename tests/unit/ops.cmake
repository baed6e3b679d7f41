add_executable(circuitlab_ops_tests
    ${CMAKE_CURRENT_LIST_DIR}/config_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/logging_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/openapi_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/admin_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/breaker_board_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/events_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/prometheus_test.cpp
)
target_include_directories(circuitlab_ops_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(circuitlab_ops_tests PRIVATE circuitlab_ops GTest::gtest_main)
gtest_discover_tests(circuitlab_ops_tests PROPERTIES LABELS unit)
target_compile_definitions(circuitlab_ops_tests PRIVATE
    CIRCUITLAB_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
