# Unit tests of the http layer: router, query parsing and wire bytes (no sockets, no sleeps).
add_executable(circuitlab_http_unit_tests
    ${CMAKE_CURRENT_LIST_DIR}/query_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/router_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/wire_test.cpp
)
# wire_test checks an internal header of the layer.
target_include_directories(circuitlab_http_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/src/http)
target_link_libraries(circuitlab_http_unit_tests PRIVATE circuitlab_http GTest::gtest_main)
gtest_discover_tests(circuitlab_http_unit_tests PROPERTIES LABELS unit)
