// `twofold report` and the report that `demo` writes: exit codes on bad input
// (2), a missing interpreter (3 for `report`, a warning for `demo`), --no-report,
// and one page with embedded images and no temporary files left behind.
// (tests/cli/report_browser_test.sh opens the page in Chromium.)
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace twofold {
namespace {

namespace fs = std::filesystem;

using testing::cli_path;
using testing::run_cli;

const char* small_demo = "demo --size 16 --runs 2 --chains 4 --levels 30 --backend cpu";

class CliReport : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cli_path()) GTEST_SKIP() << "the twofold CLI was not built (TWOFOLD_BUILD_CLI=OFF)";
    dir = fs::temp_directory_path() / ("twofold-report-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override {
    if (!dir.empty()) fs::remove_all(dir);
  }
  /// Whether the interpreter the CLI will use can draw the report.
  static bool report_dependencies() {
    const char* py = std::getenv("TWOFOLD_PYTHON");
    const std::string cmd = std::string(py && *py ? py : "python3") + " -c 'import numpy, matplotlib' 2>/dev/null";
    return std::system(cmd.c_str()) == 0;
  }
  fs::path dir;
};

TEST_F(CliReport, MissingFolderOrSummaryIsBadInput) {
  auto r = run_cli("report " + (dir / "absent").string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("absent"), std::string::npos) << r.output;

  r = run_cli("report " + dir.string());  // no summary.json
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("summary.json"), std::string::npos) << r.output;

  std::ofstream(dir / "summary.json") << "{\"command\": ";  // truncated
  r = run_cli("report " + dir.string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("not valid JSON"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "report.html"));
}

TEST_F(CliReport, MissingInterpreterFailsReportButNotDemo) {
  const fs::path out = dir / "out";
  const char* saved = std::getenv("TWOFOLD_PYTHON");
  const std::string previous = saved ? saved : "";
  ::setenv("TWOFOLD_PYTHON", "/nonexistent/python3", 1);  // inherited by the CLI through popen
  auto r = run_cli(std::string(small_demo) + " --out " + out.string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: no report.html"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out / "mean.npy"));
  EXPECT_FALSE(fs::exists(out / "report.html"));

  r = run_cli("report " + out.string());
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("TWOFOLD_PYTHON"), std::string::npos) << r.output;
  if (saved) ::setenv("TWOFOLD_PYTHON", previous.c_str(), 1);
  else ::unsetenv("TWOFOLD_PYTHON");
}

TEST_F(CliReport, NoReportFlagSkipsIt) {
  const auto r = run_cli(std::string(small_demo) + " --no-report --out " + (dir / "out").string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "out" / "summary.json"));
  EXPECT_FALSE(fs::exists(dir / "out" / "report.html"));
}

TEST_F(CliReport, DemoWritesOneSelfContainedPage) {
  if (!report_dependencies()) GTEST_SKIP() << "python3 with numpy and matplotlib is not available";
  const fs::path out = dir / "out";
  auto r = run_cli(std::string(small_demo) + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  std::stringstream page;
  page << std::ifstream(out / "report.html").rdbuf();
  const std::string html = page.str();
  std::size_t images = 0;
  for (std::size_t at = html.find("<img "); at != std::string::npos; at = html.find("<img ", at + 1)) {
    ++images;
    EXPECT_EQ(html.compare(at, 41, "<img src=\"data:image/png;base64,iVBORw0KG"), 0) << html.substr(at, 60);
  }
  EXPECT_GE(images, 8u);  // truth, zero-filled, mean, error, three std maps, exact maps, mask
  for (const char* section : {"<h2>Maps</h2>", "<h2>Summary</h2>", "mean_error_rms_in_posterior_std"})
    EXPECT_NE(html.find(section), std::string::npos) << section;
  for (const auto& f : fs::directory_iterator(out))
    EXPECT_EQ(f.path().filename().string().find(".report.html.tmp"), std::string::npos) << f.path();

  // Regenerating it with `twofold report` replaces it in place.
  r = run_cli("report " + out.string());
  EXPECT_EQ(r.code, 0) << r.output;
}

}  // namespace
}  // namespace twofold
