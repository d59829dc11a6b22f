// The renderer's pieces (private to engine/report): charts as inline SVG
// figures, values and colours as text. html_report.h states what they draw
// and note; html_report.cc calls them.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_REPORT_INTERNAL_SVG_CHART_H_
#define HEALTHSCORE_ENGINE_REPORT_INTERNAL_SVG_CHART_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/report/document.h"
#include "engine/report/html_report.h"

namespace healthscore::engine::report::internal {

// The drawing size of every chart (SVG user units; the figure scales down
// to narrow screens).
inline constexpr int kChartWidth = 640;
inline constexpr int kChartHeight = 360;

// Appends a <figure> holding the chart's <svg class="chart"> and the notes
// on what was left out. `index` numbers the chart within the document and
// keeps its element ids (title, clip path) unique.
void AppendLineChart(const LineChart& chart, const RenderOptions& options,
                     int index, std::string* out);
void AppendBarChart(const BarChart& chart, const RenderOptions& options,
                    int index, std::string* out);
void AppendHistogram(const HistogramChart& chart, const RenderOptions& options,
                     int index, std::string* out);

// `value` as people read it (document.h, Value), not yet escaped.
std::string FormatValue(const Value& value);
// A number of `value`'s kind and precision (for interval bounds).
std::string FormatLike(const Value& value, double number);

// `requested` normalised (html_text.h) when it is a CSS colour; else the
// palette's colour `palette_index`, and when `requested` was not empty a
// note saying that `what` had a colour that is not one.
std::string ResolveColor(std::string_view requested, size_t palette_index,
                         std::string_view what,
                         std::vector<std::string>* notes);

// The notes on what was left out, each once (in the order first given) and
// at most kMaxNotes of them, then how many more there were: a `<p>` of
// class `css_class` each.
inline constexpr size_t kMaxNotes = 10;
void AppendNotes(const std::vector<std::string>& notes,
                 std::string_view css_class, std::string* out);

}  // namespace healthscore::engine::report::internal

#endif  // HEALTHSCORE_ENGINE_REPORT_INTERNAL_SVG_CHART_H_
