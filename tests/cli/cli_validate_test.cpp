// `twofold validate`: the exact sampler is statistically indistinguishable from
// the closed-form posterior on every problem of the suite, and the same checks
// flag a sampler with a known bias (langevin on the 16-D mixture).
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

namespace twofold {
namespace {
namespace fs = std::filesystem;

TEST(CliValidate, ExactMatchesEveryClosedFormAndBiasIsFlagged) {
  if (!testing::cli_path()) GTEST_SKIP() << "the twofold CLI was not built";
  const fs::path dir = fs::temp_directory_path() / ("twofold-validate-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto run = [&](const std::string& args) {
    const auto r = testing::run_cli("validate --backend cpu --runs 4 --chains 128 --levels 300 " + args + " --out " +
                                    (dir / "v.json").string() + " --markdown " + (dir / "v.md").string());
    EXPECT_EQ(r.code, 0) << r.output;
    std::ifstream in(dir / "v.json");
    return nlohmann::json::parse(in);
  };
  const auto j = run("--samplers exact");
  EXPECT_TRUE(fs::exists(dir / "v.md"));
  const double n = 4 * 128;
  std::size_t exact_rows = 0;
  for (const auto& row : j["results"]) {
    ASSERT_EQ(row["status"], "ok") << row.dump();
    if (row["sampler"] != "exact") continue;
    ++exact_rows;
    const std::string name = row["problem"];
    // Mean: per pixel (m̂ − m)/σ ~ N(0, 1/n); the RMS over pixels exceeds 3.5/√n with
    // probability < 5e-4 even for one pixel.
    EXPECT_LT(row["mean_error"].get<double>(), 3.5 / std::sqrt(n)) << name;
    // Variance: time discretisation at 300 levels (≤ 5 %, docs/validation.md) plus
    // 4 Monte Carlo SE of a variance, √(2/n) for Gaussian tails (trimodal: less).
    EXPECT_NEAR(row["variance_ratio"].get<double>(), 1.0, 0.05 + 4 * std::sqrt(2 / n)) << name;
    // Mode weights: each frequency has SE ≤ √(1/(4n)) ≈ 0.022; TV over ≤ 3 modes.
    if (row.contains("mode_weight_tv")) {
      EXPECT_LT(row["mode_weight_tv"].get<double>(), 0.1) << name;
    }
    // Distance to exact draws: within twice the distance between two exact sets.
    for (const auto& p : j["problems"]) {
      if (p["name"] == name) {
        EXPECT_LT(row["sliced_wasserstein"].get<double>(), 2 * p["sliced_wasserstein_floor"].get<double>()) << name;
      }
    }
  }
  EXPECT_EQ(exact_rows, 4u);
  // --markdown onto a file with the kept-below marker line regenerates what is above
  // it and keeps the marker and everything below (docs/validation.md's hand-written
  // learned-prior section); a marker that does not start a line is not one.
  const std::string marker =
      "<!-- twofold validate --markdown keeps this line and everything below it; the rest is generated -->";
  const std::string kept = marker + "\n\n## Hand-written\n\nkept | " + marker + " |\n";
  {
    std::ofstream out(dir / "v.md", std::ios::binary);
    out << "# Stale generated part\n\nold table\n\n" << kept;
  }
  // The same mean check rejects langevin's known mode-weight bias on the 16-D mixture.
  const auto biased = run("--samplers langevin --problems gmm-dense");
  {
    std::ifstream in(dir / "v.md", std::ios::binary);
    const std::string md((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(md.find("Stale generated part"), std::string::npos) << md;
    EXPECT_EQ(md.rfind("# Sampler validation", 0), 0u) << md;
    EXPECT_NE(md.find("## gmm-dense"), std::string::npos) << md;
    ASSERT_GE(md.size(), kept.size());
    EXPECT_EQ(md.substr(md.size() - kept.size()), kept) << md;
    EXPECT_LT(md.find("## gmm-dense"), md.find(marker)) << md;
  }
  {  // the marker mid-line only: nothing is kept
    std::ofstream out(dir / "v.md", std::ios::binary);
    out << "text " << marker << "\n## Not kept\n";
  }
  run("--samplers exact --problems gmm-1d");
  {
    std::ifstream in(dir / "v.md", std::ios::binary);
    const std::string md((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(md.find("Not kept"), std::string::npos) << md;
  }
  ASSERT_EQ(biased["results"].size(), 1u);
  EXPECT_GT(biased["results"][0]["mean_error"].get<double>(), 3.5 / std::sqrt(n)) << biased.dump();
  const auto bad = testing::run_cli("validate --problems nope --out " + (dir / "x.json").string());
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("unknown problem 'nope'"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "x.json"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace twofold
