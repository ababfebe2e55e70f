#pragma once
// A plain-text table: columns padded to their widest cell, a rule under the header.

#include <algorithm>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace resync_demo {

class TextTable {
public:
    /// A table with these column headings (none: no header line).
    explicit TextTable(std::vector<std::string> header = {}) : header_(std::move(header)) {}

    TextTable& row(std::vector<std::string> cells) {
        rows_.push_back(std::move(cells));
        return *this;
    }

    /// Writes the table, each line indented by `indent` spaces; the last column is not padded.
    void print(std::ostream& out, std::size_t indent = 2) const {
        std::vector<std::size_t> width;
        auto measure = [&](const std::vector<std::string>& cells) {
            width.resize(std::max(width.size(), cells.size()));
            for (std::size_t i = 0; i < cells.size(); ++i) width[i] = std::max(width[i], cells[i].size());
        };
        measure(header_);
        for (const auto& r : rows_) measure(r);
        auto line = [&](const std::vector<std::string>& cells) {
            std::string s(indent, ' ');
            for (std::size_t i = 0; i < cells.size(); ++i) {
                s += cells[i];
                if (i + 1 < cells.size()) s += std::string(width[i] - cells[i].size() + 2, ' ');
            }
            out << s << '\n';
        };
        if (!header_.empty()) {
            line(header_);
            std::size_t total = 0;
            for (std::size_t i = 0; i < width.size(); ++i) total += width[i] + (i + 1 < width.size() ? 2 : 0);
            out << std::string(indent, ' ') << std::string(std::min(total, max_rule), '-') << '\n';
        }
        for (const auto& r : rows_) line(r);
    }

private:
    static constexpr std::size_t max_rule = 96;
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

} // namespace resync_demo
