#include "circuitlab/ops/assets.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

// The generated assembler file (see assets.cmake) defines, for every asset N, the bytes
// `circuitlab_asset_N_data` and their count `circuitlab_asset_N_size`. The count comes from
// the assembler, not from CMake, so it is right even when a file changed since configuring.
#define CIRCUITLAB_ASSET(id, name)                        \
    extern "C" const char circuitlab_asset_##id##_data[]; \
    extern "C" const std::uint64_t circuitlab_asset_##id##_size;
#define CIRCUITLAB_DASHBOARD_ASSET(id, name) CIRCUITLAB_ASSET(id, name)
#include "embedded_assets.inc"
#undef CIRCUITLAB_DASHBOARD_ASSET
#undef CIRCUITLAB_ASSET

namespace circuitlab::ops {
namespace {

constexpr std::string_view index_name = "index.html";

std::string_view content_type_for(std::string_view name) {
    if (name.ends_with(".html")) {
        return "text/html; charset=utf-8";
    }
    if (name.ends_with(".js")) {
        return "text/javascript; charset=utf-8";
    }
    if (name.ends_with(".css")) {
        return "text/css; charset=utf-8";
    }
    if (name.ends_with(".png")) {
        return "image/png";
    }
    if (name.ends_with(".json")) {
        return "application/json";
    }
    return "application/octet-stream";
}

Asset make_asset(std::string_view name, const char* data, std::uint64_t size) {
    return {name, {data, static_cast<std::size_t>(size)}, content_type_for(name)};
}

// Built on first use: the sizes are link-time data, and a function-local static is safe to
// reach from other static initialisers.
const auto& table() {
    static const std::array assets = {
#define CIRCUITLAB_ASSET(id, name) \
    make_asset(name, circuitlab_asset_##id##_data, circuitlab_asset_##id##_size),
#define CIRCUITLAB_DASHBOARD_ASSET(id, name)
#include "embedded_assets.inc"
#undef CIRCUITLAB_DASHBOARD_ASSET
#undef CIRCUITLAB_ASSET
    };
    return assets;
}

const auto& dashboard_table() {
    static const std::array assets = {
#define CIRCUITLAB_ASSET(id, name)
#define CIRCUITLAB_DASHBOARD_ASSET(id, name) \
    make_asset(name, circuitlab_asset_##id##_data, circuitlab_asset_##id##_size),
#include "embedded_assets.inc"
#undef CIRCUITLAB_DASHBOARD_ASSET
#undef CIRCUITLAB_ASSET
    };
    return assets;
}

const Asset* find_in(std::span<const Asset> assets, std::string_view name) {
    const std::string_view wanted = name.empty() ? index_name : name;
    for (const Asset& asset : assets) {
        if (asset.path == wanted) {
            return &asset;
        }
    }
    return nullptr;
}

}  // namespace

const Asset* find_asset(std::string_view name) {
    return find_in(table(), name);
}

const Asset* find_dashboard_asset(std::string_view name) {
    return find_in(dashboard_table(), name);
}

std::span<const Asset> dashboard_assets() {
    return dashboard_table();
}

std::span<const Asset> all_assets() {
    return table();
}

}  // namespace circuitlab::ops
