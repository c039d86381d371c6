// The chapter's demos over seeds 0–4 against Nengo 4.1's ranges (spec §11, issue "Online
// learning"). Full-length runs: they are short.
#include <gtest/gtest.h>

#include "demos.hpp"

using myelin::examples::DemoOptions;

TEST(DemoPes, MetricsInNengoRangeOverSeeds) {
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    DemoOptions o;
    o.seed = seed;
    o.write_files = false;
    auto m = myelin::examples::demo_pes(o);
    const double last = m["rmse_post_pre_last2s"], first = m["rmse_post_pre_first1s"];
    // Nengo: last 2 s 0.046–0.071; first 1 s 0.353–0.513.
    EXPECT_LE(last, 0.09) << "seed " << seed;
    EXPECT_GE(first, 4 * last) << "seed " << seed;
    EXPECT_LE(double(m["rms_error_last2s"]), 0.09) << "seed " << seed;
  }
}

TEST(DemoPavlovian, MetricsInNengoRangeOverSeeds) {
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    DemoOptions o;
    o.seed = seed;
    o.write_files = false;
    auto m = myelin::examples::demo_pavlovian(o);
    EXPECT_LE(double(m["cr_norm_before"]), 0.05) << "seed " << seed;  // Nengo 0.005–0.024
    EXPECT_GE(double(m["cr_norm_after"]), 0.3) << "seed " << seed;    // Nengo 0.435–0.516
    EXPECT_LE(double(m["cr_norm_after"]), 0.7) << "seed " << seed;
    EXPECT_GE(double(m["cr_cos_after"]), 0.35) << "seed " << seed;  // Nengo 0.455–0.542
    EXPECT_LE(double(m["cr_cos_after"]), 0.75) << "seed " << seed;
    EXPECT_LT(double(m["error_rate_after8s_hz"]), 1.0) << "seed " << seed;
  }
}

TEST(DemoTuning, LibraryTypesMatchTheChapterFormulas) {
  DemoOptions o;
  o.write_files = false;
  auto m = myelin::examples::demo_tuning(o);
  EXPECT_LT(double(m["max_abs_diff_lifrate_vs_formula_hz"]), 1e-9);
  EXPECT_LT(double(m["max_abs_diff_softlifrate_vs_formula_hz"]), 1e-6);
  // Hand-computed: a3(2) = 1 / (0.01 + 0.005·ln 2) = 73.35 Hz.
  EXPECT_NEAR(double(m["rate_at_I2_hard_hz"]), 1.0 / (0.01 + 0.005 * std::log(2.0)), 1e-9);
}
