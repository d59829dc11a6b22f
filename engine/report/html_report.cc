#include "engine/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "engine/common/display.h"
#include "engine/common/strings.h"
#include "engine/report/html_text.h"
#include "engine/report/internal/svg_chart.h"

namespace healthscore::engine::report {
namespace {

using common::Cat;
using common::WithThousandsSeparators;

// One style sheet for screen and paper: a system font stack (nothing to
// fetch), a column narrow enough to read, light rules, tabular figures for
// numbers, and print rules that keep a chart, a tile or a table row on
// one page.
constexpr std::string_view kStyle = R"css(
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2933;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans","DejaVu Sans",sans-serif;-webkit-text-size-adjust:100%}
main{max-width:980px;margin:0 auto;padding:32px 32px 48px;background:#fff;min-height:100vh}
header h1{font-size:28px;line-height:1.2;margin:0 0 4px;font-weight:650;overflow-wrap:anywhere}
.subtitle{color:#52606d;margin:0 0 12px;font-size:17px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0 0 8px;font-size:13px;color:#52606d}
dl.meta dt{font-weight:600;color:#3e4c59}
dl.meta dd{margin:0;overflow-wrap:anywhere}
nav.toc{font-size:13px;margin:16px 0 0;padding:8px 0;border-top:1px solid #e4e7eb;border-bottom:1px solid #e4e7eb}
nav.toc a{color:#0063a0;text-decoration:none;margin-right:16px;white-space:nowrap}
section{margin-top:32px}
h2{font-size:20px;line-height:1.3;margin:0 0 12px;padding-bottom:6px;border-bottom:2px solid #e4e7eb;font-weight:650;overflow-wrap:anywhere}
p{margin:0 0 12px;max-width:75ch;white-space:pre-line;overflow-wrap:anywhere}
p.muted{color:#616e7c;font-size:13px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px;margin:0 0 20px}
.figure{border:1px solid #e4e7eb;border-top:4px solid #9aa5b1;border-radius:6px;padding:10px 12px;background:#fbfcfd}
.figure-label{font-size:12px;color:#52606d;text-transform:uppercase;letter-spacing:.04em}
.figure-value{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.25;overflow-wrap:anywhere}
.figure-interval,.figure-note{font-size:12px;color:#616e7c;font-variant-numeric:tabular-nums}
.table-wrap{overflow-x:auto;margin:0 0 20px}
table{border-collapse:collapse;font-size:13px;min-width:50%}
caption{text-align:left;font-weight:600;padding:0 0 6px;color:#3e4c59}
th,td{padding:5px 12px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}
th{font-weight:600;color:#3e4c59;border-bottom:2px solid #cbd2d9}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even){background:#f9fafb}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;border:1px solid rgba(0,0,0,.15)}
.nonfinite{color:#9aa5b1}
.table-note,.chart-note{font-size:12px;color:#616e7c;margin:6px 0 0}
figure.chart-figure{margin:0 0 28px}
figcaption{font-weight:600;color:#3e4c59;margin:0 0 4px}
svg.chart{display:block;max-width:100%;height:auto;font-family:inherit}
svg.chart text{font-size:11px;fill:#52606d}
svg.chart .axis-title{font-size:12px;fill:#3e4c59;font-weight:600}
svg.chart .legend-label{fill:#323f4b}
svg.chart .grid{stroke:#eceff3}
svg.chart .axis-line,svg.chart .tick-mark{stroke:#9aa5b1}
svg.chart .baseline{stroke:#7b8794}
svg.chart .ref{stroke:#9ca3af;stroke-width:1.5;stroke-dasharray:5 4}
svg.chart .errorbar{stroke:#323f4b;stroke-width:1.5;fill:none}
svg.chart .plot-area{fill:#fafbfc;stroke:#e4e7eb}
svg.chart .no-data{font-size:16px;fill:#7b8794}
svg.chart .value-label{fill:#323f4b;font-variant-numeric:tabular-nums}
footer{margin-top:40px;font-size:12px;color:#7b8794;border-top:1px solid #e4e7eb;padding-top:8px}
@media print{
body{background:#fff;font-size:11pt}
main{max-width:none;padding:0;min-height:0}
nav.toc{display:none}
figure.chart-figure,.figure,tr{break-inside:avoid}
h2{break-after:avoid}
.table-wrap{overflow:visible}
}
)css";

// The report loads and runs nothing: styles and images inline only.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "script-src 'none'; base-uri 'none'; form-action 'none'";

std::string Count(size_t n) { return WithThousandsSeparators(n); }

class Renderer {
 public:
  explicit Renderer(const RenderOptions& options) : options_(options) {}

  std::string Render(const Document& doc) {
    out_.reserve(64 * 1024);
    out_ +=
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
        "charset=\"utf-8\">\n";
    out_ += Cat("<meta http-equiv=\"Content-Security-Policy\" content=\"",
                kContentSecurityPolicy, "\">\n");
    out_ +=
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n<meta name=\"generator\" "
        "content=\"healthscore\">\n<title>";
    Text(doc.title.empty() ? std::string_view("Report") : doc.title);
    out_ += "</title>\n<style>";
    out_ += kStyle;
    out_ +=
        "</style>\n</head>\n<body>\n<main class=\"report\">\n<header>\n<h1>";
    Text(doc.title.empty() ? std::string_view("Report") : doc.title);
    out_ += "</h1>\n";
    if (!doc.subtitle.empty()) {
      out_ += "<p class=\"subtitle\">";
      Text(doc.subtitle);
      out_ += "</p>\n";
    }
    if (!doc.meta.empty()) {
      out_ += "<dl class=\"meta\">\n";
      for (const auto& [label, value] : doc.meta) {
        out_ += "<dt>";
        Text(label);
        out_ += "</dt><dd>";
        Text(value);
        out_ += "</dd>\n";
      }
      out_ += "</dl>\n";
    }
    // Section anchors are numbered, never made from untrusted headings.
    if (doc.sections.size() >= 3) {
      out_ += "<nav class=\"toc\" aria-label=\"Contents\">";
      for (size_t i = 0; i < doc.sections.size(); ++i) {
        out_ += Cat("<a href=\"#section-", i + 1, "\">");
        Text(doc.sections[i].heading.empty() ? Cat("Section ", i + 1)
                                             : doc.sections[i].heading);
        out_ += "</a>";
      }
      out_ += "</nav>\n";
    }
    out_ += "</header>\n";
    for (size_t i = 0; i < doc.sections.size(); ++i) {
      const Section& section = doc.sections[i];
      out_ += Cat("<section id=\"section-", i + 1, "\">\n");
      if (!section.heading.empty()) {
        out_ += "<h2>";
        Text(section.heading);
        out_ += "</h2>\n";
      }
      for (const Block& block : section.blocks) {
        std::visit([this](const auto& b) { RenderBlock(b); }, block);
      }
      out_ += "</section>\n";
    }
    if (!doc.footer.empty()) {
      out_ += "<footer>";
      Text(doc.footer);
      out_ += "</footer>\n";
    }
    out_ += "</main>\n</body>\n</html>\n";
    return std::move(out_);
  }

 private:
  // Untrusted text, capped and escaped.
  void Text(std::string_view text) {
    if (text.size() > options_.max_text_bytes) {
      out_ += HtmlEscapeShort(text, options_.max_text_bytes);
    } else {
      AppendHtmlEscaped(text, &out_);
    }
  }

  void RenderBlock(const Paragraph& p) {
    out_ += p.muted ? "<p class=\"muted\">" : "<p>";
    Text(p.text);
    out_ += "</p>\n";
  }

  void RenderBlock(const KeyFigures& figures) {
    out_ += "<div class=\"figures\">\n";
    std::vector<std::string> notes;
    for (size_t i = 0; i < figures.figures.size(); ++i) {
      const KeyFigure& f = figures.figures[i];
      out_ += "<div class=\"figure\"";
      if (!f.color.empty()) {
        const std::string color = internal::ResolveColor(
            f.color, i,
            Cat("the figure '", common::TruncateForDisplay(f.label, 64), "'"),
            &notes);
        out_ += Cat(" style=\"border-top-color:", color, "\"");
      }
      out_ += "><div class=\"figure-label\">";
      Text(f.label);
      out_ += "</div><div class=\"figure-value\">";
      AppendValue(f.value);
      out_ += "</div>";
      if (f.interval.has_value()) {
        out_ += "<div class=\"figure-interval\">";
        Text(f.interval->label);
        if (!f.interval->label.empty()) out_ += ' ';
        Text(internal::FormatLike(f.value, f.interval->low));
        out_ += "\xE2\x80\x93";  // en dash
        Text(internal::FormatLike(f.value, f.interval->high));
        out_ += "</div>";
      }
      if (!f.note.empty()) {
        out_ += "<div class=\"figure-note\">";
        Text(f.note);
        out_ += "</div>";
      }
      out_ += "</div>\n";
    }
    out_ += "</div>\n";
    internal::AppendNotes(notes, "muted", &out_);
  }

  // A value as text; a non-finite number is muted.
  void AppendValue(const report::Value& v) {
    const bool nonfinite = v.is_numeric() && !std::isfinite(v.number);
    if (nonfinite) out_ += "<span class=\"nonfinite\">";
    Text(internal::FormatValue(v));
    if (nonfinite) out_ += "</span>";
  }

  void RenderBlock(const Table& table) {
    std::vector<std::string> notes;
    size_t columns = table.header.size();
    const size_t rows = std::min(table.rows.size(), options_.max_table_rows);
    for (size_t r = 0; r < rows; ++r) {
      columns = std::max(columns, table.rows[r].size());
    }
    const size_t shown_columns = std::min(columns, options_.max_table_columns);
    // A column is numeric when its shown cells are numbers or empty text.
    std::vector<bool> numeric(shown_columns, true);
    std::vector<bool> any_number(shown_columns, false);
    for (size_t r = 0; r < rows; ++r) {
      const auto& row = table.rows[r];
      for (size_t c = 0; c < shown_columns && c < row.size(); ++c) {
        const report::Value& v = row[c].value;
        if (v.is_numeric()) {
          any_number[c] = true;
        } else if (!v.text.empty()) {
          numeric[c] = false;
        }
      }
    }
    for (size_t c = 0; c < shown_columns; ++c) {
      numeric[c] = numeric[c] && any_number[c];
    }
    out_ += "<div class=\"table-wrap\">\n<table>";
    if (!table.caption.empty()) {
      out_ += "<caption>";
      Text(table.caption);
      out_ += "</caption>";
    }
    if (!table.header.empty()) {
      out_ += "\n<thead><tr>";
      for (size_t c = 0; c < shown_columns; ++c) {
        out_ += numeric[c] ? "<th scope=\"col\" class=\"num\">"
                           : "<th scope=\"col\">";
        if (c < table.header.size()) Text(table.header[c]);
        out_ += "</th>";
      }
      out_ += "</tr></thead>";
    }
    out_ += "\n<tbody>\n";
    std::unordered_map<std::string, std::string> swatches;
    for (size_t r = 0; r < rows; ++r) {
      const auto& row = table.rows[r];
      out_ += "<tr>";
      for (size_t c = 0; c < shown_columns; ++c) {
        out_ += numeric[c] ? "<td class=\"num\">" : "<td>";
        if (c < row.size()) {
          const Cell& cell = row[c];
          if (!cell.swatch.empty()) {
            // Resolved once per distinct colour: a tier's colour repeats
            // down a long table, and a bad one is noted once.
            auto [it, added] = swatches.try_emplace(cell.swatch);
            if (added) {
              it->second =
                  internal::ResolveColor(cell.swatch, swatches.size() - 1,
                                         "a swatch of this table", &notes);
            }
            out_ +=
                Cat("<span class=\"swatch\" style=\"background:", it->second,
                    "\"></span>");
          }
          AppendValue(cell.value);
        }
        out_ += "</td>";
      }
      out_ += "</tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
    if (!table.note.empty()) {
      out_ += "<p class=\"table-note\">";
      Text(table.note);
      out_ += "</p>\n";
    }
    if (table.rows.size() > rows) {
      notes.push_back(Cat("Showing the first ", Count(rows), " of ",
                          Count(table.rows.size()), " rows (max_table_rows)."));
    }
    if (columns > shown_columns) {
      notes.push_back(Cat("Showing the first ", Count(shown_columns), " of ",
                          Count(columns), " columns (max_table_columns)."));
    }
    internal::AppendNotes(notes, "table-note omitted", &out_);
    out_ += "</div>\n";
  }

  void RenderBlock(const LineChart& chart) {
    internal::AppendLineChart(chart, options_, chart_index_++, &out_);
  }
  void RenderBlock(const BarChart& chart) {
    internal::AppendBarChart(chart, options_, chart_index_++, &out_);
  }
  void RenderBlock(const HistogramChart& chart) {
    internal::AppendHistogram(chart, options_, chart_index_++, &out_);
  }

  const RenderOptions& options_;
  std::string out_;
  int chart_index_ = 0;
};

absl::Status OutOfRange(std::string_view field, size_t value, size_t low,
                        size_t high) {
  return absl::InvalidArgumentError(Cat("report option ", field, " is ", value,
                                        "; it must be between ", Count(low),
                                        " and ", Count(high)));
}

}  // namespace

absl::Status ValidateRenderOptions(const RenderOptions& o) {
  struct Range {
    std::string_view name;
    size_t value, low, high;
  };
  const Range ranges[] = {
      {"max_table_rows", o.max_table_rows, 1, 1000000},
      {"max_table_columns", o.max_table_columns, 1, 1000},
      {"max_series_points", o.max_series_points, 3, 1000000},
      {"max_series", o.max_series, 1, 100},
      {"max_bar_categories", o.max_bar_categories, 1, 1000},
      {"max_label_bytes", o.max_label_bytes, 8, 4096},
      {"max_text_bytes", o.max_text_bytes, 16, 1000000},
  };
  for (const Range& r : ranges) {
    if (r.value < r.low || r.value > r.high) {
      return OutOfRange(r.name, r.value, r.low, r.high);
    }
  }
  if (o.max_histogram_bins < 1 || o.max_histogram_bins > 1000) {
    return absl::InvalidArgumentError(
        Cat("report option max_histogram_bins is ", o.max_histogram_bins,
            "; it must be between 1 and 1,000"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RenderHtml(const Document& document,
                                       const RenderOptions& options) {
  if (absl::Status s = ValidateRenderOptions(options); !s.ok()) return s;
  return Renderer(options).Render(document);
}

}  // namespace healthscore::engine::report
