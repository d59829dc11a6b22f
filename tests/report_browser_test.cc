// The report in a real browser: Debian's chromium, headless.
//
// A sample document with every kind of chart (an empty one of each too)
// and hostile text is rendered by engine/report. A copy of the file gets a
// checker <script> (the report itself has none, and its Content-Security-
// Policy forbids scripts: the copy allows inline ones and nothing else);
// chromium loads the copy, the checker counts per chart the `.mark`
// elements that have a non-empty bounding box (so were laid out and drawn)
// and writes the counts as JSON into <pre id="check">, and the test reads
// them back from the dumped DOM. Then chromium takes a screenshot of the
// report itself and prints it to PDF, kept as test artefacts:
//   <build>/test-artifacts/report.png, report.pdf (and report.html).
// A real backtest (two models on generated accounts) is checked the same
// way: backtest.html and backtest.png.
// Chromium is bounded twice: its own --timeout, and a kill of its whole
// process group after kBrowserDeadline, so the test cannot hang.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "engine/backtest/backtest.h"
#include "engine/backtest/scored_snapshots.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/io/byte_source.h"
#include "engine/io/snapshot_reader.h"
#include "engine/eval/batch.h"
#include "engine/model/compiler.h"
#include "engine/outcomes/join.h"
#include "engine/outcomes/outcomes.h"
#include "engine/outcomes/record_table.h"
#include "engine/portfolio/portfolio.h"
#include "engine/portfolio/portfolio_format.h"
#include "engine/report/document.h"
#include "engine/report/html_report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::report {
namespace {

namespace fs = std::filesystem;
using common::testing::ReadFile;
using common::testing::ScratchDir;
using ::testing::HasSubstr;

// Generous: chromium takes about a second here; a loaded CI machine may be
// slower, a hung browser never finishes.
constexpr std::chrono::seconds kBrowserDeadline(180);
constexpr char kBrowserTimeoutFlag[] = "--timeout=60000";

constexpr char kHostile[] = "</script><b>bold</b>";

// A model for the backtest report: three tiers in their colours, a
// playbook, segments.
constexpr char kBacktestModel[] = R"yaml(name: browser
version: "1"
inputs:
  - {id: usage, type: number, range: [0, 1]}
  - {id: support, type: number, range: [0, 1]}
  - {id: segment, type: string}
groups:
  - id: usage
    weight: 3
    signals:
      - {id: u, source: usage, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
  - id: support
    weight: 2
    signals:
      - {id: s, source: support, weight: 1,
         normalize: {linear: {bad: 0, good: 1}}}
tiers:
  - {id: green, min: 65, color: "#2e7d32"}
  - {id: yellow, min: 40, color: "#f9a825"}
  - {id: red, min: 0, color: "#c62828"}
playbooks:
  - {id: rescue, name: Rescue, owner: CSM, priority: 1, when: "usage < 0.2"}
)yaml";

// The checker appended to the test's copy of the report.
constexpr char kChecker[] = R"js(<pre id="check"></pre>
<script>
(function () {
  const charts = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    let marks = 0;
    for (const m of svg.querySelectorAll('.mark')) {
      const b = m.getBBox();
      if (b.width > 0 || b.height > 0) marks++;
    }
    charts.push({chart: svg.getAttribute('data-chart'), marks: marks,
                 nodata: svg.querySelector('.no-data') !== null});
  }
  const result = {
    charts: charts,
    bold: document.getElementsByTagName('b').length,
    scripts: document.getElementsByTagName('script').length,
    resources: performance.getEntriesByType('resource').length,
    // "<\/" keeps the parser from ending this script at the string.
    hostile: document.body.textContent.indexOf('<\/script><b>bold<\/b>') >= 0
  };
  document.getElementById('check').textContent = JSON.stringify(result);
})();
</script>
)js";

std::string ChromiumPath() {
  if (const char* env = std::getenv("HEALTHSCORE_CHROMIUM")) return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

struct RunResult {
  bool finished = false;
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv in its own process group with stdout and stderr in files;
// kills the whole group (chromium's helpers too) after kBrowserDeadline.
RunResult RunBounded(const std::vector<std::string>& argv, const fs::path& dir,
                     const std::string& name) {
  const fs::path out = dir / (name + ".out");
  const fs::path err = dir / (name + ".err");
  RunResult r;
  const pid_t pid = fork();
  if (pid < 0) return r;
  if (pid == 0) {
    setpgid(0, 0);
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) _exit(126);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + kBrowserDeadline;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      r.finished = true;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Helpers chromium left behind in the group go too.
  kill(-pid, SIGKILL);
  if (r.finished && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

std::vector<std::string> BrowserArgs(const std::string& chromium,
                                     const fs::path& profile) {
  return {chromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--no-first-run",
          "--disable-extensions",
          "--hide-scrollbars",
          "--force-device-scale-factor=1",
          "--user-data-dir=" + profile.string(),
          kBrowserTimeoutFlag};
}

Series Line(std::string name, std::string color) {
  Series s;
  s.name = std::move(name);
  s.color = std::move(color);
  return s;
}

BarSeries Bars(std::string name, std::vector<double> values,
               std::vector<double> low, std::vector<double> high,
               std::vector<std::string> colors, std::string color) {
  BarSeries s;
  s.name = std::move(name);
  s.values = std::move(values);
  s.low = std::move(low);
  s.high = std::move(high);
  s.colors = std::move(colors);
  s.color = std::move(color);
  return s;
}

const std::vector<std::string> kTierColors = {"#2e7d32", "#f9a825", "#c62828"};

// A backtest-like report with every chart kind, and the marks each chart
// must draw.
Document SampleReport(std::map<std::string, int>* expected) {
  Document doc;
  doc.title = std::string("Backtest: churn-v3 ") + kHostile;
  doc.subtitle =
      "Does the score predict churn? 7,043 accounts, 180-day horizon";
  doc.meta = {{"Model", "churn-v3 (candidate churn-v4)"},
              {"Data", "snapshots-2025-06-30.csv, outcomes.csv"},
              {"Date", "2026-12-03"}};
  doc.footer = "Rendered by engine/report for tests/report_browser_test.";

  Section summary;
  summary.heading = "Summary";
  summary.blocks.push_back(Paragraph{
      "Generated data: the score was made to predict churn, so the curves "
      "sit well above chance.\nA second line of text."});
  KeyFigures figures;
  figures.figures.push_back({"ROC AUC", Value::Number(0.78712, 3),
                             Interval{0.7741, 0.8012}, "DeLong", "#0072b2"});
  figures.figures.push_back(
      {"Churned", Value::Percent(0.2654), std::nullopt, "of 7,043", ""});
  figures.figures.push_back(
      {"KS", Value::Number(0.4213, 3), std::nullopt, "", ""});
  figures.figures.push_back(
      {"Brier", Value::Number(0.1502, 3), std::nullopt, "isotonic", ""});
  summary.blocks.push_back(figures);
  doc.sections.push_back(summary);

  Section discrimination;
  discrimination.heading = "Discrimination";
  // ROC: y = x^(1/3) and x^(1/2); the first with 5,001 points so that it
  // is decimated to 2,000 and still drawn as one line. 2 marks.
  LineChart roc;
  roc.id = "roc";
  roc.title = "ROC curve";
  roc.x = {"False positive rate", 0, 1, false};
  roc.y = {"True positive rate", 0, 1, false};
  Series v3 = Line("churn-v3", "");
  Series v4 = Line("churn-v4", "");
  for (int i = 0; i <= 5000; ++i) {
    const double x = i / 5000.0;
    v3.points.push_back({x, std::cbrt(x)});
  }
  for (int i = 0; i <= 100; ++i) {
    const double x = i / 100.0;
    v4.points.push_back({x, std::sqrt(x)});
  }
  roc.series = {v3, v4};
  roc.references.push_back({"Chance", {0, 0}, {1, 1}});
  discrimination.blocks.push_back(roc);
  (*expected)["roc"] = 2;

  // Cumulative gains by decile, two models and the random baseline: 2.
  LineChart gains;
  gains.id = "gains";
  gains.title = "Cumulative gains";
  gains.x = {"Share of accounts, riskiest first", 0, 1, true};
  gains.y = {"Share of churned accounts reached", 0, 1, true};
  Series g3 = Line("churn-v3", "");
  Series g4 = Line("churn-v4", "");
  for (int d = 0; d <= 10; ++d) {
    g3.points.push_back({d / 10.0, std::pow(d / 10.0, 0.45)});
    g4.points.push_back({d / 10.0, std::pow(d / 10.0, 0.55)});
  }
  g4.dashed = true;
  gains.series = {g3, g4};
  gains.references.push_back({"Random", {0, 0}, {1, 1}});
  discrimination.blocks.push_back(gains);
  (*expected)["gains"] = 2;
  doc.sections.push_back(discrimination);

  Section tiers;
  tiers.heading = "Churn by tier";
  // Three bars in tier colours with Wilson intervals: 3 bars + 3 error
  // bars = 6.
  BarChart by_tier;
  by_tier.id = "tiers";
  by_tier.title = "Churn rate by tier (95% Wilson intervals)";
  by_tier.category_title = "Tier";
  by_tier.categories = {"green", "yellow", "red"};
  by_tier.y = {"Churn rate", NAN, NAN, true};
  by_tier.series.push_back(Bars("churn-v3", {0.055, 0.135, 0.45},
                                {0.046, 0.118, 0.425}, {0.066, 0.154, 0.476},
                                kTierColors, ""));
  tiers.blocks.push_back(by_tier);
  (*expected)["tiers"] = 6;
  // Two models side by side: 6 bars + 6 error bars = 12.
  BarChart compare = by_tier;
  compare.id = "tiers-compare";
  compare.title = "Churn rate by tier: churn-v3 and churn-v4";
  compare.series.push_back(Bars("churn-v4", {0.04, 0.15, 0.52},
                                {0.032, 0.13, 0.49}, {0.05, 0.17, 0.55},
                                kTierColors, ""));
  tiers.blocks.push_back(compare);
  (*expected)["tiers-compare"] = 12;
  Table table;
  table.caption = "Churn by tier";
  table.header = {"Tier", "Accounts", "Churned", "Churn rate", "95% CI"};
  const char* names[] = {"green", "yellow", "red"};
  const int accounts[] = {3120, 2411, 1512};
  const int churned[] = {172, 325, 680};
  for (int i = 0; i < 3; ++i) {
    table.rows.push_back({Cell(Value::Text(names[i]), kTierColors[i]),
                          Value::Count(accounts[i]), Value::Count(churned[i]),
                          Value::Percent(double(churned[i]) / accounts[i]),
                          Value::Text("±1.1 pt")});
  }
  table.rows.push_back({Cell(Value::Text(kHostile)), Value::Count(0),
                        Value::Count(0), Value::Number(NAN), Value::Text("")});
  table.note = "insufficient_data accounts are reported apart.";
  tiers.blocks.push_back(table);
  doc.sections.push_back(tiers);

  Section calibration;
  calibration.heading = "Calibration and distribution";
  // Calibration: 10 bands per model with dots: 2 lines + 20 dots = 22.
  LineChart calib;
  calib.id = "calibration";
  calib.title = "Calibration: predicted versus observed churn";
  calib.x = {"Predicted churn probability", 0, 1, true};
  calib.y = {"Observed churn rate", 0, 1, true};
  Series c3 = Line("churn-v3", "");
  Series c4 = Line("churn-v4", "");
  for (int b = 0; b < 10; ++b) {
    const double p = 0.05 + b / 10.0;
    c3.points.push_back({p, std::min(1.0, p * 0.9 + 0.03)});
    c4.points.push_back({p, std::min(1.0, p * 1.1 - 0.02)});
  }
  c3.markers = c4.markers = true;
  calib.series = {c3, c4};
  calib.references.push_back({"Perfect calibration", {0, 0}, {1, 1}});
  calibration.blocks.push_back(calib);
  (*expected)["calibration"] = 22;
  // Scores of churned (10..59: bins 2..11 of width 5) and retained
  // (40..99: bins 8..19) accounts: 10 + 12 = 22 bins.
  HistogramChart scores;
  scores.id = "scores";
  scores.title = "Score distribution: churned versus retained";
  scores.x = {"Health score", 0, 100, false};
  scores.bins = 20;
  HistogramSeries churned_scores{"churned", {}, "#c62828"};
  HistogramSeries retained_scores{"retained", {}, "#2e7d32"};
  for (int i = 0; i < 400; ++i) {
    churned_scores.values.push_back(10 + (i * 7) % 50);
    retained_scores.values.push_back(40 + (i * 11) % 60);
  }
  scores.series = {churned_scores, retained_scores};
  calibration.blocks.push_back(scores);
  (*expected)["scores"] = 22;
  doc.sections.push_back(calibration);

  Section portfolio;
  portfolio.heading = "Portfolio";
  // Cohort retention, three monthly cohorts as steps: 3.
  LineChart retention;
  retention.id = "retention";
  retention.title = "Logo retention by start cohort";
  retention.x = {"Months since start", NAN, NAN, false};
  retention.y = {"Active accounts", 0, 1, true};
  const char* cohorts[] = {"2025-01", "2025-02", "2025-03"};
  for (int c = 0; c < 3; ++c) {
    Series s = Line(cohorts[c], "");
    s.step = true;
    for (int m = 0; m <= 12 - c; ++m) {
      s.points.push_back({double(m), std::pow(0.97 - 0.01 * c, m)});
    }
    retention.series.push_back(s);
  }
  portfolio.blocks.push_back(retention);
  (*expected)["retention"] = 3;
  // NRR by segment, one of them named with markup: 4 bars.
  BarChart nrr;
  nrr.id = "nrr";
  nrr.title = std::string("NRR by segment ") + kHostile;
  nrr.category_title = "Segment";
  nrr.categories = {"SMB", "Mid-market", "Enterprise", kHostile};
  nrr.y = {"Net revenue retention", NAN, NAN, true};
  nrr.series.push_back(
      Bars("NRR", {0.92, 1.04, 1.12, 0.75}, {}, {}, {}, "#0072b2"));
  portfolio.blocks.push_back(nrr);
  (*expected)["nrr"] = 4;
  doc.sections.push_back(portfolio);

  Section empty;
  empty.heading = "Empty charts";
  LineChart empty_line;
  empty_line.id = "empty-line";
  empty_line.title = "A line chart without data";
  empty_line.series.push_back(Line("nothing", ""));
  empty.blocks.push_back(empty_line);
  (*expected)["empty-line"] = 0;
  BarChart empty_bars;
  empty_bars.id = "empty-bars";
  empty_bars.title = "A bar chart without data";
  empty.blocks.push_back(empty_bars);
  (*expected)["empty-bars"] = 0;
  HistogramChart empty_hist;
  empty_hist.id = "empty-hist";
  empty_hist.title = "A histogram without data";
  empty_hist.series.push_back(HistogramSeries{"nothing", {NAN}, ""});
  empty.blocks.push_back(empty_hist);
  (*expected)["empty-hist"] = 0;
  doc.sections.push_back(empty);
  return doc;
}

std::string Between(const std::string& text, const std::string& open,
                    const std::string& close) {
  const size_t a = text.find(open);
  if (a == std::string::npos) return "";
  const size_t b = text.find(close, a + open.size());
  if (b == std::string::npos) return "";
  return text.substr(a + open.size(), b - a - open.size());
}

// What the checker found in chromium: marks drawn per chart, which charts
// said "No data", the checker's JSON and the dumped DOM.
struct BrowserCheck {
  std::map<std::string, int> drawn;
  std::map<std::string, bool> nodata;
  std::string json;
  std::string dom;
};

// Loads a checked copy of `html` in chromium (see the file comment) and
// reads back what the checker found. Fails the test (and returns early)
// when the browser does not run or the checker writes nothing.
void CheckInBrowser(const std::string& chromium, const std::string& html,
                    const fs::path& scratch, BrowserCheck* out) {
  // The checked copy: the one CSP change allows inline scripts (still no
  // fetches), and the checker goes before </body>.
  std::string checked = html;
  const std::string no_scripts = "script-src 'none'";
  const size_t csp = checked.find(no_scripts);
  ASSERT_NE(csp, std::string::npos);
  checked.replace(csp, no_scripts.size(), "script-src 'unsafe-inline'");
  const size_t body_end = checked.rfind("</body>");
  ASSERT_NE(body_end, std::string::npos);
  checked.insert(body_end, kChecker);
  const fs::path checked_path = scratch / "report-checked.html";
  {
    std::ofstream f(checked_path, std::ios::binary);
    f << checked;
  }

  std::vector<std::string> dump = BrowserArgs(chromium, scratch / "profile");
  dump.push_back("--dump-dom");
  dump.push_back("file://" + checked_path.string());
  const RunResult dumped = RunBounded(dump, scratch, "dump");
  ASSERT_TRUE(dumped.finished)
      << "chromium --dump-dom did not finish within "
      << kBrowserDeadline.count() << " s and was killed; stderr:\n"
      << dumped.err;
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;

  // textContent is serialised with &, < and > escaped; quotes are not.
  std::string json = Between(dumped.out, "<pre id=\"check\">", "</pre>");
  ASSERT_FALSE(json.empty()) << "the checker wrote nothing; DOM:\n"
                             << dumped.out.substr(0, 2000) << "\nstderr:\n"
                             << dumped.err;
  json = std::regex_replace(json, std::regex("&lt;"), "<");
  json = std::regex_replace(json, std::regex("&gt;"), ">");
  json = std::regex_replace(json, std::regex("&amp;"), "&");

  const std::regex entry(
      R"re(\{"chart":"([^"]*)","marks":(\d+),"nodata":(true|false)\})re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), entry);
       it != std::sregex_iterator(); ++it) {
    out->drawn[(*it)[1]] = std::stoi((*it)[2]);
    out->nodata[(*it)[1]] = (*it)[3] == "true";
  }
  out->json = json;
  out->dom = dumped.out;
}

// Takes a screenshot of `report` into `png` (1200 x 3000) and checks it is
// a PNG of that size with content.
void Screenshot(const std::string& chromium, const fs::path& report,
                const fs::path& png, const fs::path& scratch) {
  fs::remove(png);
  std::vector<std::string> shot = BrowserArgs(chromium, scratch / "profile");
  shot.push_back("--screenshot=" + png.string());
  shot.push_back("--window-size=1200,3000");
  shot.push_back("file://" + report.string());
  const RunResult shot_run = RunBounded(shot, scratch, "screenshot");
  ASSERT_TRUE(shot_run.finished)
      << "chromium --screenshot did not finish within "
      << kBrowserDeadline.count() << " s and was killed; stderr:\n"
      << shot_run.err;
  ASSERT_EQ(shot_run.exit_code, 0) << shot_run.err;
  const std::string image = ReadFile(png);
  // A PNG of 1200 x 3000 (IHDR: width and height big-endian at 16 and 20)
  // with content: a blank page of that size compresses to a few KB.
  ASSERT_GE(image.size(), 24u) << "no screenshot at " << png;
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(image[at])) << 24) |
           (uint32_t(uint8_t(image[at + 1])) << 16) |
           (uint32_t(uint8_t(image[at + 2])) << 8) |
           uint32_t(uint8_t(image[at + 3]));
  };
  EXPECT_EQ(be32(16), 1200u);
  EXPECT_EQ(be32(20), 3000u);
  EXPECT_GT(image.size(), 50000u) << "the screenshot looks blank: " << png;
}

TEST(ReportBrowserTest, EveryChartDrawsItsMarksAndTheScreenshotIsKept) {
  const std::string chromium = ChromiumPath();
  ASSERT_FALSE(chromium.empty())
      << "chromium is not installed (looked for /usr/bin/chromium and "
         "$HEALTHSCORE_CHROMIUM); run scripts/install-deps.sh, which installs "
         "Debian's chromium package for this test";

  std::map<std::string, int> expected;
  const Document doc = SampleReport(&expected);
  absl::StatusOr<std::string> html = RenderHtml(doc);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_EQ(html->find("<script"), std::string::npos);

  const fs::path artifacts =
      fs::path(HEALTHSCORE_BINARY_DIR) / "test-artifacts";
  fs::create_directories(artifacts);
  const fs::path report = artifacts / "report.html";
  const fs::path png = artifacts / "report.png";
  {
    std::ofstream f(report, std::ios::binary);
    f << *html;
  }

  const fs::path scratch = ScratchDir("report_browser");
  BrowserCheck check;
  CheckInBrowser(chromium, *html, scratch, &check);
  if (HasFatalFailure()) return;
  std::map<std::string, bool> nodata = check.nodata;
  const std::string& json = check.json;
  EXPECT_EQ(check.drawn, expected) << json;
  for (const auto& [chart, marks] : expected) {
    EXPECT_EQ(nodata[chart], marks == 0) << chart;
  }
  // The hostile text is text: no <b> element, one script (the checker),
  // nothing fetched, and the words are in the page.
  EXPECT_THAT(json, HasSubstr("\"bold\":0"));
  EXPECT_THAT(json, HasSubstr("\"scripts\":1"));
  EXPECT_THAT(json, HasSubstr("\"resources\":0"));
  EXPECT_THAT(json, HasSubstr("\"hostile\":true"));
  EXPECT_THAT(check.dom, HasSubstr("&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"));

  // The screenshot, of the report itself (no script at all).
  Screenshot(chromium, report, png, scratch);

  // On paper, with the print styles: a PDF of several pages, kept beside
  // the screenshot.
  const fs::path pdf = artifacts / "report.pdf";
  fs::remove(pdf);
  std::vector<std::string> print = BrowserArgs(chromium, scratch / "profile");
  print.push_back("--no-pdf-header-footer");
  print.push_back("--print-to-pdf=" + pdf.string());
  print.push_back("file://" + report.string());
  const RunResult print_run = RunBounded(print, scratch, "print");
  ASSERT_TRUE(print_run.finished)
      << "chromium --print-to-pdf did not finish within "
      << kBrowserDeadline.count() << " s and was killed; stderr:\n"
      << print_run.err;
  ASSERT_EQ(print_run.exit_code, 0) << print_run.err;
  const std::string document = ReadFile(pdf);
  EXPECT_EQ(document.substr(0, 5), "%PDF-") << "no PDF at " << pdf;
  std::smatch pages;
  ASSERT_TRUE(std::regex_search(document, pages, std::regex("/Count (\\d+)")))
      << "no page count in " << pdf;
  EXPECT_GE(std::stoi(pages[1]), 2) << pdf;
}

// A real backtest, live and candidate, as `healthscore backtest --report`
// renders it: every chart has drawn marks, and the screenshot is kept as
// <build>/test-artifacts/backtest.png.
TEST(ReportBrowserTest, ABacktestReportDrawsEveryChart) {
  const std::string chromium = ChromiumPath();
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed; run "
                                    "scripts/install-deps.sh";
  model::CompileResult live = model::CompileString(kBacktestModel, "bt.yaml");
  ASSERT_NE(live.model, nullptr) << live.diagnostics.ToString();
  model::CompileResult candidate = model::CompileString(
      absl::StrReplaceAll(kBacktestModel, {{"weight: 3", "weight: 1"}}),
      "bt2.yaml");
  ASSERT_NE(candidate.model, nullptr) << candidate.diagnostics.ToString();
  // Churn falls with usage and support; segments smb and ent.
  std::string snapshots, outcomes = "id,churned\n";
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 3000; ++i) {
    const double usage = unit(rng), support = unit(rng);
    absl::StrAppend(&snapshots, "{\"id\":\"a", i,
                    "\",\"attributes\":{\"segment\":\"", i % 3 ? "smb" : "ent",
                    "\"},\"metrics\":{\"usage\":", usage,
                    ",\"support\":", support, "}}\n");
    const bool churned = unit(rng) < 0.7 - 0.4 * usage - 0.2 * support;
    absl::StrAppend(&outcomes, "a", i, ",", churned ? "true" : "false", "\n");
  }
  io::JsonLinesReader reader(io::StringSource(snapshots), {});
  absl::StatusOr<backtest::ScoredSnapshots> scored = backtest::ScoreSnapshots(
      reader, live.model, candidate.model, backtest::ScoreOptions());
  ASSERT_TRUE(scored.ok()) << scored.status();
  absl::StatusOr<outcomes::Outcomes> labels =
      outcomes::ReadOutcomes(io::StringSource(outcomes), io::InputFormat::kCsv);
  ASSERT_TRUE(labels.ok()) << labels.status();
  outcomes::SnapshotKeys keys;
  for (size_t r = 0; r < scored->size(); ++r) {
    keys.Add(scored->id(r), std::nullopt);
  }
  absl::StatusOr<outcomes::JoinResult> join =
      outcomes::JoinOutcomes(keys, *labels);
  ASSERT_TRUE(join.ok()) << join.status();
  absl::StatusOr<backtest::BacktestReport> result =
      backtest::RunBacktest(*scored, *join);
  ASSERT_TRUE(result.ok()) << result.status();
  absl::StatusOr<std::string> html = RenderHtml(
      backtest::BacktestDocument(*result, {{"Snapshots", "generated"}}));
  ASSERT_TRUE(html.ok()) << html.status();

  const fs::path artifacts =
      fs::path(HEALTHSCORE_BINARY_DIR) / "test-artifacts";
  fs::create_directories(artifacts);
  const fs::path report = artifacts / "backtest.html";
  {
    std::ofstream f(report, std::ios::binary);
    f << *html;
  }
  const fs::path scratch = ScratchDir("report_browser_backtest");
  BrowserCheck check;
  CheckInBrowser(chromium, *html, scratch, &check);
  if (HasFatalFailure()) return;
  // Every chart of the backtest document, each with its marks: two ROC
  // curves, two histograms of 20 bins (some empty), grouped tier bars with
  // error bars, two calibration and two gains lines with their dots.
  for (const char* chart :
       {"roc", "score_distribution", "tier_churn", "calibration", "gains"}) {
    ASSERT_EQ(check.drawn.count(chart), 1u) << chart << ": " << check.json;
    EXPECT_FALSE(check.nodata[chart]) << chart;
  }
  EXPECT_GE(check.drawn["roc"], 2);
  EXPECT_GE(check.drawn["tier_churn"], 2 * 3);  // 3 tiers, 2 models
  EXPECT_GE(check.drawn["gains"], 2 * 11);      // 2 lines of 11 dots
  EXPECT_GE(check.drawn["score_distribution"], 10);
  EXPECT_GE(check.drawn["calibration"], 4);
  EXPECT_THAT(check.json, HasSubstr("\"resources\":0"));
  Screenshot(chromium, report, artifacts / "backtest.png", scratch);
}

// A portfolio report (NRR and GRR by tier and segment, cohort curves, time
// to value) as `healthscore portfolio --report` renders it: every chart
// draws its marks; the screenshot is kept as
// <build>/test-artifacts/portfolio.png.
TEST(ReportBrowserTest, APortfolioReportDrawsEveryChart) {
  const std::string chromium = ChromiumPath();
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed; run "
                                    "scripts/install-deps.sh";
  // 1,200 accounts over three years of contract starts, in three tiers
  // whose churn and expansion follow health, in two segments.
  std::string csv =
      "id,segment,contract_start,start_arr,end_arr,churn_date,"
      "first_value_date\n";
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0, 1);
  portfolio::TierColumn tiers;
  tiers.source = "generated";
  tiers.names = {"green", "yellow", "red"};
  tiers.colors = {"#2e7d32", "#f9a825", "#c62828"};
  for (int i = 0; i < 1200; ++i) {
    const int tier = i % 3;
    const int start_day = static_cast<int>(unit(rng) * 1000);  // 2022-2024
    const double arr = std::round(1000 + 9000 * unit(rng)) + 0.25;
    const bool churned = unit(rng) < 0.05 + 0.15 * tier;
    const double end = churned ? 0 : arr * (1.15 - 0.1 * tier);
    std::string churn_date;
    if (churned) {
      churn_date = absl::StrCat("2025-", 1 + static_cast<int>(unit(rng) * 11),
                                "-15");
      if (churn_date.size() == 9) churn_date.insert(5, "0");
    }
    const double contract = 19000 + start_day;  // days since 1970
    absl::StrAppend(&csv, "a", i, ",", i % 2 ? "smb" : "ent", ",",
                    eval::FormatIsoDate(contract), ",",
                    absl::StrFormat("%.2f", arr), ",",
                    absl::StrFormat("%.2f", end), ",", churn_date, ",",
                    unit(rng) < 0.9
                        ? eval::FormatIsoDate(contract +
                                              std::floor(60 * unit(rng)))
                        : "",
                    "\n");
    tiers.row_tier.push_back(tier);
  }
  absl::StatusOr<outcomes::RecordTable> revenue = outcomes::ReadRecords(
      io::StringSource(csv), io::InputFormat::kCsv, portfolio::RevenueSchema());
  ASSERT_TRUE(revenue.ok()) << revenue.status();
  ASSERT_EQ(revenue->size(), 1200u);
  portfolio::PortfolioOptions options;
  absl::StatusOr<portfolio::Period> period =
      portfolio::ParsePeriod("2025-01-01..2025-12-31");
  ASSERT_TRUE(period.ok()) << period.status();
  options.period = *period;
  options.by = {"segment"};
  absl::StatusOr<portfolio::PortfolioReport> result =
      portfolio::RunPortfolio(*revenue, options, &tiers);
  ASSERT_TRUE(result.ok()) << result.status();
  absl::StatusOr<std::string> html = RenderHtml(
      portfolio::PortfolioDocument(*result, {{"Revenue", "generated"}}));
  ASSERT_TRUE(html.ok()) << html.status();

  const fs::path artifacts =
      fs::path(HEALTHSCORE_BINARY_DIR) / "test-artifacts";
  fs::create_directories(artifacts);
  const fs::path report = artifacts / "portfolio.html";
  {
    std::ofstream f(report, std::ios::binary);
    f << *html;
  }
  const fs::path scratch = ScratchDir("report_browser_portfolio");
  BrowserCheck check;
  CheckInBrowser(chromium, *html, scratch, &check);
  if (HasFatalFailure()) return;
  for (const char* chart : {"retention-by-tier", "retention-by-0",
                            "cohort-logos", "cohort-revenue", "ttv"}) {
    ASSERT_EQ(check.drawn.count(chart), 1u) << chart << ": " << check.json;
    EXPECT_FALSE(check.nodata[chart]) << chart;
  }
  // NRR and GRR bars for 3 tiers (and the accounts without a tier: none
  // here, so no bar), for 2 segments; the latest 12 start months as lines;
  // days to first value in bins.
  EXPECT_GE(check.drawn["retention-by-tier"], 2 * 3);
  EXPECT_GE(check.drawn["retention-by-0"], 2 * 2);
  EXPECT_GE(check.drawn["cohort-logos"], 12);
  EXPECT_GE(check.drawn["cohort-revenue"], 12);
  EXPECT_GE(check.drawn["ttv"], 10);
  EXPECT_THAT(check.json, HasSubstr("\"resources\":0"));
  Screenshot(chromium, report, artifacts / "portfolio.png", scratch);
}

}  // namespace
}  // namespace healthscore::engine::report
