// The report document: what a report says, independent of how it is drawn.
//
// A Document is plain data that a backtest, a shadow diff or the portfolio
// metrics fill in and html_report.h renders to one self-contained HTML file:
//
//   Document doc;
//   doc.title = "Backtest: churn-v3";
//   doc.meta = {{"Model", "churn-v3 (sha256 1a2b…)"}, {"Data", "q3.csv"}};
//   Section& s = doc.sections.emplace_back();
//   s.heading = "Discrimination";
//   s.blocks.push_back(KeyFigures{{{"ROC AUC", Value::Number(0.787, 3),
//                                   Interval{0.774, 0.801}}}});
//   LineChart roc;  roc.id = "roc";  ...;  s.blocks.push_back(roc);
//
// Every string here is untrusted (model, segment, playbook and account
// names, file names): the renderer escapes all of it and never interprets
// any of it as markup, and it bounds what it draws (see RenderOptions).
// Numbers are kept as numbers (Value) so that the renderer writes them the
// one way the engine writes numbers (engine/common/number_format.h).
// Colours are CSS colour strings (`#2e7d32`, `rgb(46,125,50)`, `teal`); one
// that is not a colour is replaced by the default palette and noted in the
// report (html_text.h, NormalizeCssColor).
//
// Thread-safety: plain values; the usual rules for const and non-const use.

#ifndef HEALTHSCORE_ENGINE_REPORT_DOCUMENT_H_
#define HEALTHSCORE_ENGINE_REPORT_DOCUMENT_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace healthscore::engine::report {

// A value shown in a key-figure tile or a table cell: text, or a number the
// renderer writes with number_format.h (non-finite numbers are written
// "nan", "inf", "-inf" and shown muted).
struct Value {
  enum class Kind {
    kText,     // `text` as it is (escaped).
    kNumber,   // `number` with at most `precision` significant digits
               // (0: the shortest text that reads back exactly).
    kPercent,  // `number` is a fraction: 0.265 is shown "26.5%", rounded
               // to `precision` significant digits.
    kCount,    // `number` is a count, shown with thousands separators:
               // 1234567 is "1,234,567".
    kAmount,   // an exact amount its producer wrote as `text`
               // ("12,345.60"), a number (`number`, its value) for
               // alignment and charts.
  };
  Kind kind = Kind::kText;
  std::string text;
  double number = 0;
  int precision = 0;

  static Value Text(std::string_view s) {
    Value v;
    v.text = std::string(s);
    return v;
  }
  static Value Number(double x, int precision = 4) {
    Value v;
    v.kind = Kind::kNumber;
    v.number = x;
    v.precision = precision;
    return v;
  }
  static Value Percent(double fraction, int precision = 3) {
    Value v;
    v.kind = Kind::kPercent;
    v.number = fraction;
    v.precision = precision;
    return v;
  }
  static Value Count(int64_t n) {
    Value v;
    v.kind = Kind::kCount;
    v.number = static_cast<double>(n);
    return v;
  }
  static Value Amount(std::string_view text, double x) {
    Value v;
    v.kind = Kind::kAmount;
    v.text = std::string(text);
    v.number = x;
    return v;
  }
  bool is_numeric() const { return kind != Kind::kText; }
};

// A confidence or range interval, shown "95% CI 0.774–0.801" with the
// value's own kind and precision.
struct Interval {
  double low = NAN;
  double high = NAN;
  std::string label = "95% CI";
};

// A paragraph of text. Line breaks in `text` are kept as line breaks.
struct Paragraph {
  std::string text;
  bool muted = false;  // smaller, grey: for method notes and caveats
};

// One tile of a row of key figures: "ROC AUC / 0.787 / 95% CI 0.774–0.801".
struct KeyFigure {
  std::string label;
  Value value;
  std::optional<Interval> interval;
  std::string note;   // a short line under the value; may be empty
  std::string color;  // a CSS colour for the tile's accent bar; may be empty
};

struct KeyFigures {
  std::vector<KeyFigure> figures;
};

// A table cell: a value and, optionally, a colour swatch drawn before it
// (a tier's colour).
struct Cell {
  Cell() = default;
  Cell(Value v) : value(std::move(v)) {}  // NOLINT: rows read as values
  Cell(Value v, std::string swatch_color)
      : value(std::move(v)), swatch(std::move(swatch_color)) {}
  Value value;
  std::string swatch;
};

// A table. A column whose cells are all numeric (or empty) is right-aligned
// with tabular figures. Rows shorter than the widest row or the header are
// padded with empty cells. Beyond RenderOptions::max_table_rows rows (or
// max_table_columns columns) the rest is left out and the table says how
// many were left out.
struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;
  std::string note;  // shown under the table; may be empty
};

// An axis of a line chart or a histogram, or the value axis of a bar chart.
// With min and max both finite and min < max, the axis spans exactly
// [min, max] and marks outside are clipped; otherwise it spans the data,
// widened to nice tick values.
struct Axis {
  std::string title;
  double min = NAN;
  double max = NAN;
  bool percent = false;  // values are fractions; ticks read "25%"
};

struct Point {
  double x = 0;
  double y = 0;
};

// One line of a line chart. Points are drawn in the order given (a ROC
// curve, gains or a retention curve are already ordered by their producer);
// points with a non-finite coordinate are left out and counted.
struct Series {
  std::string name;
  std::vector<Point> points;
  std::string color;     // CSS colour; empty: the default palette
  bool step = false;     // draw as a step function (horizontal, then vertical)
  bool markers = false;  // also draw a dot at every point (calibration plots)
  bool dashed = false;
};

// A straight reference line drawn under the series and named in the
// legend: the diagonal of a ROC or calibration plot, the random baseline of
// cumulative gains. Not a mark.
struct ReferenceLine {
  std::string name;
  Point from;
  Point to;
};

// A chart of several series: ROC curves, cumulative gains, calibration,
// retention curves.
struct LineChart {
  std::string id;     // names the chart in data-chart="…" (for tests, links)
  std::string title;  // the figure caption and the SVG's accessible name
  Axis x;
  Axis y;
  std::vector<Series> series;
  std::vector<ReferenceLine> references;
  std::string note;  // shown under the chart; may be empty
};

// A series of bars, one value per category of its chart. `low` and `high`
// are empty or hold one bound per category (an interval drawn as an error
// bar; NaN bounds draw no bar). `colors` is empty or holds one CSS colour per
// category (tier colours); else all bars take `color`, else the palette.
struct BarSeries {
  std::string name;
  std::vector<double> values;
  std::vector<double> low;
  std::vector<double> high;
  std::vector<std::string> colors;
  std::string color;
};

// Bars by category: churn rate by tier with Wilson intervals, NRR by tier
// or segment. Two or more series are drawn as grouped bars, side by side
// per category (two models). A non-finite value draws no bar and is noted.
struct BarChart {
  std::string id;
  std::string title;
  std::string category_title;  // the title of the category axis
  std::vector<std::string> categories;
  Axis y;  // the value axis; it always includes 0
  std::vector<BarSeries> series;
  bool value_labels = true;  // write each bar's value over it (few bars)
  std::string note;
};

// A distribution of raw values (e.g. scores of churned accounts).
struct HistogramSeries {
  std::string name;
  std::vector<double> values;
  std::string color;
};

// Overlaid histograms of two or more distributions over the same bins:
// scores of churned versus retained accounts. With `share` each series is
// shown as the share of its own values per bin (so groups of different
// sizes compare); else as counts. Non-finite values are left out and noted.
struct HistogramChart {
  std::string id;
  std::string title;
  Axis x;  // bins span [x.min, x.max] when given, else the data's range
  std::string y_title;  // default "Share of accounts" or "Accounts"
  int bins = 20;        // 1..RenderOptions::max_histogram_bins
  bool share = true;
  std::vector<HistogramSeries> series;
  std::string note;
};

using Block = std::variant<Paragraph, KeyFigures, Table, LineChart, BarChart,
                           HistogramChart>;

struct Section {
  std::string heading;
  std::vector<Block> blocks;
};

struct Document {
  std::string title;
  std::string subtitle;
  // Label and value lines under the title: model, data, date, options.
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<Section> sections;
  std::string footer;  // e.g. "healthscore 1.4.0 backtest"; may be empty
};

}  // namespace healthscore::engine::report

#endif  // HEALTHSCORE_ENGINE_REPORT_DOCUMENT_H_
