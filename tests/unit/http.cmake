# Unit tests of the http layer: router and query parsing (no sockets, no sleeps).
add_executable(circuitlab_http_unit_tests
    ${CMAKE_CURRENT_LIST_DIR}/query_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/router_test.cpp
)
target_link_libraries(circuitlab_http_unit_tests PRIVATE circuitlab_http GTest::gtest_main)
gtest_discover_tests(circuitlab_http_unit_tests PROPERTIES LABELS unit)
