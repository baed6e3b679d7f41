#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace circuitlab::lab {

/// A set of HTTP statuses written as codes and ranges separated by commas, such as `500-599`
/// or `404, 429, 500-504`. `none` or an empty text is the empty set. Immutable once built,
/// so safe to share between threads.
class StatusSet {
  public:
    /// The empty set.
    StatusSet() = default;

    /// Every status from `low` to `high`, both included.
    static StatusSet range(int low, int high);

    /// Parses the text; nullopt with `error` set when a part is not a status (100 to 599)
    /// or a range `low-high` with low <= high.
    static std::optional<StatusSet> parse(std::string_view text, std::string* error = nullptr);

    /// Whether the status is in the set.
    bool contains(int status) const;

    /// Whether the set holds no status.
    bool empty() const { return ranges_.empty(); }

    /// The set as parse() reads it back: `404,500-599`, or `none`.
    std::string to_string() const;

  private:
    std::vector<std::pair<int, int>> ranges_;
};

}  // namespace circuitlab::lab
