#pragma once

#include <span>
#include <string_view>

namespace circuitlab::ops {

/// A static file embedded in the binary at build time (see src/ops/assets.cmake): the Swagger UI
/// page, its initializer script and the pinned swagger-ui-dist files it loads.
struct Asset {
    /// File name relative to the Swagger UI folder, e.g. `swagger-ui-bundle.js` or `index.html`.
    /// Served as `/api/schema/swagger-ui/<path>`.
    std::string_view path;
    /// The file's bytes, exactly as on disk; binary for images, not NUL-terminated.
    std::string_view body;
    /// The `Content-Type` to answer with, e.g. `text/javascript; charset=utf-8`.
    std::string_view content_type;
};

/// Looks an asset up by its file name (`swagger-ui-bundle.js`). An empty name means
/// `index.html`, so the router can pass what follows `/api/schema/swagger-ui/` as it is.
/// Returns nullptr for an unknown name; names are matched exactly, so `../x` never matches.
/// The result points into static storage valid for the whole run; thread-safe.
const Asset* find_asset(std::string_view name);

/// Every embedded Swagger UI asset, in a fixed order. Static storage; thread-safe.
std::span<const Asset> all_assets();

/// Looks a dashboard asset up by its file name (`dashboard.js`; empty means `index.html`),
/// served as `/dashboard/<name>`: the page, its script and style, and the pinned uPlot files.
/// Same rules as find_asset.
const Asset* find_dashboard_asset(std::string_view name);

/// Every embedded dashboard asset, in a fixed order. Static storage; thread-safe.
std::span<const Asset> dashboard_assets();

}  // namespace circuitlab::ops
