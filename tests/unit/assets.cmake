# assets.cmake - unit test of the embedded assets (circuitlab_assets_tests, label `unit`).
#
# include() this from tests/unit/CMakeLists.txt (or tests/CMakeLists.txt) after GTest has been
# found and after src/ops/assets.cmake has defined circuitlab_assets.

if(TARGET circuitlab_assets_tests)
    return()
endif()

include(GoogleTest)

get_filename_component(_cl_assets_test_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

add_executable(circuitlab_assets_tests "${CMAKE_CURRENT_LIST_DIR}/assets_test.cpp")
target_link_libraries(circuitlab_assets_tests PRIVATE circuitlab_assets GTest::gtest_main)
# The test compares the embedded bytes with the files on disk.
target_compile_definitions(circuitlab_assets_tests PRIVATE
    CIRCUITLAB_SWAGGER_UI_DIST_DIR="${_cl_assets_test_root}/third_party/swagger-ui-dist"
    CIRCUITLAB_SWAGGER_UI_PAGE_DIR="${_cl_assets_test_root}/src/ops/assets/swagger-ui"
)
gtest_discover_tests(circuitlab_assets_tests
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS unit
)
