// Renders a report Document (document.h) to one self-contained HTML file.
//
// The file needs nothing but itself: CSS and the charts (SVG) are inline,
// there is no script, no font, image or style sheet to fetch, and a
// Content-Security-Policy meta tag forbids the browser to load or run
// anything, so it reads the same offline, as a mail attachment and on
// paper (print styles keep charts and table rows whole across pages).
//
//   absl::StatusOr<std::string> html = RenderHtml(doc);
//
// What is drawn:
//  - every chart is an <svg class="chart" data-chart="ID" role="img"> with
//    a <title> (its accessible name); each drawn line, dot, bar, error bar
//    and histogram bin carries class "mark", so a checker can count what a
//    chart drew; reference lines, axes and legends are not marks;
//  - a chart with nothing to draw says "No data" instead;
//  - what is left out is said under the chart or table, never silently:
//    non-finite values, points beyond max_series_points (decimated,
//    scale.h DecimateLttb, keeping each line's ends), rows and columns
//    beyond the table caps, series and categories beyond the chart caps,
//    colours that are not CSS colours (replaced by the palette).
// Numbers written as text go through engine/common/number_format.h (tick
// labels are rounded to their step); all text is escaped (html_text.h).
//
// Errors: InvalidArgument for options out of their ranges (named in the
// message). Nothing in a Document is an error: the renderer draws what it
// can and notes the rest.
//
// Thread-safety: pure function; documents may be rendered concurrently.

#ifndef HEALTHSCORE_ENGINE_REPORT_HTML_REPORT_H_
#define HEALTHSCORE_ENGINE_REPORT_HTML_REPORT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "engine/report/document.h"

namespace healthscore::engine::report {

// Bounds on what one report draws, so that the file stays small enough to
// mail and open whatever the data: each cap is applied and noted.
struct RenderOptions {
  // Table rows rendered per table (1..1,000,000).
  size_t max_table_rows = 1000;
  // Table columns rendered per table (1..1,000).
  size_t max_table_columns = 50;
  // Points drawn per line series (3..1,000,000); longer series are
  // decimated with their first and last point kept.
  size_t max_series_points = 2000;
  // Series per line chart or bar chart, and histogram series (1..100).
  size_t max_series = 12;
  // Categories per bar chart (1..1,000).
  size_t max_bar_categories = 60;
  // Bins per histogram (1..1,000); a histogram asking for more gets this.
  int max_histogram_bins = 200;
  // Bytes of one label shown on a chart (legend, axis title) before it is
  // cut with "…", and characters of a category label, which is cut in the
  // middle to keep both ends (8..4,096). Labels are also cut to the room
  // they have; the full text stays in the tooltip.
  size_t max_label_bytes = 48;
  // Bytes of a table cell, a meta line, a heading or a paragraph before it
  // is cut with "…" (16..1,000,000).
  size_t max_text_bytes = 4096;
};

// The options' ranges checked; InvalidArgument naming the first field out
// of range.
absl::Status ValidateRenderOptions(const RenderOptions& options);

// The document as one HTML file (UTF-8).
absl::StatusOr<std::string> RenderHtml(
    const Document& document, const RenderOptions& options = RenderOptions());

}  // namespace healthscore::engine::report

#endif  // HEALTHSCORE_ENGINE_REPORT_HTML_REPORT_H_
