// Golden-output tests for every reporter, over hand-built runs: a run with every outcome, a run
// where nothing loaded, and a run with no cell at all. Beside the goldens, the properties that
// matter whatever the layout: self-contained HTML, JUnit counts, escaping.
#include <gmock/gmock.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "harness/causes/classify.h"
#include "harness/store/store.h"
#include "reports/html_reporter.h"
#include "reports/json_reporter.h"
#include "reports/stored_reports.h"
#include "reports/junit_reporter.h"
#include "reports/markdown_reporter.h"
#include "reports/summaries.h"
#include "reports/testing.h"

namespace crossload {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace testutil;

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// ---- goldens ----

TEST(ReporterGolden, Markdown) {
  expect_golden("sample.md", render(MarkdownReporter(), sample_run()));
  expect_golden("empty.md", render(MarkdownReporter(), empty_run()));
}

// results.json is nlohmann's dump, which throws on invalid UTF-8: fed only whole characters here.
TEST(ReporterGolden, Json) {
  expect_golden("sample.json", render(JsonReporter(), sample_run(/*cut_utf8=*/false)));
  expect_golden("empty.json", render(JsonReporter(), empty_run()));
}

// results.json is written cell by cell (a run of a million cells never becomes one document):
// the bytes must still be those of the whole document dumped at once, which the goldens and
// every script reading the file expect.
TEST(JsonReport, StreamedBytesAreTheWholeDocumentsDump) {
  for (const RunData& d : {sample_run(/*cut_utf8=*/false), empty_run()}) {
    std::string text = render(JsonReporter(), d);
    EXPECT_EQ(text, nlohmann::json::parse(text).dump(2) + "\n");
  }
}

// Each cell is written straight from its record (its json is never built): every kind of member
// still reads back as the value it stands for, in dump(2)'s bytes.
TEST(JsonReport, ACellIsWrittenAsTheJsonValueOfItsRecord) {
  RunData d = empty_run();
  CellRecord c = cell("zoo:a\"b", "pickle", "p\n1", "c\t2", Outcome::kLoadError,
                      {{"message", "caf\u00e9 \x01 </x>"}, {"list", {1, 2.5, nullptr}}, {"empty", json::object()}});
  c.warnings = {{"UserWarning", "w \"1\"", std::nullopt}, {"InconsistentVersionWarning", "w2", "1.2.1"}};
  c.measurements = {{"load", 1.0, "s"}, {"odd \"name\"", std::nan(""), ""}, {"load", 0.25, "s"}};
  c.reused_from = 7;
  d.cells = {c, cell("f", "onnx", "p", "q", Outcome::kOkExact, nullptr)};
  std::string text = render(JsonReporter(), d);
  EXPECT_EQ(text, json::parse(text).dump(2) + "\n");
  json cells = json::parse(text)["cells"];
  ASSERT_EQ(cells.size(), 2u);
  json expected = {{"id", c.id}, {"fixture", c.fixture}, {"format", "pickle"}, {"producer", "p\n1"}, {"consumer", "c\t2"},
                   {"outcome", "LOAD_ERROR"}, {"detail", c.detail}, {"cause", cause_id(c)}, {"reused_from_run", 7},
                   {"warnings", {{{"category", "UserWarning"}, {"message", "w \"1\""}},
                                 {{"category", "InconsistentVersionWarning"}, {"message", "w2"}, {"original_sklearn_version", "1.2.1"}}}},
                   {"measurements", {{"load", {{"value", 0.25}, {"unit", "s"}}}, {"odd \"name\"", {{"value", nullptr}, {"unit", ""}}}}}};
  EXPECT_EQ(cells[0], expected);
  EXPECT_EQ(cells[1], json({{"id", "f/onnx/p/q"}, {"fixture", "f"}, {"format", "onnx"}, {"producer", "p"}, {"consumer", "q"},
                            {"outcome", "OK_EXACT"}, {"detail", nullptr}, {"warnings", json::array()},
                            {"measurements", json::object()}}));
}

TEST(StoredReports, EveryReportIsStreamedFromTheStoreWithTheSameBytes) {
  auto dir = std::filesystem::temp_directory_path() / ("crossload-reporters-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  RunData d = sample_run(/*cut_utf8=*/false);
  int64_t run_id = 0;
  {
    auto store = Store::open((dir / "results.db").string());
    ASSERT_TRUE(store) << store.error().message;
    auto run = store->begin_run(d.run.matrix_path, d.run.matrix_sha256, d.run.crossload_version);
    ASSERT_TRUE(run);
    run_id = run->id;
    for (const auto& e : d.envs) ASSERT_TRUE(store->put_environment(run_id, e));
    for (const auto& a : d.artifacts) ASSERT_TRUE(store->put_artifact(run_id, a));
    ASSERT_TRUE(store->put_cells(run_id, d.cells));
  }
  auto store = Store::open((dir / "results.db").string());
  ASSERT_TRUE(store);
  // Every report from one pass over the store, each the bytes the whole run in memory gives (the
  // goldens above hold those bytes for the hand-built run).
  auto written = write_stored_reports(*store, run_id, reporter_names(), dir.string());
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(written->size(), 4u);
  auto whole = load_run_data(*store, run_id);
  ASSERT_TRUE(whole);
  for (const auto& name : reporter_names()) {
    auto reporter = find_reporter(name);
    std::ifstream in(dir / std::string(reporter->default_file()));
    std::string streamed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(streamed, render(*reporter, *whole)) << name;
  }
  EXPECT_FALSE(write_stored_reports(*store, run_id, {"pdf"}, dir.string()));
  std::filesystem::remove_all(dir);
}

TEST(ReporterGolden, Junit) {
  expect_golden("sample.junit.xml", render(JunitReporter(), sample_run()));
  expect_golden("empty.junit.xml", render(JunitReporter(), empty_run()));
}

TEST(ReporterGolden, Html) {
  expect_golden("sample.html", render(HtmlReporter(), sample_run()));
  expect_golden("failures_only.html", render(HtmlReporter(), failures_only_run()));
  expect_golden("empty.html", render(HtmlReporter(), empty_run()));
}

// ---- the table ----

TEST(Reporters, TableFindsEveryNameItLists) {
  for (const auto& name : reporter_names()) {
    auto r = find_reporter(name);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->name(), name);
  }
  EXPECT_EQ(find_reporter("html")->default_file(), "report.html");
  EXPECT_EQ(find_reporter("junit")->default_file(), "junit.xml");
  EXPECT_FALSE(find_reporter("pdf"));
}

// The runner records an environment that never started with a null fingerprint.
TEST(Reporters, HtmlJunitAndJsonRenderAnEnvironmentWithoutFingerprint) {
  RunData d = sample_run(/*cut_utf8=*/false);
  d.envs[2].fingerprint = nullptr;
  for (const char* name : {"html", "junit", "json"}) {
    auto r = find_reporter(name);
    EXPECT_NO_THROW(render(*r, d)) << name;
  }
  EXPECT_THAT(render(HtmlReporter(), d), HasSubstr("<span class=\"fail\">unavailable</span>: rootfs trixie/s390x"));
}

// ---- HTML ----

TEST(HtmlReport, IsSelfContained) {
  std::string html = render(HtmlReporter(), sample_run());
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr(" src=")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  // Links a reader may follow (the causes' upstream references) are never fetched; beside them,
  // the only URL is the SVG namespace, which is a name.
  html = std::regex_replace(html, std::regex("<a href=\"https?://[^\"]*\">[^<]*</a>"), "");
  std::regex url("https?://[^\"]*");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator(); ++it)
    EXPECT_EQ(it->str(), "http://www.w3.org/2000/svg");
}

TEST(HtmlReport, HeatmapColoursEachPairByTheShareThatLoadedUnsupportedApart) {
  std::string html = render(HtmlReporter(), sample_run());
  // joblib new → new is OK_EXACT; new → old is MISMATCH; old → new OK_TOLERANCE.
  EXPECT_THAT(html, HasSubstr("data-title=\"joblib: new → old\" data-worst=\"MISMATCH\""));
  EXPECT_THAT(html, HasSubstr("data-title=\"joblib: old → new\" data-worst=\"OK_TOLERANCE\""));
  // Everything the format can hold loaded: green, the UNSUPPORTED fixture named beside, not a failure.
  EXPECT_THAT(html, HasSubstr("data-title=\"pickle-p5: new → new\" data-worst=\"UNSUPPORTED\" title=\"1 OK_EXACT, 1 "
                              "UNSUPPORTED\" data-share=\"1.000\" style=\"background:hsl(120,65%,72%);color:#111\">"
                              "1/1<small>1 UNSUPPORTED</small>"));
  EXPECT_THAT(html, HasSubstr("data-title=\"joblib: new → old\" data-worst=\"MISMATCH\" title=\"1 MISMATCH\" "
                              "data-share=\"0.000\" style=\"background:hsl(0,65%,72%)"));
  EXPECT_EQ(count(html, "<figure class=\"heatmap\""), 5u);  // one per format
}

TEST(HtmlReport, OpensWithTheMatrixThenTheCausesUnclassifiedFirst) {
  RunData d = sample_run();
  d.cells.push_back(cell("iris_tree", "joblib", "old", "old", Outcome::kLoadError, error("load", "RuntimeError", "brand new")));
  std::string html = render(HtmlReporter(), d);
  auto summary = html.find("id=\"summary\""), matrix = html.find("id=\"compatibility\""),
       causes = html.find("id=\"causes\""), charts = html.find("id=\"charts\"");
  ASSERT_NE(causes, std::string::npos);
  EXPECT_LT(summary, matrix);
  EXPECT_LT(matrix, causes);
  EXPECT_LT(causes, charts);
  auto unclassified = html.find("<tr class=\"unclassified\" data-cause=\"unclassified\">");
  auto numpy = html.find("<tr data-cause=\"numpy2-pickle-into-numpy1\">");
  ASSERT_NE(unclassified, std::string::npos);
  ASSERT_NE(numpy, std::string::npos);
  EXPECT_LT(unclassified, numpy);
  EXPECT_THAT(html, HasSubstr("LOAD_ERROR: RuntimeError: brand new"));  // unclassified cells by error text
  EXPECT_THAT(html, HasSubstr("<dt>cause</dt><dd><code>numpy2-pickle-into-numpy1</code></dd>"));
}

TEST(HtmlReport, CellDetailsCarryErrorMeaningDifferenceWarningsAndManifest) {
  std::string html = render(HtmlReporter(), sample_run());
  EXPECT_THAT(html, HasSubstr("ModuleNotFoundError: No module named &#39;numpy._core&#39;"));
  EXPECT_THAT(html, HasSubstr("written with numpy 2"));                    // explain()
  EXPECT_THAT(html, HasSubstr("max abs 0.25 · max ULP 1e+15 · 3 of 30 beyond tolerance"));
  EXPECT_THAT(html, HasSubstr("original_sklearn_version 1.2.1"));
  EXPECT_THAT(html, HasSubstr("5-fold CV score 0.96"));
  EXPECT_THAT(html, HasSubstr("{&quot;untrusted_types&quot;:[&quot;sklearn.tree._tree.Tree&quot;]}"));
}

TEST(HtmlReport, HostileTextIsEscapedAndKeptValidUtf8) {
  std::string html = render(HtmlReporter(), sample_run());
  EXPECT_THAT(html, HasSubstr("Untrusted types &lt;sklearn.tree._tree.Tree&gt; &amp; &quot;friends&quot;"));
  EXPECT_THAT(html, HasSubstr("bad\xEF\xBF\xBD input &lt;X&gt;"));        // control byte replaced
  EXPECT_THAT(html, HasSubstr("ModuleNotFoundError: \xEF\xBF\xBD</pre>"));  // cut character replaced
}

TEST(HtmlReport, ChartsCompareFormatsPerConsumer) {
  std::string html = render(HtmlReporter(), sample_run());
  for (const char* m : {"load", "predict", "size", "rss_peak"})
    EXPECT_THAT(html, HasSubstr(std::string("data-measure=\"") + m + "\"")) << m;
  EXPECT_THAT(html, Not(HasSubstr("data-measure=\"cold_start\"")));  // only once the bench records it
  EXPECT_THAT(html, HasSubstr("<title>skops in new: median 2.0 ms over 1 cells</title>"));
}

TEST(HtmlReport, ColdStartAndPssChartsAppearWhenMeasured) {
  RunData d = sample_run();
  for (auto& c : d.cells)
    if (!c.measurements.empty()) {
      c.measurements.push_back({"cold_start", 0.8, "s"});
      c.measurements.push_back({"pss", 30e6, "bytes"});
    }
  std::string html = render(HtmlReporter(), d);
  EXPECT_THAT(html, HasSubstr("data-measure=\"cold_start\""));
  EXPECT_THAT(html, HasSubstr("data-measure=\"pss\""));
}

TEST(HtmlReport, GuideTableIsFilledWithThisRunsEvidence) {
  std::string html = render(HtmlReporter(), sample_run());
  EXPECT_THAT(html, HasSubstr("<th>Persistence method</th><th>Pros</th><th>Risks / Cons</th>"));
  EXPECT_EQ(count(html, "<tr class=\"filled\""), 5u);
  EXPECT_THAT(html, HasSubstr("types to review and trust before loading (in 1 of 1 artifact): sklearn.tree._tree.Tree"));
  EXPECT_THAT(html, HasSubstr("labels agree with scikit-learn on 98.0%"));
  EXPECT_THAT(html, HasSubstr("could not persist lambda_pipeline"));
  EXPECT_THAT(html, HasSubstr("<code>pickle-p5</code>: loaded 1 of 4 cells (new → new 1/2, new → old 0/1, new → s390x 0/1)"));
}

TEST(HtmlReport, AuditRecordsInManifestsAreSummarisedPerFormat) {
  std::string html = render(HtmlReporter(), sample_run());
  EXPECT_THAT(html, HasSubstr("<tr><td>pickle-p5</td><td>0</td><td>0</td><td>1</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>skops</td><td>1</td><td>0</td><td>0</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<li><code>new/iris_tree/pickle-p5</code>: audit verdict <b>UNSAFE</b>"
                              "<ul class=\"findings\"><li>error <code>CL100</code> imports os.system &lt;dangerous&gt;</li>"));
}

TEST(HtmlReport, ZeroCellsStillRendersEverySection) {
  std::string html = render(HtmlReporter(), empty_run());
  for (const char* id : {"summary", "compatibility", "causes", "charts", "guide", "audit", "environments"})
    EXPECT_THAT(html, HasSubstr(std::string("<section id=\"") + id + "\"")) << id;
  EXPECT_THAT(html, HasSubstr("<span id=\"cells-run\">0</span> cells run"));
  EXPECT_THAT(html, HasSubstr("No cells were run"));
  EXPECT_THAT(html, HasSubstr("</html>"));
}

TEST(HtmlReport, RegressionsComeFirstWhenABaselineIsGiven) {
  RunData before = sample_run(), after = sample_run();
  for (auto& c : after.cells)
    if (c.id == "iris_tree/joblib/new/new") c.outcome = Outcome::kLoadError;
  DiffResult diff = diff_runs({"base.json", before}, {"cur.json", after}, {});
  std::string html = render(HtmlReporter(diff), after);
  auto regressions = html.find("<section id=\"regressions\""), heatmap = html.find("<section id=\"compatibility\"");
  ASSERT_NE(regressions, std::string::npos);
  EXPECT_LT(regressions, heatmap);
  EXPECT_THAT(html, HasSubstr("<span class=\"fail\">compatibility regressions: 1 · new failing cells: 0"));
  EXPECT_THAT(render(HtmlReporter(), after), Not(HasSubstr("id=\"regressions\"")));
}

// ---- HTML above the whole-page limit: the aggregated page ----

// The `title="..."` of a heatmap square (its outcome counts) on a page.
std::string square_tip(const std::string& html, const std::string& square) {
  auto at = html.find("data-title=\"" + square + "\"");
  if (at == std::string::npos) return "";
  auto from = html.find(" title=\"", at) + 8;
  return html.substr(from, html.find('"', from) - from);
}

TEST(HtmlAggregatedPage, BelowOrAtTheLimitTheBytesAreTheWholePage) {
  RunData d = sample_run();
  EXPECT_EQ(render(HtmlReporter(std::nullopt, d.cells.size()), d), render(HtmlReporter(), d));
  EXPECT_THAT(render(HtmlReporter(), d), Not(HasSubstr("aggregated-notice")));
}

// A head that counts its cells (a store's) lets the sink draw the aggregated page from the first
// cell instead of keeping the cells up to the limit: the same page; a count at the limit changes nothing.
TEST(HtmlAggregatedPage, ACountedRunAboveTheLimitIsAggregatedFromItsFirstCellWithTheSameBytes) {
  RunData d = sample_run();
  std::string kept = render(HtmlReporter(std::nullopt, 3), d);
  d.cell_count = d.cells.size();
  EXPECT_THAT(kept, HasSubstr("id=\"aggregated-notice\""));
  EXPECT_EQ(render(HtmlReporter(std::nullopt, 3), d), kept);
  EXPECT_EQ(render(HtmlReporter(std::nullopt, d.cells.size()), d), render(HtmlReporter(), d));
  EXPECT_THAT(render(HtmlReporter(std::nullopt, d.cells.size()), d), Not(HasSubstr("aggregated-notice")));
}

TEST(HtmlAggregatedPage, AboveTheLimitCountsEverySquareAndCauseWithoutCellDetails) {
  RunData d = sample_run();
  d.cells.push_back(cell("iris_tree", "joblib", "old", "old", Outcome::kLoadError, error("load", "RuntimeError", "brand new")));
  std::string whole = render(HtmlReporter(), d);
  std::string page = render(HtmlReporter(std::nullopt, 3), d);
  EXPECT_THAT(page, HasSubstr("id=\"aggregated-notice\""));
  EXPECT_THAT(page, HasSubstr("The cells themselves are in results.json, junit.xml and the results store"));
  EXPECT_THAT(page, HasSubstr(fmt::format("<span id=\"cells-run\">{}</span> cells run", d.cells.size())));
  for (const auto& [o, n] : outcome_counts(d.cells))
    EXPECT_THAT(page, HasSubstr(fmt::format("data-outcome=\"{0}\">{0} <b>{1}</b></li>", to_string(o), n)));
  // Every square counts what the whole page's square counts, and opens nothing.
  for (const auto& c : d.cells) {
    std::string square = c.format + ": " + c.producer + " → " + c.consumer;
    EXPECT_EQ(square_tip(page, square), square_tip(whole, square)) << square;
    EXPECT_FALSE(square_tip(page, square).empty()) << square;
  }
  EXPECT_THAT(page, HasSubstr("data-title=\"pickle-p5: new → new\" data-worst=\"UNSUPPORTED\" title=\"1 OK_EXACT, 1 "
                              "UNSUPPORTED\" data-share=\"1.000\" style=\"background:hsl(120,65%,72%);color:#111\">"
                              "1/1<small>1 UNSUPPORTED</small>"));
  EXPECT_EQ(count(page, "<figure class=\"heatmap\""), 5u);
  EXPECT_THAT(page, Not(HasSubstr("data-details=")));
  EXPECT_THAT(page, Not(HasSubstr("<article class=\"cell\"")));
  // The causes: the same rows with the same counts, unclassified first, its error texts listed.
  auto unclassified = page.find("<tr class=\"unclassified\" data-cause=\"unclassified\">");
  auto numpy = page.find("<tr data-cause=\"numpy2-pickle-into-numpy1\">");
  ASSERT_NE(unclassified, std::string::npos);
  ASSERT_NE(numpy, std::string::npos);
  EXPECT_LT(unclassified, numpy);
  EXPECT_EQ(count(page, "<tr data-cause="), count(whole, "<tr data-cause="));
  EXPECT_THAT(page, HasSubstr("LOAD_ERROR: RuntimeError: brand new"));
  auto needing = whole.substr(whole.find("<section id=\"causes\">"), 200);
  EXPECT_THAT(page, HasSubstr(needing.substr(needing.find("<p class"), needing.find(" of them") - needing.find("<p class"))));
  for (const char* id : {"summary", "compatibility", "causes", "audit", "environments"})
    EXPECT_THAT(page, HasSubstr(std::string("<section id=\"") + id + "\"")) << id;
  EXPECT_THAT(page, HasSubstr("</html>"));
}

TEST(HtmlAggregatedPage, ACauseListsAtMostTwoHundredCellsAndItsPairs) {
  RunData d = sample_run();
  d.cells.clear();
  for (int i = 0; i < 250; ++i)
    d.cells.push_back(cell(fmt::format("f{:03}", i), "pickle-p5", "new", i % 2 ? "old" : "s390x", Outcome::kLoadError,
                           error("load", "ModuleNotFoundError", "No module named 'numpy._core'")));
  std::string page = render(HtmlReporter(std::nullopt, 10), d);
  auto row = page.substr(page.find("<tr data-cause=\"numpy2-pickle-into-numpy1\">"));
  row = row.substr(0, row.find("</tr>"));
  EXPECT_THAT(row, HasSubstr("<td>250</td>"));
  EXPECT_THAT(row, HasSubstr("2 producer → consumer pairs"));
  EXPECT_THAT(row, HasSubstr("<li>new → old (pickle-p5)</li><li>new → s390x (pickle-p5)</li>"));
  EXPECT_EQ(count(row, "<code>f"), 200u);
  EXPECT_THAT(row, HasSubstr(" and 50 more</details>"));
  EXPECT_THAT(page, HasSubstr("title=\"125 LOAD_ERROR\""));
}

TEST(HtmlAggregatedPage, ChartsShowTheMediansCountedAsTheCellsPassed) {
  RunData d = sample_run();
  d.cells.clear();
  // 101 cells loaded in 1 … 101 ms (shuffled by the id order): the median is 51 ms.
  for (int i = 1; i <= 101; ++i)
    d.cells.push_back(measured(cell(fmt::format("f{:03}", (i * 37) % 101), "joblib", "new", "old", Outcome::kOkExact),
                               i / 1000.0, 5000));
  std::string whole = render(HtmlReporter(), d), page = render(HtmlReporter(std::nullopt, 10), d);
  EXPECT_THAT(whole, HasSubstr("joblib in old: median 51.0 ms over 101 cells"));
  EXPECT_THAT(page, ::testing::ContainsRegex("joblib in old: median 5[01]\\.[0-9] ms over 101 cells"));
  EXPECT_THAT(page, HasSubstr("joblib in old: median 4.9 KiB over 101 cells"));  // every size the same
  for (const char* m : {"load", "predict", "size", "rss_peak"})
    EXPECT_THAT(page, HasSubstr(std::string("data-measure=\"") + m + "\"")) << m;
  EXPECT_THAT(page, HasSubstr("id=\"charts-note\""));
  EXPECT_THAT(whole, Not(HasSubstr("id=\"charts-note\"")));
}

TEST(HtmlAggregatedPage, WithABaselineTheRegressionsStillComeFirst) {
  RunData before = sample_run(), after = sample_run();
  for (auto& c : after.cells)
    if (c.id == "iris_tree/joblib/new/new") c.outcome = Outcome::kLoadError;
  DiffResult diff = diff_runs({"base.json", before}, {"cur.json", after}, {});
  std::string page = render(HtmlReporter(diff, 2), after);
  auto regressions = page.find("<section id=\"regressions\""), heatmap = page.find("<section id=\"compatibility\"");
  ASSERT_NE(regressions, std::string::npos);
  EXPECT_LT(regressions, heatmap);
  EXPECT_THAT(page, HasSubstr("id=\"aggregated-notice\""));
}

// ---- JUnit ----

TEST(JunitReport, OneSuitePerPairFailuresAndSkipsByOutcome) {
  std::string xml = render(JunitReporter(), sample_run());
  // 15 cells: failures MISMATCH, LOAD_ERROR, PREDICT_ERROR, CRASH, TIMEOUT; skips UNSUPPORTED,
  // ENV_UNAVAILABLE, BLOCKED, XFAIL.
  EXPECT_THAT(xml, HasSubstr("<testsuites name=\"crossload matrix/sample.toml\" tests=\"15\" failures=\"5\" errors=\"0\" skipped=\"4\""));
  EXPECT_EQ(count(xml, "<testsuite "), 5u);  // new→new, new→old, new→s390x, old→new, old→old
  EXPECT_EQ(count(xml, "<testcase "), 15u);
  EXPECT_EQ(count(xml, "<failure "), 5u);
  EXPECT_EQ(count(xml, "<skipped "), 4u);
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"new → old\" tests=\"5\" failures=\"4\" errors=\"0\" skipped=\"1\""));
  // The cause id in the message CI views show and as a property scripts read.
  EXPECT_THAT(xml, HasSubstr("<properties><property name=\"cause\" value=\"numpy2-pickle-into-numpy1\"/></properties>"
                             "<failure message=\"LOAD_ERROR [numpy2-pickle-into-numpy1]: ModuleNotFoundError: No module "
                             "named &#39;numpy._core&#39;\" type=\"LOAD_ERROR\">"));
  EXPECT_THAT(xml, HasSubstr("XPASS: expected to fail, but passed"));
}

TEST(JunitReport, EmptyRunIsAValidEmptyDocument) {
  EXPECT_EQ(render(JunitReporter(), empty_run()),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"crossload matrix/empty.toml\" tests=\"0\" "
            "failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0.000000\">\n</testsuites>\n");
}

}  // namespace
}  // namespace crossload
