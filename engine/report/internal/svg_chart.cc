#include "engine/report/internal/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <unordered_set>
#include <utility>

#include "engine/common/display.h"
#include "engine/common/number_format.h"
#include "engine/common/strings.h"
#include "engine/report/html_text.h"
#include "engine/report/scale.h"

namespace healthscore::engine::report::internal {
namespace {

using common::Cat;
using common::FormatNumber;
using common::NumberFormat;
using common::TruncateForDisplay;
using common::WithThousandsSeparators;

constexpr double kLeft = 64;
constexpr double kRight = kChartWidth - 20;
constexpr double kBottom = kChartHeight - 52;
constexpr double kLegendTop = 14;
constexpr double kLegendRow = 16;
// Width of a character of the 11px chart font, near enough to lay out
// legends and cut category labels (the figure is checked in a browser).
constexpr double kCharWidth = 6.4;

std::string Count(size_t n) { return WithThousandsSeparators(n); }

// Coordinates in SVG user units: a tenth of a unit is finer than any screen.
void AppendCoord(double v, std::string* out) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.1f", v);
  out->append(buf, static_cast<size_t>(n));
}

std::string Coord(double v) {
  std::string s;
  AppendCoord(v, &s);
  return s;
}

// Characters (not bytes) of a label, for layout.
size_t Chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// A label escaped and cut to fit `width` units and the option's bytes.
std::string FitLabel(std::string_view text, double width,
                     const RenderOptions& options) {
  const size_t fit = static_cast<size_t>(std::max(3.0, width / kCharWidth));
  size_t bytes = std::min(options.max_label_bytes, text.size());
  // Cut by characters when the label is wider than the room: count bytes
  // of the first `fit` characters.
  if (Chars(text) > fit) {
    size_t chars = 0;
    size_t i = 0;
    for (; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        if (chars == fit - 1) break;
        ++chars;
      }
    }
    bytes = std::min(bytes, i);
  }
  if (bytes >= text.size()) return HtmlEscape(text);
  return HtmlEscapeShort(text, bytes);
}

// A category label cut in the middle to fit: categories often differ only
// at their end ("Segment 11", "Segment 12"), so both ends are kept.
std::string FitCategory(std::string_view text, double width,
                        const RenderOptions& options) {
  const size_t fit =
      std::min(options.max_label_bytes,
               static_cast<size_t>(std::max(3.0, width / kCharWidth)));
  // Counted in characters here (at most max_label_bytes of them), so
  // both ends stay whole characters.
  const size_t chars = Chars(text);
  if (chars <= fit) return HtmlEscape(text);
  const size_t head = (fit - 1) / 2;
  const size_t tail = fit - 1 - head;
  // Byte offsets of the character `head` and of the character
  // `chars - tail`.
  size_t head_end = text.size();
  size_t tail_start = text.size();
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (n == head) head_end = std::min(head_end, i);
    if (n == chars - tail) tail_start = i;
    ++n;
  }
  return Cat(HtmlEscape(text.substr(0, head_end)), "\xE2\x80\xA6",
             HtmlEscape(text.substr(tail_start)));
}

std::string ChartId(std::string_view id, int index) {
  if (!id.empty()) return HtmlEscapeShort(id, 128);
  return Cat("chart-", index + 1);
}

// Linear map from a data interval onto a pixel interval.
struct Scale {
  double d0 = 0, d1 = 1, p0 = 0, p1 = 1;
  double operator()(double v) const {
    return p0 + (v - d0) / (d1 - d0) * (p1 - p0);
  }
};

// An axis range: the caller's when valid, else the data's made nice.
struct AxisRange {
  Ticks ticks;
  bool fixed = false;
};

AxisRange MakeRange(const Axis& axis, double data_min, double data_max,
                    int target) {
  AxisRange r;
  if (std::isfinite(axis.min) && std::isfinite(axis.max) &&
      axis.min < axis.max) {
    r.ticks = NiceTicks(axis.min, axis.max, target, /*expand=*/false);
    r.fixed = true;
  } else {
    r.ticks = NiceTicks(data_min, data_max, target, /*expand=*/true);
  }
  return r;
}

// A legend entry: the swatch kind and colour, and the label.
struct LegendItem {
  enum class Kind { kLine, kDashed, kBox, kTranslucentBox };
  Kind kind = Kind::kLine;
  std::string color;
  std::string label;  // plain text
};

struct LegendLayout {
  double plot_top = 44;
  std::string svg;
};

LegendLayout LayOutLegend(const std::vector<LegendItem>& items,
                          const RenderOptions& options) {
  LegendLayout layout;
  double x = kLeft;
  double y = kLegendTop;
  int rows = items.empty() ? 0 : 1;
  for (const LegendItem& item : items) {
    const std::string label = FitLabel(item.label, 36 * kCharWidth, options);
    const double width = 22 +
                         kCharWidth * static_cast<double>(std::min<size_t>(
                                          Chars(item.label), 36)) +
                         18;
    if (x + width > kRight && x > kLeft) {
      x = kLeft;
      y += kLegendRow;
      ++rows;
    }
    std::string& s = layout.svg;
    s += "<g class=\"legend-item\">";
    switch (item.kind) {
      case LegendItem::Kind::kLine:
      case LegendItem::Kind::kDashed:
        s += Cat("<line class=\"legend-swatch\" x1=\"", Coord(x), "\" y1=\"",
                 Coord(y), "\" x2=\"", Coord(x + 16), "\" y2=\"", Coord(y),
                 "\" stroke=\"", item.color, "\" stroke-width=\"2.5\"",
                 item.kind == LegendItem::Kind::kDashed
                     ? " stroke-dasharray=\"4 3\""
                     : "",
                 "/>");
        break;
      case LegendItem::Kind::kBox:
      case LegendItem::Kind::kTranslucentBox:
        s += Cat("<rect class=\"legend-swatch\" x=\"", Coord(x), "\" y=\"",
                 Coord(y - 5), "\" width=\"16\" height=\"10\" fill=\"",
                 item.color, "\"",
                 item.kind == LegendItem::Kind::kTranslucentBox
                     ? " fill-opacity=\"0.45\" stroke=\"" + item.color + "\""
                     : "",
                 "/>");
        break;
    }
    s += Cat("<text class=\"legend-label\" x=\"", Coord(x + 22), "\" y=\"",
             Coord(y + 4), "\">", label, "</text></g>");
    x += width;
  }
  layout.plot_top = 30 + rows * kLegendRow;
  return layout;
}

// The opening of the figure and its svg, with the accessible name.
void OpenFigure(std::string_view id, std::string_view title, int index,
                std::string* out) {
  const std::string title_html = HtmlEscape(title.empty() ? id : title);
  const std::string title_id = Cat("hs-chart-", index + 1, "-title");
  *out += Cat("<figure class=\"chart-figure\">\n<figcaption>", title_html,
              "</figcaption>\n<svg class=\"chart\" data-chart=\"",
              ChartId(id, index),
              "\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
              "aria-labelledby=\"",
              title_id, "\" viewBox=\"0 0 ", kChartWidth, " ", kChartHeight,
              "\" width=\"", kChartWidth, "\" height=\"", kChartHeight,
              "\"><title id=\"", title_id, "\">", title_html, "</title>");
}

void CloseFigure(std::string_view user_note,
                 const std::vector<std::string>& notes,
                 const RenderOptions& options, std::string* out) {
  *out += "</svg>\n";
  if (!user_note.empty()) {
    *out += "<p class=\"chart-note\">";
    *out += HtmlEscapeShort(user_note, options.max_text_bytes);
    *out += "</p>\n";
  }
  AppendNotes(notes, "chart-note omitted", out);
  *out += "</figure>\n";
}

void AppendNoData(double top, std::string* out) {
  *out +=
      Cat("<rect class=\"plot-area\" x=\"", Coord(kLeft), "\" y=\"", Coord(top),
          "\" width=\"", Coord(kRight - kLeft), "\" height=\"",
          Coord(kBottom - top), "\"/><text class=\"no-data\" x=\"",
          Coord((kLeft + kRight) / 2), "\" y=\"", Coord((top + kBottom) / 2),
          "\" text-anchor=\"middle\">No data</text>");
}

// The value axis and the plot span [top, bottom]; bar charts with
// slanted category labels raise the bottom.
// Horizontal grid lines and labels of a value axis, and its title.
void AppendYAxis(const Ticks& ticks, const Scale& y, bool percent,
                 std::string_view title, double top, double bottom,
                 const RenderOptions& options, std::string* out) {
  *out += "<g class=\"axis y-axis\">";
  for (double v : ticks.values) {
    const double py = y(v);
    *out += Cat("<line class=\"grid\" x1=\"", Coord(kLeft), "\" x2=\"",
                Coord(kRight), "\" y1=\"", Coord(py), "\" y2=\"", Coord(py),
                "\"/><text class=\"tick\" x=\"", Coord(kLeft - 6), "\" y=\"",
                Coord(py + 4), "\" text-anchor=\"end\">",
                HtmlEscape(FormatTick(v, ticks.step, percent)), "</text>");
  }
  if (!title.empty()) {
    const double cy = (top + bottom) / 2;
    *out +=
        Cat("<text class=\"axis-title\" x=\"14\" y=\"", Coord(cy),
            "\" text-anchor=\"middle\" transform=\"rotate(-90 14 ", Coord(cy),
            ")\">", FitLabel(title, bottom - top, options), "</text>");
  }
  *out += "</g>";
}

void AppendXAxis(const Ticks& ticks, const Scale& x, bool percent,
                 std::string_view title, const RenderOptions& options,
                 std::string* out) {
  *out += Cat("<g class=\"axis x-axis\"><line class=\"axis-line\" x1=\"",
              Coord(kLeft), "\" x2=\"", Coord(kRight), "\" y1=\"",
              Coord(kBottom), "\" y2=\"", Coord(kBottom), "\"/>");
  for (double v : ticks.values) {
    const double px = x(v);
    *out += Cat("<line class=\"tick-mark\" x1=\"", Coord(px), "\" x2=\"",
                Coord(px), "\" y1=\"", Coord(kBottom), "\" y2=\"",
                Coord(kBottom + 5), "\"/><text class=\"tick\" x=\"", Coord(px),
                "\" y=\"", Coord(kBottom + 18), "\" text-anchor=\"middle\">",
                HtmlEscape(FormatTick(v, ticks.step, percent)), "</text>");
  }
  if (!title.empty()) {
    *out +=
        Cat("<text class=\"axis-title\" x=\"", Coord((kLeft + kRight) / 2),
            "\" y=\"", Coord(kChartHeight - 10), "\" text-anchor=\"middle\">",
            FitLabel(title, kRight - kLeft, options), "</text>");
  }
  *out += "</g>";
}

void AppendClipPath(int index, double top, double bottom, std::string* out) {
  *out += Cat("<defs><clipPath id=\"hs-clip-", index + 1, "\"><rect x=\"",
              Coord(kLeft), "\" y=\"", Coord(top), "\" width=\"",
              Coord(kRight - kLeft), "\" height=\"", Coord(bottom - top),
              "\"/></clipPath></defs>");
}

std::string NameForNote(std::string_view name, size_t i) {
  if (name.empty()) return Cat("#", i + 1);
  return Cat("'", TruncateForDisplay(name, 64), "'");
}

// A value over a bar or in a tooltip: three significant digits, and all of
// the integer part (989.4 is "989", -999.99 is "-1000", never "-1e+03").
std::string FormatAxisValue(double v, bool percent) {
  const double shown = percent ? v * 100 : v;
  int digits = 3;
  if (std::isfinite(shown) && std::abs(shown) >= 100) {
    digits = std::min(
        15, static_cast<int>(std::floor(std::log10(std::abs(shown)))) + 2);
  }
  std::string out = FormatNumber(shown, NumberFormat{digits});
  if (percent) out.push_back('%');
  return out;
}

}  // namespace

void AppendNotes(const std::vector<std::string>& notes,
                 std::string_view css_class, std::string* out) {
  std::unordered_set<std::string_view> seen;
  std::vector<const std::string*> shown;
  size_t more = 0;
  for (const std::string& note : notes) {
    if (!seen.insert(note).second) continue;
    if (shown.size() < kMaxNotes) {
      shown.push_back(&note);
    } else {
      ++more;
    }
  }
  for (const std::string* note : shown) {
    *out += Cat("<p class=\"", css_class, "\">");
    AppendHtmlEscaped(*note, out);
    *out += "</p>\n";
  }
  if (more > 0) {
    *out += Cat("<p class=\"", css_class, "\">… and ", Count(more),
                " more note(s) like these.</p>\n");
  }
}

std::string FormatLike(const Value& value, double number) {
  switch (value.kind) {
    case Value::Kind::kText:
    case Value::Kind::kNumber:
    case Value::Kind::kAmount:
      return FormatNumber(number, NumberFormat{value.precision});
    case Value::Kind::kPercent:
      if (!std::isfinite(number)) return FormatNumber(number);
      return FormatNumber(number * 100, NumberFormat{value.precision}) + "%";
    case Value::Kind::kCount:
      if (std::isfinite(number) && number >= 0 && number < 1.8e19 &&
          number == std::floor(number)) {
        return WithThousandsSeparators(static_cast<uint64_t>(number));
      }
      if (std::isfinite(number) && number < 0 && number > -1.8e19 &&
          number == std::floor(number)) {
        return "-" + WithThousandsSeparators(static_cast<uint64_t>(-number));
      }
      return FormatNumber(number);
  }
  return FormatNumber(number);
}

std::string FormatValue(const Value& value) {
  if (value.kind == Value::Kind::kText || value.kind == Value::Kind::kAmount) {
    return value.text;
  }
  return FormatLike(value, value.number);
}

std::string ResolveColor(std::string_view requested, size_t palette_index,
                         std::string_view what,
                         std::vector<std::string>* notes) {
  if (!requested.empty()) {
    if (std::optional<std::string> c = NormalizeCssColor(requested)) {
      return *c;
    }
    if (notes != nullptr) {
      notes->push_back(Cat("The colour '", TruncateForDisplay(requested, 64),
                           "' of ", what,
                           " is not a CSS colour; it is drawn in the default "
                           "palette's colour instead."));
    }
  }
  return std::string(PaletteColor(palette_index));
}

void AppendLineChart(const LineChart& chart, const RenderOptions& options,
                     int index, std::string* out) {
  std::vector<std::string> notes;
  const size_t n_series = std::min(chart.series.size(), options.max_series);
  if (chart.series.size() > n_series) {
    notes.push_back(Cat("Only the first ", Count(n_series), " of ",
                        Count(chart.series.size()),
                        " series are drawn (max_series)."));
  }
  // Finite points of each series, and the data's extent.
  std::vector<std::vector<Point>> kept(n_series);
  double x_min = std::numeric_limits<double>::infinity();
  double x_max = -x_min, y_min = x_min, y_max = -x_min;
  bool any = false;
  const auto extend = [&](const Point& p) {
    x_min = std::min(x_min, p.x);
    x_max = std::max(x_max, p.x);
    y_min = std::min(y_min, p.y);
    y_max = std::max(y_max, p.y);
  };
  for (size_t i = 0; i < n_series; ++i) {
    const Series& s = chart.series[i];
    size_t dropped = 0;
    kept[i].reserve(s.points.size());
    for (const Point& p : s.points) {
      if (std::isfinite(p.x) && std::isfinite(p.y)) {
        kept[i].push_back(p);
        extend(p);
        any = true;
      } else {
        ++dropped;
      }
    }
    if (dropped > 0) {
      notes.push_back(Cat(Count(dropped), " point(s) of series ",
                          NameForNote(s.name, i),
                          " have no finite value and are not drawn."));
    }
  }
  std::vector<const ReferenceLine*> refs;
  for (const ReferenceLine& r : chart.references) {
    if (std::isfinite(r.from.x) && std::isfinite(r.from.y) &&
        std::isfinite(r.to.x) && std::isfinite(r.to.y)) {
      refs.push_back(&r);
    } else {
      notes.push_back(Cat("The reference line ", NameForNote(r.name, 0),
                          " has no finite end and is not drawn."));
    }
  }

  std::vector<LegendItem> legend;
  std::vector<std::string> colors(n_series);
  for (size_t i = 0; i < n_series; ++i) {
    const Series& s = chart.series[i];
    colors[i] = ResolveColor(s.color, i, Cat("series ", NameForNote(s.name, i)),
                             &notes);
    legend.push_back(
        {s.dashed ? LegendItem::Kind::kDashed : LegendItem::Kind::kLine,
         colors[i], s.name.empty() ? Cat("Series ", i + 1) : s.name});
  }
  for (const ReferenceLine* r : refs) {
    if (!r->name.empty()) {
      legend.push_back({LegendItem::Kind::kDashed, "#9ca3af", r->name});
    }
  }

  OpenFigure(chart.id, chart.title, index, out);
  const LegendLayout layout = LayOutLegend(legend, options);
  const double top = layout.plot_top;
  if (!any) {
    AppendNoData(top, out);
    CloseFigure(chart.note, notes, options, out);
    return;
  }
  // Reference lines take part in the extent so that a diagonal is whole.
  for (const ReferenceLine* r : refs) {
    extend(r->from);
    extend(r->to);
  }
  const AxisRange xr = MakeRange(chart.x, x_min, x_max, 6);
  const AxisRange yr = MakeRange(chart.y, y_min, y_max, 5);
  const Scale x{xr.ticks.min, xr.ticks.max, kLeft, kRight};
  const Scale y{yr.ticks.min, yr.ticks.max, kBottom, top};

  AppendYAxis(yr.ticks, y, chart.y.percent, chart.y.title, top, kBottom,
              options, out);
  AppendXAxis(xr.ticks, x, chart.x.percent, chart.x.title, options, out);
  *out += layout.svg;
  AppendClipPath(index, top, kBottom, out);
  *out += Cat("<g clip-path=\"url(#hs-clip-", index + 1, ")\">");
  for (const ReferenceLine* r : refs) {
    *out += Cat("<line class=\"ref\" x1=\"", Coord(x(r->from.x)), "\" y1=\"",
                Coord(y(r->from.y)), "\" x2=\"", Coord(x(r->to.x)), "\" y2=\"",
                Coord(y(r->to.y)), "\"><title>",
                HtmlEscapeShort(r->name, options.max_label_bytes),
                "</title></line>");
  }
  std::vector<Point> pixels;
  for (size_t i = 0; i < n_series; ++i) {
    const Series& s = chart.series[i];
    if (kept[i].empty()) continue;
    pixels.clear();
    pixels.reserve(kept[i].size());
    for (const Point& p : kept[i]) pixels.push_back({x(p.x), y(p.y)});
    if (pixels.size() > options.max_series_points) {
      notes.push_back(Cat("Series ", NameForNote(s.name, i), " is drawn with ",
                          Count(options.max_series_points), " of its ",
                          Count(pixels.size()),
                          " points (max_series_points; first and last "
                          "points kept)."));
      pixels = DecimateLttb(pixels, options.max_series_points);
    }
    const std::string name =
        HtmlEscapeShort(s.name.empty() ? Cat("Series ", i + 1) : s.name,
                        options.max_label_bytes);
    *out += Cat("<g class=\"series\" data-series=\"", i + 1, "\">");
    if (pixels.size() >= 2) {
      std::string d = "M";
      AppendCoord(pixels[0].x, &d);
      d += ',';
      AppendCoord(pixels[0].y, &d);
      for (size_t k = 1; k < pixels.size(); ++k) {
        if (s.step) {
          d += 'H';
          AppendCoord(pixels[k].x, &d);
          d += 'V';
          AppendCoord(pixels[k].y, &d);
        } else {
          d += 'L';
          AppendCoord(pixels[k].x, &d);
          d += ',';
          AppendCoord(pixels[k].y, &d);
        }
      }
      *out +=
          Cat("<path class=\"mark line\" d=\"", d, "\" fill=\"none\" stroke=\"",
              colors[i], "\" stroke-width=\"2\" stroke-linejoin=\"round\"",
              s.dashed ? " stroke-dasharray=\"6 4\"" : "", "><title>", name,
              "</title></path>");
    }
    // A lone point has no line to show it: it gets a dot.
    if (s.markers || pixels.size() == 1) {
      for (const Point& p : pixels) {
        *out +=
            Cat("<circle class=\"mark point\" cx=\"", Coord(p.x), "\" cy=\"",
                Coord(p.y), "\" r=\"3.5\" fill=\"", colors[i], "\"/>");
      }
    }
    *out += "</g>";
  }
  *out += "</g>";
  CloseFigure(chart.note, notes, options, out);
}

void AppendBarChart(const BarChart& chart, const RenderOptions& options,
                    int index, std::string* out) {
  std::vector<std::string> notes;
  const size_t n_cat =
      std::min(chart.categories.size(), options.max_bar_categories);
  const size_t n_series = std::min(chart.series.size(), options.max_series);
  if (chart.categories.size() > n_cat) {
    notes.push_back(Cat("Only the first ", Count(n_cat), " of ",
                        Count(chart.categories.size()),
                        " categories are drawn (max_bar_categories)."));
  }
  if (chart.series.size() > n_series) {
    notes.push_back(Cat("Only the first ", Count(n_series), " of ",
                        Count(chart.series.size()),
                        " series are drawn (max_series)."));
  }
  const auto value_at = [](const std::vector<double>& v, size_t c) {
    return c < v.size() ? v[c] : std::numeric_limits<double>::quiet_NaN();
  };
  double lo = 0;
  double hi = 0;
  bool any = false;
  for (size_t s = 0; s < n_series; ++s) {
    const BarSeries& bs = chart.series[s];
    size_t missing = 0;
    for (size_t c = 0; c < n_cat; ++c) {
      const double v = value_at(bs.values, c);
      if (!std::isfinite(v)) {
        ++missing;
        continue;
      }
      any = true;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      const double l = value_at(bs.low, c);
      const double h = value_at(bs.high, c);
      if (std::isfinite(l) && std::isfinite(h)) {
        lo = std::min({lo, l, h});
        hi = std::max({hi, l, h});
      }
    }
    if (missing > 0) {
      notes.push_back(Cat(Count(missing), " bar(s) of series ",
                          NameForNote(bs.name, s),
                          " have no finite value and are not drawn."));
    }
  }
  // With colours per category (tiers), a series is told apart by its fill
  // (solid, then translucent), so its legend swatch is a neutral grey.
  bool category_colors = false;
  for (size_t s = 0; s < n_series; ++s) {
    category_colors = category_colors || !chart.series[s].colors.empty();
  }
  std::vector<LegendItem> legend;
  std::vector<std::string> series_colors(n_series);
  for (size_t s = 0; s < n_series; ++s) {
    const BarSeries& bs = chart.series[s];
    series_colors[s] = ResolveColor(
        bs.color, s, Cat("series ", NameForNote(bs.name, s)), &notes);
    if (n_series > 1) {
      legend.push_back(
          {s == 0 ? LegendItem::Kind::kBox : LegendItem::Kind::kTranslucentBox,
           category_colors ? "#7b8794" : series_colors[s],
           bs.name.empty() ? Cat("Series ", s + 1) : bs.name});
    }
  }
  OpenFigure(chart.id, chart.title, index, out);
  const LegendLayout layout = LayOutLegend(legend, options);
  const double top = layout.plot_top;
  if (!any || n_cat == 0) {
    AppendNoData(top, out);
    CloseFigure(chart.note, notes, options, out);
    return;
  }
  // The category axis: a band per category, bars side by side inside it.
  // Labels wider than their band are slanted and cut to kSlantedChars; the
  // plot's bottom rises to make room for them.
  const double band = (kRight - kLeft) / static_cast<double>(n_cat);
  const double group = band * 0.72;
  const double bar = group / static_cast<double>(std::max<size_t>(n_series, 1));
  size_t widest = 0;
  for (size_t c = 0; c < n_cat; ++c) {
    widest = std::max(widest, Chars(chart.categories[c]));
  }
  const bool slanted = static_cast<double>(widest) * kCharWidth > band - 4;
  constexpr size_t kSlantedChars = 16;
  // sin(40 degrees) of the longest label, the tick row and the axis title.
  const double bottom =
      slanted ? kChartHeight - 28 -
                    0.64 * kCharWidth *
                        static_cast<double>(std::min(widest, kSlantedChars)) -
                    14
              : kBottom;
  const AxisRange yr = MakeRange(chart.y, lo, hi, 5);
  const Scale y{yr.ticks.min, yr.ticks.max, bottom, top};
  AppendYAxis(yr.ticks, y, chart.y.percent, chart.y.title, top, bottom, options,
              out);
  *out += "<g class=\"axis x-axis\">";
  for (size_t c = 0; c < n_cat; ++c) {
    const double cx = kLeft + band * (static_cast<double>(c) + 0.5);
    const std::string full =
        HtmlEscapeShort(chart.categories[c], options.max_text_bytes);
    if (slanted) {
      // Rotated 40 degrees about its end, under the middle of its band.
      const double ly = bottom + 14;
      *out += Cat(
          "<text class=\"tick category\" x=\"", Coord(cx + 4), "\" y=\"",
          Coord(ly),
          "\" text-anchor=\"end\" "
          "transform=\"rotate(-40 ",
          Coord(cx + 4), " ", Coord(ly), ")\">",
          FitCategory(chart.categories[c], kSlantedChars * kCharWidth, options),
          "<title>", full, "</title></text>");
    } else {
      *out += Cat("<text class=\"tick category\" x=\"", Coord(cx), "\" y=\"",
                  Coord(bottom + 18), "\" text-anchor=\"middle\">",
                  FitCategory(chart.categories[c], band - 4, options),
                  "<title>", full, "</title></text>");
    }
  }
  if (!chart.category_title.empty()) {
    *out +=
        Cat("<text class=\"axis-title\" x=\"", Coord((kLeft + kRight) / 2),
            "\" y=\"", Coord(kChartHeight - 10), "\" text-anchor=\"middle\">",
            FitLabel(chart.category_title, kRight - kLeft, options), "</text>");
  }
  *out += "</g>";
  *out += layout.svg;
  AppendClipPath(index, top, bottom, out);
  *out += Cat("<g clip-path=\"url(#hs-clip-", index + 1, ")\">");
  const double zero = y(std::clamp(0.0, yr.ticks.min, yr.ticks.max));
  // A value over each bar when the bars are wide enough to hold one.
  const bool labels = chart.value_labels && bar >= 36;
  for (size_t s = 0; s < n_series; ++s) {
    const BarSeries& bs = chart.series[s];
    const std::string series_name =
        bs.name.empty() ? Cat("Series ", s + 1) : bs.name;
    *out += Cat("<g class=\"series\" data-series=\"", s + 1, "\">");
    for (size_t c = 0; c < n_cat; ++c) {
      const double v = value_at(bs.values, c);
      if (!std::isfinite(v)) continue;
      std::string color = series_colors[s];
      if (c < bs.colors.size() && !bs.colors[c].empty()) {
        color = ResolveColor(
            bs.colors[c], s,
            Cat("category ", NameForNote(chart.categories[c], c)), &notes);
      }
      const double bx = kLeft + band * static_cast<double>(c) +
                        (band - group) / 2 + bar * static_cast<double>(s);
      const double vy = y(v);
      const double y0 = std::min(vy, zero);
      const double h = std::abs(zero - vy);
      const double l = value_at(bs.low, c);
      const double hh = value_at(bs.high, c);
      const bool interval = std::isfinite(l) && std::isfinite(hh);
      std::string tip =
          Cat(chart.categories[c], n_series > 1 ? " · " + series_name : "",
              ": ", FormatAxisValue(v, chart.y.percent));
      if (interval) {
        tip += Cat(" (", FormatAxisValue(l, chart.y.percent), "–",
                   FormatAxisValue(hh, chart.y.percent), ")");
      }
      *out +=
          Cat("<rect class=\"mark bar\" x=\"", Coord(bx + 1), "\" y=\"",
              Coord(y0), "\" width=\"", Coord(std::max(bar - 2, 1.0)),
              "\" height=\"", Coord(h), "\" fill=\"", color, "\"",
              s > 0 ? " fill-opacity=\"0.55\" stroke=\"" + color + "\"" : "",
              "><title>", HtmlEscapeShort(tip, options.max_text_bytes),
              "</title></rect>");
      // Over a bar that rises, under one that hangs below zero; clear of
      // the error bar either way.
      const bool hangs = vy > zero;
      double label_y = hangs ? vy + 14 : vy - 5;
      if (interval) {
        const double cx = bx + bar / 2;
        const double ylo = y(l);
        const double yhi = y(hh);
        const double cap = std::min(8.0, bar / 3);
        *out += Cat("<path class=\"mark errorbar\" d=\"M", Coord(cx), ",",
                    Coord(ylo), "V", Coord(yhi), "M", Coord(cx - cap / 2), ",",
                    Coord(ylo), "h", Coord(cap), "M", Coord(cx - cap / 2), ",",
                    Coord(yhi), "h", Coord(cap), "\"/>");
        label_y = hangs ? std::max(label_y, std::max(ylo, yhi) + 14)
                        : std::min(label_y, std::min(ylo, yhi) - 5);
      }
      if (labels) {
        *out += Cat("<text class=\"value-label\" x=\"", Coord(bx + bar / 2),
                    "\" y=\"", Coord(std::clamp(label_y, top + 10, bottom - 4)),
                    "\" text-anchor=\"middle\">",
                    HtmlEscape(FormatAxisValue(v, chart.y.percent)), "</text>");
      }
    }
    *out += "</g>";
  }
  *out += Cat("<line class=\"baseline\" x1=\"", Coord(kLeft), "\" x2=\"",
              Coord(kRight), "\" y1=\"", Coord(zero), "\" y2=\"", Coord(zero),
              "\"/></g>");
  CloseFigure(chart.note, notes, options, out);
}

void AppendHistogram(const HistogramChart& chart, const RenderOptions& options,
                     int index, std::string* out) {
  std::vector<std::string> notes;
  const size_t n_series = std::min(chart.series.size(), options.max_series);
  if (chart.series.size() > n_series) {
    notes.push_back(Cat("Only the first ", Count(n_series), " of ",
                        Count(chart.series.size()),
                        " series are drawn (max_series)."));
  }
  int bins = chart.bins;
  if (bins < 1 || bins > options.max_histogram_bins) {
    bins = std::clamp(bins, 1, options.max_histogram_bins);
    notes.push_back(Cat("Drawn with ", bins, " bins instead of the ",
                        chart.bins, " asked for (1..max_histogram_bins)."));
  }
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (size_t s = 0; s < n_series; ++s) {
    size_t dropped = 0;
    for (double v : chart.series[s].values) {
      if (!std::isfinite(v)) {
        ++dropped;
        continue;
      }
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (dropped > 0) {
      notes.push_back(Cat(Count(dropped), " value(s) of series ",
                          NameForNote(chart.series[s].name, s),
                          " are not finite and are not counted."));
    }
  }
  const bool fixed = std::isfinite(chart.x.min) && std::isfinite(chart.x.max) &&
                     chart.x.min < chart.x.max;
  bool any = fixed || lo <= hi;
  Ticks xt;
  if (any) {
    xt = fixed ? NiceTicks(chart.x.min, chart.x.max, 6, false)
               : NiceTicks(lo, hi, 6, true);
  }
  const double x0 = fixed ? chart.x.min : xt.min;
  const double x1 = fixed ? chart.x.max : xt.max;
  // Counts per series and bin, values outside a fixed axis counted apart.
  std::vector<std::vector<size_t>> counts(n_series,
                                          std::vector<size_t>(bins, 0));
  std::vector<size_t> totals(n_series, 0);
  size_t binned = 0;
  if (any) {
    const double width = (x1 - x0) / bins;
    for (size_t s = 0; s < n_series; ++s) {
      size_t outside = 0;
      for (double v : chart.series[s].values) {
        if (!std::isfinite(v)) continue;
        if (v < x0 || v > x1) {
          ++outside;
          continue;
        }
        const int b = std::min(bins - 1, static_cast<int>((v - x0) / width));
        ++counts[s][std::max(b, 0)];
        ++totals[s];
      }
      binned += totals[s];
      if (outside > 0) {
        notes.push_back(Cat(Count(outside), " value(s) of series ",
                            NameForNote(chart.series[s].name, s),
                            " lie outside the axis and are not counted."));
      }
    }
  }
  std::vector<LegendItem> legend;
  std::vector<std::string> colors(n_series);
  for (size_t s = 0; s < n_series; ++s) {
    const HistogramSeries& hs = chart.series[s];
    colors[s] = ResolveColor(hs.color, s,
                             Cat("series ", NameForNote(hs.name, s)), &notes);
    legend.push_back({LegendItem::Kind::kTranslucentBox, colors[s],
                      Cat(hs.name.empty() ? Cat("Series ", s + 1) : hs.name,
                          " (n = ", Count(totals[s]), ")")});
  }
  OpenFigure(chart.id, chart.title, index, out);
  const LegendLayout layout = LayOutLegend(legend, options);
  const double top = layout.plot_top;
  if (binned == 0) {
    AppendNoData(top, out);
    CloseFigure(chart.note, notes, options, out);
    return;
  }
  double y_max = 0;
  for (size_t s = 0; s < n_series; ++s) {
    for (size_t c : counts[s]) {
      const double v =
          chart.share ? static_cast<double>(c) / static_cast<double>(totals[s])
                      : static_cast<double>(c);
      if (totals[s] > 0) y_max = std::max(y_max, v);
    }
  }
  const Ticks yt = NiceTicks(0, y_max, 5, true);
  const Scale x{x0, x1, kLeft, kRight};
  const Scale y{yt.min, yt.max, kBottom, top};
  const std::string y_title =
      !chart.y_title.empty() ? chart.y_title
                             : (chart.share ? "Share of accounts" : "Accounts");
  AppendYAxis(yt, y, chart.share, y_title, top, kBottom, options, out);
  AppendXAxis(xt, x, chart.x.percent, chart.x.title, options, out);
  *out += layout.svg;
  const double width = (x1 - x0) / bins;
  for (size_t s = 0; s < n_series; ++s) {
    if (totals[s] == 0) continue;
    const std::string name = chart.series[s].name.empty()
                                 ? Cat("Series ", s + 1)
                                 : chart.series[s].name;
    *out += Cat("<g class=\"series\" data-series=\"", s + 1, "\">");
    for (int b = 0; b < bins; ++b) {
      const size_t c = counts[s][b];
      if (c == 0) continue;
      const double v =
          chart.share ? static_cast<double>(c) / static_cast<double>(totals[s])
                      : static_cast<double>(c);
      const double bx0 = x(x0 + width * b);
      const double bx1 = x(b + 1 == bins ? x1 : x0 + width * (b + 1));
      const double vy = y(v);
      const std::string tip =
          Cat(name, ": ", FormatNumber(x0 + width * b, NumberFormat{4}), "–",
              FormatNumber(b + 1 == bins ? x1 : x0 + width * (b + 1),
                           NumberFormat{4}),
              ": ", Count(c),
              chart.share ? Cat(" (", FormatAxisValue(v, true), ")") : "");
      *out +=
          Cat("<rect class=\"mark bin\" x=\"", Coord(bx0), "\" y=\"", Coord(vy),
              "\" width=\"", Coord(std::max(bx1 - bx0, 0.5)), "\" height=\"",
              Coord(kBottom - vy), "\" fill=\"", colors[s],
              "\" fill-opacity=\"0.45\" stroke=\"", colors[s], "\"><title>",
              HtmlEscapeShort(tip, options.max_text_bytes), "</title></rect>");
    }
    *out += "</g>";
  }
  CloseFigure(chart.note, notes, options, out);
}

}  // namespace healthscore::engine::report::internal
