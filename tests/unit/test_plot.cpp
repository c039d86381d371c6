// Figures through gnuplot: valid PNGs of the expected size, input validation, missing gnuplot.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "myelin/errors.hpp"
#include "myelin/plot.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using myelin::Figure;
using myelin::IoError;
using myelin::ValidationError;

namespace {

using myelin::test::ScopedEnv;
using myelin::test::TmpDir;

bool have_gnuplot() {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (!dir.empty() && ::access((fs::path(dir) / "gnuplot").c_str(), X_OK) == 0) return true;
  }
  return false;
}

#define REQUIRE_GNUPLOT() \
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot not installed (scripts/setup.sh)"

struct PngInfo {
  bool valid = false;
  uint32_t width = 0, height = 0;
  uintmax_t bytes = 0;
};

PngInfo png_info(const std::string& path) {
  PngInfo info;
  std::ifstream f(path, std::ios::binary);
  unsigned char h[24] = {};
  f.read(reinterpret_cast<char*>(h), 24);
  if (!f) return info;
  const unsigned char magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  info.valid = std::equal(magic, magic + 8, h) && std::string(h + 12, h + 16) == "IHDR";
  info.width = (uint32_t{h[16]} << 24) | (uint32_t{h[17]} << 16) | (uint32_t{h[18]} << 8) | h[19];
  info.height = (uint32_t{h[20]} << 24) | (uint32_t{h[21]} << 16) | (uint32_t{h[22]} << 8) | h[23];
  info.bytes = fs::file_size(path);
  return info;
}

std::vector<double> linspace(double a, double b, size_t n) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = a + (b - a) * static_cast<double>(i) / (n - 1);
  return v;
}

}  // namespace

TEST(Plot, ThreeLinesWithLegendAndLabels) {
  REQUIRE_GNUPLOT();
  TmpDir tmp;
  const auto t = linspace(0, 10, 10000);
  std::vector<double> a(t.size()), b(t.size()), c(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    a[i] = std::sin(t[i]);
    b[i] = 0.8 * std::sin(t[i] - 0.1);
    c[i] = 0.5 * std::cos(3 * t[i]);
  }
  Figure fig(12, 4);
  auto& ax = fig.axes();
  ax.plot(t, a, {.color = "k", .label = "Input"});
  ax.plot(t, b, {.color = "b", .label = "Pre"});
  ax.plot(t, c, {.color = "r", .label = "Post"});
  ax.set_xlabel("Time (s)");
  ax.set_ylabel("Value");
  ax.set_title("Learn a communication channel");
  ax.legend("upper right");
  const std::string out = tmp.file("three.png");
  fig.save(out);
  const PngInfo info = png_info(out);
  EXPECT_TRUE(info.valid);
  EXPECT_EQ(info.width, 1200u);
  EXPECT_EQ(info.height, 400u);
  EXPECT_GT(info.bytes, 10000u);
  EXPECT_LT(info.bytes, 2000000u);
  // Saving again overwrites.
  fig.save(out);
  EXPECT_TRUE(png_info(out).valid);
}

TEST(Plot, StylesSubplotsImagesAndOddText) {
  REQUIRE_GNUPLOT();
  TmpDir tmp;
  const auto x = linspace(0, 6.28, 300);
  Eigen::VectorXd ex = Eigen::VectorXd::LinSpaced(50, 0, 1);
  Eigen::VectorXd ey = ex.array().square();
  Figure fig(8, 6, 80);
  auto& a1 = fig.subplot(2, 2, 1);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = std::sin(x[i]);
  a1.plot(x, y, {.label = "dotted", .linestyle = ":", .linewidth = 3});
  a1.plot(x, x, {.color = "#8c564b", .label = "dashed", .linestyle = "--"});
  Eigen::MatrixXd cols(50, 2);
  cols << ex, ey;
  a1.plot(cols.col(0), cols.col(1).array() * 0.5, {.color = "tab:red"});
  a1.plot(ex, ey,
          {.color = "C2", .label = "it's `echo x` @macro $a_b^c\nsecond line", .linestyle = "-."});
  a1.legend("best");
  a1.grid(true);
  a1.set_xlim(0, 7);
  a1.set_ylim(-1.5, 1.5);
  EXPECT_EQ(&fig.subplot(2, 2, 1), &a1);  // same position → same axes
  Eigen::MatrixXd img(28, 28);
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 28; ++c) img(r, c) = r * 28 + c;
  fig.subplot(2, 2, 2).imshow(img);
  fig.subplot(2, 2, 3).imshow(img, "viridis");
  fig.subplot(2, 2, 3).set_title("viridis");
  fig.subplot(2, 2, 4).set_title("empty axes");
  fig.save(tmp.file("grid.png"));
  const PngInfo info = png_info(tmp.file("grid.png"));
  EXPECT_TRUE(info.valid);
  EXPECT_EQ(info.width, 640u);
  EXPECT_EQ(info.height, 480u);

  // NaN makes a gap; constant data and a figure without axes still render.
  Figure f2(4, 3);
  f2.axes().plot({0, 1, 2, 3}, {1, NAN, 1, 1}, {.color = "red"});
  f2.save(tmp.file("const.png"));
  EXPECT_TRUE(png_info(tmp.file("const.png")).valid);
  Figure blank(2, 2);
  blank.save(tmp.file("blank.png"));
  EXPECT_TRUE(png_info(tmp.file("blank.png")).valid);
}

TEST(Plot, LongSeriesSixLines) {
  REQUIRE_GNUPLOT();
  TmpDir tmp;
  const auto t = linspace(0, 15, 15000);
  Figure fig(12, 4);
  for (int k = 0; k < 6; ++k) {
    std::vector<double> y(t.size());
    for (size_t i = 0; i < t.size(); ++i) y[i] = std::sin((k + 1) * t[i]) + 0.01 * (i % 17);
    fig.axes().plot(t, y, {.label = "line " + std::to_string(k)});
  }
  fig.axes().legend();
  fig.save(tmp.file("six.png"));
  EXPECT_TRUE(png_info(tmp.file("six.png")).valid);
}

TEST(Plot, KeepsScriptWhenAsked) {
  REQUIRE_GNUPLOT();
  TmpDir tmp;
  ScopedEnv keep("MYELIN_KEEP_PLOT_SCRIPTS", "1");
  Figure fig(4, 3);
  fig.axes().plot({0, 1}, {0, 1});
  fig.save(tmp.file("kept.png"));
  ASSERT_TRUE(fs::exists(tmp.file("kept.gp")));
  std::ifstream f(tmp.file("kept.gp"));
  const std::string script((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(script.find("pngcairo"), std::string::npos);
  EXPECT_NE(script.find("kept.png"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(tmp.file("kept.plotdata")));
  // The kept script is self-contained: rerunning it redraws the figure.
  fs::remove(tmp.file("kept.png"));
  const std::string cmd = "gnuplot -d '" + tmp.file("kept.gp") + "' 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(png_info(tmp.file("kept.png")).valid);
}

TEST(Plot, NoScriptKeptByDefault) {
  REQUIRE_GNUPLOT();
  TmpDir tmp;
  ScopedEnv keep("MYELIN_KEEP_PLOT_SCRIPTS", std::nullopt);
  Figure fig(4, 3);
  fig.axes().plot({0, 1}, {0, 1});
  fig.save(tmp.file("x.png"));
  EXPECT_TRUE(fs::exists(tmp.file("x.png")));
  EXPECT_FALSE(fs::exists(tmp.file("x.gp")));
  EXPECT_FALSE(fs::exists(tmp.file("x.plotdata")));
}

TEST(Plot, ValidatesInputs) {
  Figure fig;
  auto& ax = fig.axes();
  try {
    ax.plot(std::vector<double>(10, 0.0), std::vector<double>(9, 0.0));
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("x of size 10"), std::string::npos) << msg;
    EXPECT_NE(msg.find("y of size 9"), std::string::npos) << msg;
  }
  EXPECT_THROW(ax.plot(Eigen::VectorXd::Zero(3), Eigen::VectorXd::Zero(4)), ValidationError);
  EXPECT_THROW(ax.plot(Eigen::MatrixXd::Zero(2, 2), Eigen::VectorXd::Zero(2)), ValidationError);
  EXPECT_THROW(ax.plot({0, 1}, {0, 1}, {.color = "notacolour"}), ValidationError);
  EXPECT_THROW(ax.plot({0, 1}, {0, 1}, {.color = "#12345"}), ValidationError);
  EXPECT_THROW(ax.plot({0, 1}, {0, 1}, {.linestyle = "~"}), ValidationError);
  EXPECT_THROW(ax.plot({0, 1}, {0, 1}, {.linewidth = 0}), ValidationError);
  EXPECT_THROW(ax.legend("top middle"), ValidationError);
  EXPECT_NO_THROW(ax.legend("1"));
  EXPECT_THROW(ax.set_xlim(1, 1), ValidationError);
  EXPECT_THROW(ax.set_ylim(0, NAN), ValidationError);
  EXPECT_THROW(ax.imshow(Eigen::MatrixXd(0, 0)), ValidationError);
  EXPECT_THROW(ax.imshow(Eigen::MatrixXd::Zero(2, 2), "rainbowish"), ValidationError);
  EXPECT_THROW(fig.subplot(2, 2, 5), ValidationError);
  EXPECT_THROW(fig.subplot(0, 1, 1), ValidationError);
  EXPECT_THROW(Figure(0, 4), ValidationError);
  EXPECT_THROW(Figure(12, 4, 0), ValidationError);
}

TEST(Plot, IoErrors) {
  TmpDir tmp;
  Figure fig(3, 2);
  fig.axes().plot({0, 1}, {0, 1});
  try {
    fig.save(tmp.file("no/such/dir/x.png"));
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir"), std::string::npos) << e.what();
  }
  {
    ScopedEnv path("PATH", tmp.path().string());  // a PATH without gnuplot
    ScopedEnv override_gp("MYELIN_GNUPLOT", std::nullopt);
    try {
      fig.save(tmp.file("x.png"));
      FAIL() << "expected IoError";
    } catch (const IoError& e) {
      EXPECT_EQ(std::string(e.what()), "gnuplot not found: install gnuplot-nox (scripts/setup.sh)");
    }
  }
  {
    // A "gnuplot" that fails: the exit status and its output are reported.
    const std::string fake = tmp.file("fakegnuplot");
    {
      std::ofstream f(fake);
      f << "#!/bin/sh\necho 'simulated failure' >&2\nexit 3\n";
    }
    fs::permissions(fake, fs::perms::owner_all);
    ScopedEnv override_gp("MYELIN_GNUPLOT", fake);
    try {
      fig.save(tmp.file("y.png"));
      FAIL() << "expected IoError";
    } catch (const IoError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("exit status 3"), std::string::npos) << msg;
      EXPECT_NE(msg.find("simulated failure"), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(tmp.file("y.png")));
  }
}
