#include "engine/report/html_report.h"

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::report {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

size_t CountOf(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// The <svg> of the chart with data-chart="id" (empty when absent).
std::string ChartSvg(const std::string& html, std::string_view id) {
  const size_t at =
      html.find(std::string("data-chart=\"") + std::string(id) + "\"");
  if (at == std::string::npos) return "";
  const size_t start = html.rfind("<svg", at);
  const size_t end = html.find("</svg>", at);
  return html.substr(start, end + 6 - start);
}

// The figure (svg and notes) of the chart with data-chart="id".
std::string ChartFigure(const std::string& html, std::string_view id) {
  const size_t at =
      html.find(std::string("data-chart=\"") + std::string(id) + "\"");
  if (at == std::string::npos) return "";
  const size_t start = html.rfind("<figure", at);
  const size_t end = html.find("</figure>", at);
  return html.substr(start, end + 9 - start);
}

// Aggregates built whole, without -Wmissing-field-initializers noise.
Series Line(std::string name, std::vector<Point> points) {
  Series s;
  s.name = std::move(name);
  s.points = std::move(points);
  return s;
}

BarSeries Bars(std::string name, std::vector<double> values,
               std::vector<double> low = {}, std::vector<double> high = {},
               std::vector<std::string> colors = {}, std::string color = "") {
  BarSeries s;
  s.name = std::move(name);
  s.values = std::move(values);
  s.low = std::move(low);
  s.high = std::move(high);
  s.colors = std::move(colors);
  s.color = std::move(color);
  return s;
}

HistogramSeries Hist(std::string name, std::vector<double> values,
                     std::string color = "") {
  HistogramSeries s;
  s.name = std::move(name);
  s.values = std::move(values);
  s.color = std::move(color);
  return s;
}

std::string Render(const Document& doc,
                   const RenderOptions& options = RenderOptions()) {
  absl::StatusOr<std::string> html = RenderHtml(doc, options);
  EXPECT_THAT(html.status(), ::healthscore::engine::common::testing::IsOk());
  return html.ok() ? *html : "";
}

Document WithBlock(Block block) {
  Document doc;
  doc.title = "t";
  doc.sections.push_back(Section{"s", {std::move(block)}});
  return doc;
}

TEST(RenderHtmlTest, IsOneSelfContainedPageThatRunsAndLoadsNothing) {
  Document doc;
  doc.title = "Backtest";
  doc.subtitle = "churn-v3 against Q3 outcomes";
  doc.meta = {{"Model", "churn-v3"}, {"Data", "q3.csv"}};
  doc.sections.push_back(Section{"One", {Paragraph{"Hello"}}});
  doc.footer = "healthscore";
  const std::string html = Render(doc);
  EXPECT_THAT(html, StartsWith("<!DOCTYPE html>\n<html lang=\"en\">"));
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy\" content=\"default-src "
                              "'none'; style-src 'unsafe-inline'"));
  EXPECT_THAT(html, HasSubstr("script-src 'none'"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_EQ(CountOf(html, "<script"), 0u);
  EXPECT_EQ(CountOf(html, "<link"), 0u);
  EXPECT_EQ(CountOf(html, "src="), 0u);
  EXPECT_EQ(CountOf(html, "@import"), 0u);
  EXPECT_EQ(CountOf(html, "url(http"), 0u);
  EXPECT_EQ(CountOf(html, "@font-face"), 0u);
  EXPECT_THAT(html, HasSubstr("<h1>Backtest</h1>"));
  EXPECT_THAT(html, HasSubstr("<p class=\"subtitle\">churn-v3 against Q3 "
                              "outcomes</p>"));
  EXPECT_THAT(html, HasSubstr("<dt>Model</dt><dd>churn-v3</dd>"));
  EXPECT_THAT(html, HasSubstr("<section id=\"section-1\">\n<h2>One</h2>"));
  EXPECT_THAT(html, HasSubstr("<footer>healthscore</footer>"));
  EXPECT_THAT(html, HasSubstr("</html>\n"));
  // Two sections get no contents list; three do, linking numbered anchors.
  EXPECT_THAT(html, Not(HasSubstr("<nav")));
  doc.sections.push_back(Section{"Two", {}});
  doc.sections.push_back(Section{"<Three>", {}});
  const std::string three = Render(doc);
  EXPECT_THAT(three, HasSubstr("<a href=\"#section-3\">&lt;Three&gt;</a>"));
}

TEST(RenderHtmlTest, EscapesEveryText) {
  const std::string evil = "</script><b>x</b>\"'&";
  const std::string escaped =
      "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;&quot;&#39;&amp;";
  Document doc;
  doc.title = evil;
  doc.subtitle = evil;
  doc.meta = {{evil, evil}};
  doc.footer = evil;
  Section s{evil, {}};
  s.blocks.push_back(Paragraph{evil});
  s.blocks.push_back(
      KeyFigures{{{evil, Value::Text(evil), Interval{1, 2, evil}, evil, ""}}});
  s.blocks.push_back(Table{evil, {evil}, {{Cell(Value::Text(evil))}}, evil});
  LineChart line;
  line.id = evil;
  line.title = evil;
  line.x.title = evil;
  line.y.title = evil;
  line.series.push_back(Line(evil, {{0, 0}, {1, 1}}));
  line.references.push_back({evil, {0, 0}, {1, 1}});
  line.note = evil;
  s.blocks.push_back(line);
  BarChart bars;
  bars.id = "bars";
  bars.title = evil;
  bars.category_title = evil;
  bars.categories = {evil};
  bars.series.push_back(Bars(evil, {0.5}));
  bars.series.push_back(Bars(evil, {0.25}));
  s.blocks.push_back(bars);
  HistogramChart hist;
  hist.id = "hist";
  hist.title = evil;
  hist.y_title = evil;
  hist.series.push_back(Hist(evil, {1, 2, 3}));
  s.blocks.push_back(hist);
  doc.sections.push_back(s);
  const std::string html = Render(doc);
  EXPECT_EQ(CountOf(html, "<b>"), 0u);
  EXPECT_EQ(CountOf(html, "</script>"), 0u);
  EXPECT_EQ(CountOf(html, "<script"), 0u);
  EXPECT_GE(CountOf(html, escaped), 15u);
  // The id lands in an attribute, escaped.
  EXPECT_THAT(html, HasSubstr(std::string("data-chart=\"") + escaped + "\""));
}

TEST(RenderHtmlTest, KeyFiguresWriteNumbersTheEngineWay) {
  KeyFigures f;
  f.figures.push_back({"ROC AUC", Value::Number(0.7871234, 3),
                       Interval{0.7741, 0.8012}, "DeLong", "#2e7d32"});
  f.figures.push_back({"Churned", Value::Percent(0.265), std::nullopt, "", ""});
  f.figures.push_back({"Accounts", Value::Count(7043), std::nullopt, "", ""});
  f.figures.push_back({"Brier", Value::Number(kNaN), std::nullopt, "", "x;y"});
  const std::string html = Render(WithBlock(f));
  EXPECT_THAT(html, HasSubstr("<div class=\"figure\" style=\"border-top-color:"
                              "#2e7d32\"><div class=\"figure-label\">ROC AUC"
                              "</div><div class=\"figure-value\">0.787</div>"
                              "<div class=\"figure-interval\">95% CI "
                              "0.774–0.801</div><div class=\"figure-note\">"
                              "DeLong</div></div>"));
  EXPECT_THAT(html, HasSubstr("<div class=\"figure-value\">26.5%</div>"));
  EXPECT_THAT(html, HasSubstr("<div class=\"figure-value\">7,043</div>"));
  EXPECT_THAT(html, HasSubstr("<div class=\"figure-value\"><span "
                              "class=\"nonfinite\">nan</span></div>"));
  // The bad colour is replaced by the palette and said so.
  EXPECT_THAT(html, HasSubstr("The colour &#39;x;y&#39; of the figure "
                              "&#39;Brier&#39; is not a CSS colour"));
  EXPECT_THAT(html, Not(HasSubstr("border-top-color:x;y")));
}

TEST(RenderHtmlTest, TablesAlignNumbersShowSwatchesAndCapRows) {
  Table t;
  t.caption = "Churn by tier";
  t.header = {"Tier", "Accounts", "Churn rate"};
  t.rows.push_back({Cell(Value::Text("green"), "#2e7d32"), Value::Count(1200),
                    Value::Percent(0.055)});
  t.rows.push_back({Cell(Value::Text("red"), "javascript:alert(1)"),
                    Value::Count(300)});  // short row: padded
  const std::string html = Render(WithBlock(t));
  EXPECT_THAT(html, HasSubstr("<caption>Churn by tier</caption>"));
  EXPECT_THAT(html, HasSubstr("<thead><tr><th scope=\"col\">Tier</th><th "
                              "scope=\"col\" class=\"num\">Accounts</th><th "
                              "scope=\"col\" class=\"num\">Churn rate</th>"
                              "</tr></thead>"));
  EXPECT_THAT(html, HasSubstr("<tr><td><span class=\"swatch\" style=\""
                              "background:#2e7d32\"></span>green</td><td "
                              "class=\"num\">1,200</td><td class=\"num\">"
                              "5.5%</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"num\">300</td><td class=\"num\">"
                              "</td></tr>"));
  EXPECT_THAT(html, Not(HasSubstr("background:javascript")));
  EXPECT_THAT(html, HasSubstr("not a CSS colour"));

  Table big;
  big.header = {"id"};
  for (int i = 0; i < 20000; ++i) big.rows.push_back({Value::Count(i)});
  big.rows[5].push_back(Value::Text("wide"));
  RenderOptions options;
  options.max_table_rows = 100;
  options.max_table_columns = 1;
  const std::string capped = Render(WithBlock(big), options);
  EXPECT_EQ(CountOf(capped, "<tr>"), 101u);  // header + 100
  EXPECT_THAT(capped, HasSubstr("Showing the first 100 of 20,000 rows "
                                "(max_table_rows)."));
  EXPECT_THAT(capped, HasSubstr("Showing the first 1 of 2 columns "
                                "(max_table_columns)."));
  EXPECT_THAT(capped, Not(HasSubstr("wide")));
}

TEST(RenderHtmlTest, NotesAreSaidOnceAndCapped) {
  // The same bad colour down a table: one note.
  Table same;
  for (int i = 0; i < 500; ++i) {
    same.rows.push_back({Cell(Value::Text("red"), "bad")});
  }
  std::string html = Render(WithBlock(same));
  EXPECT_EQ(CountOf(html,
                    "The colour &#39;bad&#39; of a swatch of this table "
                    "is not a CSS colour"),
            1u);
  // 1,000 different bad colours: 10 notes, then how many more.
  Table many;
  for (int i = 0; i < 1000; ++i) {
    many.rows.push_back({Cell(Value::Text("red"), "bad" + std::to_string(i))});
  }
  html = Render(WithBlock(many));
  EXPECT_EQ(CountOf(html, "is not a CSS colour"), 10u);
  EXPECT_THAT(html, HasSubstr("<p class=\"table-note omitted\">… and 990 "
                              "more note(s) like these.</p>"));
}

TEST(RenderHtmlTest, LongTextIsCut) {
  Document doc;
  doc.title = std::string(1000000, 'x');
  RenderOptions options;
  options.max_text_bytes = 100;
  const std::string html = Render(doc, options);
  EXPECT_LT(html.size(), 20000u);
  EXPECT_THAT(html, HasSubstr("<h1>" + std::string(100, 'x') + "…</h1>"));
}

LineChart Roc() {
  LineChart c;
  c.id = "roc";
  c.title = "ROC curve";
  c.x = {"False positive rate", 0, 1};
  c.y = {"True positive rate", 0, 1};
  c.series.push_back(
      Line("churn-v3", {{0, 0}, {0.1, 0.5}, {0.4, 0.8}, {1, 1}}));
  Series calibrated = Line("calibrated", {{0, 0}, {0.5, 0.6}, {1, 1}});
  calibrated.markers = true;
  calibrated.dashed = true;
  c.series.push_back(calibrated);
  c.references.push_back({"Chance", {0, 0}, {1, 1}});
  return c;
}

TEST(LineChartTest, DrawsALinePerSeriesAndADotPerMarker) {
  const std::string html = Render(WithBlock(Roc()));
  const std::string svg = ChartSvg(html, "roc");
  ASSERT_FALSE(svg.empty());
  EXPECT_THAT(svg, StartsWith("<svg class=\"chart\" data-chart=\"roc\""));
  EXPECT_THAT(svg,
              HasSubstr("role=\"img\" aria-labelledby=\"hs-chart-1-title\""));
  EXPECT_THAT(svg,
              HasSubstr("<title id=\"hs-chart-1-title\">ROC curve</title>"));
  EXPECT_EQ(CountOf(svg, "class=\"mark line\""), 2u);
  EXPECT_EQ(CountOf(svg, "class=\"mark point\""), 3u);
  EXPECT_EQ(CountOf(svg, "class=\"mark"), 5u);
  // The first series starts at (0,0): the plot's bottom-left corner.
  EXPECT_THAT(svg, HasSubstr("d=\"M64.0,308.0L"));
  // The reference diagonal is drawn and in the legend, not a mark.
  EXPECT_EQ(CountOf(svg, "<line class=\"ref\""), 1u);
  EXPECT_THAT(svg, HasSubstr(">Chance</text>"));
  // Ticks at 0, 0.2, ..., 1 on both axes, and the axis titles.
  EXPECT_THAT(svg, HasSubstr(">0.2</text>"));
  EXPECT_THAT(svg, HasSubstr(">False positive rate</text>"));
  EXPECT_THAT(svg, HasSubstr("rotate(-90"));
  EXPECT_EQ(CountOf(svg, "class=\"tick\""), 12u);
}

TEST(LineChartTest, StepSeriesDrawStairs) {
  LineChart c;
  c.id = "retention";
  Series s = Line("2025-01", {{0, 1}, {1, 0.9}, {2, 0.8}});
  s.step = true;
  c.series.push_back(s);
  const std::string svg = ChartSvg(Render(WithBlock(c)), "retention");
  EXPECT_EQ(CountOf(svg, "class=\"mark line\""), 1u);
  // M x0,y0 H x1 V y1 H x2 V y2.
  const size_t d = svg.find("class=\"mark line\" d=\"M");
  ASSERT_NE(d, std::string::npos);
  const std::string path = svg.substr(d, svg.find('"', d + 22) - d);
  EXPECT_EQ(CountOf(path, "H"), 2u);
  EXPECT_EQ(CountOf(path, "V"), 2u);
  EXPECT_EQ(CountOf(path, "L"), 0u);
}

TEST(LineChartTest, NonFiniteAndLonePointsAreHandled) {
  LineChart c;
  c.id = "gains";
  c.series.push_back(Line("a", {{0, 0}, {0.5, kNaN}, {kInf, 1}, {1, 1}}));
  c.series.push_back(Line("lone", {{0.5, 0.5}}));
  const std::string figure = ChartFigure(Render(WithBlock(c)), "gains");
  EXPECT_EQ(CountOf(figure, "class=\"mark line\""), 1u);
  EXPECT_EQ(CountOf(figure, "class=\"mark point\""), 1u);  // the lone point
  EXPECT_THAT(figure, HasSubstr("2 point(s) of series &#39;a&#39; have no "
                                "finite value and are not drawn."));
  EXPECT_THAT(figure, Not(HasSubstr("nan")));
}

TEST(LineChartTest, LongSeriesAreDecimatedKeepingTheirEnds) {
  LineChart c;
  c.id = "roc";
  c.x.min = 0;
  c.x.max = 1;
  c.y.min = 0;
  c.y.max = 1;
  Series s = Line("big", {});
  const int n = 100000;
  for (int i = 0; i <= n; ++i) {
    const double x = static_cast<double>(i) / n;
    s.points.push_back({x, std::sqrt(x)});
  }
  c.series.push_back(s);
  RenderOptions options;
  options.max_series_points = 500;
  const std::string figure = ChartFigure(Render(WithBlock(c), options), "roc");
  const std::string_view open = "class=\"mark line\" d=\"";
  const size_t d = figure.find(open);
  ASSERT_NE(d, std::string::npos);
  const size_t from = d + open.size();
  const std::string path = figure.substr(from, figure.find('"', from) - from);
  EXPECT_EQ(CountOf(path, "L"), 499u);
  // (0,0) is the bottom-left corner, (1,1) the top-right (no legend row
  // beyond the first: the plot's top is 30 + 16).
  EXPECT_THAT(path, StartsWith("M64.0,308.0L"));
  EXPECT_THAT(path, testing::EndsWith("L620.0,46.0"));
  EXPECT_THAT(figure, HasSubstr("Series &#39;big&#39; is drawn with 500 of its "
                                "100,001 points (max_series_points; first and "
                                "last points kept)."));
}

TEST(LineChartTest, EmptyChartSaysNoData) {
  LineChart c;
  c.id = "empty";
  c.title = "Nothing";
  c.series.push_back(Line("a", {}));
  c.series.push_back(Line("b", {{kNaN, kNaN}}));
  const std::string svg = ChartSvg(Render(WithBlock(c)), "empty");
  EXPECT_THAT(svg, HasSubstr(">No data</text>"));
  EXPECT_EQ(CountOf(svg, "class=\"mark"), 0u);
  LineChart none;
  none.id = "none";
  EXPECT_THAT(ChartSvg(Render(WithBlock(none)), "none"),
              HasSubstr(">No data</text>"));
}

TEST(LineChartTest, SeriesBeyondTheCapAreLeftOutAndNoted) {
  LineChart c;
  c.id = "many";
  for (int i = 0; i < 30; ++i) {
    c.series.push_back(Line("s", {{0, 0}, {1, double(i)}}));
  }
  const std::string figure = ChartFigure(Render(WithBlock(c)), "many");
  EXPECT_EQ(CountOf(figure, "class=\"mark line\""), 12u);
  EXPECT_THAT(figure, HasSubstr("Only the first 12 of 30 series are drawn "
                                "(max_series)."));
}

BarChart ChurnByTier() {
  BarChart c;
  c.id = "tiers";
  c.title = "Churn rate by tier";
  c.category_title = "Tier";
  c.categories = {"green", "yellow", "red"};
  c.y.title = "Churn rate";
  c.y.percent = true;
  c.series.push_back(Bars("churn-v3", {0.055, 0.135, 0.45}, {0.045, 0.12, 0.42},
                          {0.066, 0.15, 0.48},
                          {"#2e7d32", "#f9a825", "#c62828"}));
  return c;
}

TEST(BarChartTest, BarsInTierColoursWithErrorBars) {
  const std::string svg = ChartSvg(Render(WithBlock(ChurnByTier())), "tiers");
  EXPECT_EQ(CountOf(svg, "class=\"mark bar\""), 3u);
  EXPECT_EQ(CountOf(svg, "class=\"mark errorbar\""), 3u);
  EXPECT_THAT(svg, HasSubstr("fill=\"#2e7d32\""));
  EXPECT_THAT(svg, HasSubstr("fill=\"#f9a825\""));
  EXPECT_THAT(svg, HasSubstr("fill=\"#c62828\""));
  // Value labels and the tooltip with the interval; percent ticks.
  EXPECT_THAT(svg, HasSubstr(">45%</text>"));
  EXPECT_THAT(svg, HasSubstr("<title>red: 45% (42%–48%)</title>"));
  EXPECT_THAT(svg, HasSubstr(">50%</text>"));
  EXPECT_THAT(svg, HasSubstr(">Tier</text>"));
  // One series: no legend.
  EXPECT_EQ(CountOf(svg, "legend-item"), 0u);
}

TEST(BarChartTest, GroupedBarsForTwoModels) {
  BarChart c = ChurnByTier();
  c.series.push_back(Bars("churn-v4", {0.04, kNaN, 0.5}, {}, {}, {}, "teal"));
  const std::string figure = ChartFigure(Render(WithBlock(c)), "tiers");
  EXPECT_EQ(CountOf(figure, "class=\"mark bar\""), 5u);
  EXPECT_EQ(CountOf(figure, "class=\"mark errorbar\""), 3u);
  EXPECT_EQ(CountOf(figure, "legend-item"), 2u);
  // Bars wear tier colours, so the legend tells the models apart by fill
  // in a neutral grey.
  EXPECT_EQ(CountOf(figure,
                    "class=\"legend-swatch\" x=\"64.0\" y=\"9.0\" "
                    "width=\"16\" height=\"10\" fill=\"#7b8794\"/>"),
            1u);
  EXPECT_THAT(figure, HasSubstr("fill=\"teal\" fill-opacity=\"0.55\""));
  EXPECT_THAT(figure, HasSubstr("1 bar(s) of series &#39;churn-v4&#39; have "
                                "no finite value and are not drawn."));
}

TEST(BarChartTest, NegativeValuesHangBelowZeroAndBadColoursAreReplaced) {
  BarChart c;
  c.id = "nrr";
  c.categories = {"a", "b"};
  c.series.push_back(Bars("delta", {-0.2, 0.3}, {}, {}, {"\"><script>", ""}));
  const std::string figure = ChartFigure(Render(WithBlock(c)), "nrr");
  EXPECT_EQ(CountOf(figure, "class=\"mark bar\""), 2u);
  EXPECT_THAT(figure, HasSubstr(">-0.2</text>"));
  EXPECT_THAT(figure, Not(HasSubstr("<script>")));
  EXPECT_THAT(figure, HasSubstr("The colour &#39;&quot;&gt;&lt;script&gt;"
                                "&#39; of category &#39;a&#39; is not a CSS "
                                "colour"));
}

TEST(BarChartTest, ValueLabelsKeepTheIntegerPart) {
  // Three significant digits, but never an exponent for a whole number:
  // -999.99 rounds to "-1000" (4 digits), 12345.6 keeps its integer part
  // and one decimal (6 digits), 0.01234 has three.
  BarChart c;
  c.id = "arr";
  c.categories = {"a", "b", "c"};
  c.series.push_back(Bars("delta", {-999.99, 12345.6, 0.01234}));
  const std::string svg = ChartSvg(Render(WithBlock(c)), "arr");
  EXPECT_THAT(svg, HasSubstr(">-1000</text>"));
  EXPECT_THAT(svg, HasSubstr(">12345.6</text>"));
  EXPECT_THAT(svg, HasSubstr(">0.0123</text>"));
  EXPECT_THAT(svg, Not(HasSubstr("e+")));
}

TEST(BarChartTest, EmptyAndCappedCharts) {
  BarChart empty;
  empty.id = "empty-bars";
  empty.categories = {"a"};
  empty.series.push_back(Bars("s", {kNaN}));
  std::string svg = ChartSvg(Render(WithBlock(empty)), "empty-bars");
  EXPECT_THAT(svg, HasSubstr(">No data</text>"));
  EXPECT_EQ(CountOf(svg, "class=\"mark"), 0u);

  BarChart many;
  many.id = "many-bars";
  BarSeries s = Bars("s", {});
  for (int i = 0; i < 100; ++i) {
    many.categories.push_back("c");
    s.values.push_back(i);
  }
  many.series.push_back(s);
  const std::string figure = ChartFigure(Render(WithBlock(many)), "many-bars");
  EXPECT_EQ(CountOf(figure, "class=\"mark bar\""), 60u);
  EXPECT_EQ(CountOf(figure, "value-label"), 0u);  // too many to label
  EXPECT_THAT(figure, HasSubstr("Only the first 60 of 100 categories are "
                                "drawn (max_bar_categories)."));
}

TEST(BarChartTest, LongCategoriesAreSlantedAndCutInTheMiddle) {
  BarChart c;
  c.id = "segments";
  BarSeries s = Bars("NRR", {});
  for (int i = 0; i < 20; ++i) {
    c.categories.push_back("Segment with a long name " + std::to_string(i));
    s.values.push_back(1);
  }
  c.categories.push_back("<Région>");
  s.values.push_back(1);
  c.series.push_back(s);
  const std::string svg = ChartSvg(Render(WithBlock(c)), "segments");
  EXPECT_EQ(CountOf(svg, "transform=\"rotate(-40 "), 21u);
  // 16 characters: the first 7, "…" and the last 8 (" name 12"), so the
  // numbers survive.
  EXPECT_THAT(svg, HasSubstr(">Segment… name 12<title>Segment with a long "
                             "name 12</title></text>"));
  EXPECT_THAT(svg, HasSubstr(">&lt;Région&gt;<title>"));
  // Short labels that fit stay level.
  const std::string level = ChartSvg(Render(WithBlock(ChurnByTier())), "tiers");
  EXPECT_EQ(CountOf(level, "rotate(-40"), 0u);
  EXPECT_THAT(level, HasSubstr("text-anchor=\"middle\">yellow<title>"));
}

TEST(HistogramTest, BinsValuesAndCountsWhatItLeavesOut) {
  HistogramChart h;
  h.id = "scores";
  h.title = "Score by outcome";
  h.x = {"Score", 0, 100};
  h.bins = 10;
  // Bins of width 10: 5 -> bin 0, 15 and 19 -> bin 1, 95 and 100 -> bin 9
  // (the last bin holds its upper bound): 3 bins drawn.
  h.series.push_back(Hist("retained", {5, 15, 19, 95, 100}, "#2e7d32"));
  // 50 -> bin 5; NaN not finite; 150 outside the axis: 1 bin drawn.
  h.series.push_back(Hist("churned", {50, kNaN, 150}, "#c62828"));
  const std::string figure = ChartFigure(Render(WithBlock(h)), "scores");
  EXPECT_EQ(CountOf(figure, "class=\"mark bin\""), 4u);
  EXPECT_THAT(figure, HasSubstr(">retained (n = 5)</text>"));
  EXPECT_THAT(figure, HasSubstr(">churned (n = 1)</text>"));
  // Shares: bin 1 of retained holds 2 of 5 = 40%; churned's bin is 100%.
  EXPECT_THAT(figure, HasSubstr("retained: 10–20: 2 (40%)"));
  EXPECT_THAT(figure, HasSubstr("churned: 50–60: 1 (100%)"));
  EXPECT_THAT(figure, HasSubstr("1 value(s) of series &#39;churned&#39; are "
                                "not finite and are not counted."));
  EXPECT_THAT(figure, HasSubstr("1 value(s) of series &#39;churned&#39; lie "
                                "outside the axis and are not counted."));
  EXPECT_THAT(figure, HasSubstr(">Share of accounts</text>"));
}

TEST(HistogramTest, EmptyAndTooManyBins) {
  HistogramChart h;
  h.id = "empty-hist";
  h.series.push_back(Hist("a", {kNaN}));
  h.series.push_back(Hist("b", {}));
  const std::string svg = ChartSvg(Render(WithBlock(h)), "empty-hist");
  EXPECT_THAT(svg, HasSubstr(">No data</text>"));
  EXPECT_EQ(CountOf(svg, "class=\"mark"), 0u);

  HistogramChart wide;
  wide.id = "wide";
  wide.bins = 100000;
  wide.share = false;
  wide.series.push_back(Hist("x", {}));
  for (int i = 0; i < 1000; ++i) wide.series[0].values.push_back(i);
  const std::string figure = ChartFigure(Render(WithBlock(wide)), "wide");
  EXPECT_EQ(CountOf(figure, "class=\"mark bin\""), 200u);
  EXPECT_THAT(figure, HasSubstr("Drawn with 200 bins instead of the 100000 "
                                "asked for (1..max_histogram_bins)."));
  EXPECT_THAT(figure, HasSubstr(">Accounts</text>"));
}

TEST(RenderHtmlTest, ChartIdsAndClipPathsAreUniquePerChart) {
  Document doc;
  doc.sections.push_back(Section{"a", {Roc(), Roc(), ChurnByTier()}});
  const std::string html = Render(doc);
  EXPECT_EQ(CountOf(html, "<svg class=\"chart\""), 3u);
  EXPECT_EQ(CountOf(html, "id=\"hs-clip-1\""), 1u);
  EXPECT_EQ(CountOf(html, "id=\"hs-clip-2\""), 1u);
  EXPECT_EQ(CountOf(html, "id=\"hs-clip-3\""), 1u);
  EXPECT_EQ(CountOf(html, "id=\"hs-chart-3-title\""), 1u);
}

TEST(RenderOptionsTest, OutOfRangeOptionsAreRefused) {
  RenderOptions o;
  o.max_table_rows = 0;
  EXPECT_THAT(RenderHtml(Document(), o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("report option max_table_rows is 0; it must "
                                 "be between 1 and 1,000,000")));
  o = RenderOptions();
  o.max_series_points = 2;
  EXPECT_THAT(ValidateRenderOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("max_series_points is 2")));
  o = RenderOptions();
  o.max_histogram_bins = 0;
  EXPECT_THAT(ValidateRenderOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("max_histogram_bins is 0")));
  EXPECT_THAT(ValidateRenderOptions(RenderOptions()),
              ::healthscore::engine::common::testing::IsOk());
}

}  // namespace
}  // namespace healthscore::engine::report
