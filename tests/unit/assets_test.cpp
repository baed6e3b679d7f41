#include "circuitlab/ops/assets.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace circuitlab::ops {
namespace {

const std::filesystem::path dist_dir = CIRCUITLAB_SWAGGER_UI_DIST_DIR;
const std::filesystem::path page_dir = CIRCUITLAB_SWAGGER_UI_PAGE_DIR;

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string_view body_of(std::string_view name) {
    const Asset* asset = find_asset(name);
    return asset == nullptr ? std::string_view{} : asset->body;
}

TEST(AssetsTest, BundleIsTheFileOnDisk) {
    const auto on_disk = dist_dir / "swagger-ui-bundle.js";

    const Asset* bundle = find_asset("swagger-ui-bundle.js");

    ASSERT_NE(bundle, nullptr);
    EXPECT_EQ(bundle->path, "swagger-ui-bundle.js");
    EXPECT_EQ(bundle->body.size(), std::filesystem::file_size(on_disk));
    EXPECT_TRUE(bundle->body == read_file(on_disk)) << "embedded bytes differ from " << on_disk;
}

TEST(AssetsTest, BinaryFilesAreEmbeddedByteForByte) {
    const auto on_disk = dist_dir / "favicon-32x32.png";

    EXPECT_TRUE(body_of("favicon-32x32.png") == read_file(on_disk));
}

TEST(AssetsTest, OwnPageIsTheFileOnDisk) {
    EXPECT_TRUE(body_of("index.html") == read_file(page_dir / "index.html"));
    EXPECT_TRUE(body_of("swagger-initializer.js") ==
                read_file(page_dir / "swagger-initializer.js"));
}

TEST(AssetsTest, ContentTypeFollowsTheExtension) {
    EXPECT_EQ(find_asset("index.html")->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(find_asset("swagger-ui-bundle.js")->content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(find_asset("swagger-initializer.js")->content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(find_asset("swagger-ui.css")->content_type, "text/css; charset=utf-8");
    EXPECT_EQ(find_asset("favicon-16x16.png")->content_type, "image/png");
}

TEST(AssetsTest, IndexLoadsBundleStylesAndInitializerFromItsOwnFolder) {
    const std::string_view index = body_of("index.html");

    EXPECT_NE(index.find("src=\"./swagger-ui-bundle.js\""), std::string_view::npos);
    EXPECT_NE(index.find("src=\"./swagger-initializer.js\""), std::string_view::npos);
    EXPECT_NE(index.find("href=\"./swagger-ui.css\""), std::string_view::npos);
    EXPECT_EQ(index.find("http"), std::string_view::npos) << "no CDN or absolute URL";
    EXPECT_EQ(index.find("<script>"), std::string_view::npos) << "no inline script";
}

TEST(AssetsTest, InitializerPointsAtTheSchemaOneLevelUp) {
    const std::string_view init = body_of("swagger-initializer.js");

    EXPECT_NE(init.find("SwaggerUIBundle("), std::string_view::npos);
    EXPECT_NE(init.find("new URL(\"../\""), std::string_view::npos);
}

TEST(AssetsTest, EmptyNameIsTheIndexPage) {
    EXPECT_EQ(find_asset(""), find_asset("index.html"));
}

TEST(AssetsTest, UnknownNamesAreNotFound) {
    EXPECT_EQ(find_asset("swagger-ui-bundle.js.map"), nullptr);
    EXPECT_EQ(find_asset("../LICENSE"), nullptr);
    EXPECT_EQ(find_asset("LICENSE"), nullptr);
    EXPECT_EQ(find_asset("/index.html"), nullptr);
}

TEST(AssetsTest, EveryListedAssetIsNonEmptyAndFindable) {
    ASSERT_EQ(all_assets().size(), 6u);

    for (const Asset& asset : all_assets()) {
        EXPECT_FALSE(asset.body.empty()) << asset.path;
        EXPECT_EQ(find_asset(asset.path), &asset) << asset.path;
    }
}

}  // namespace
}  // namespace circuitlab::ops
