// Tests for distributions (spec §3): moments and ranges with fixed seeds, hypersphere
// geometry, low discrepancy of ScatteredHypersphere, random_orthogonal, DistOrArray.
// GCC 12 bug 105593: with -march=native (AVX-512) at -O3, Eigen's vectorised exp inlines
// _mm512_min_pd and GCC reports a false -Wuninitialized inside avx512fintrin.h; being a
// system header does not silence it, so this TU (the only one that trips it) keeps the pragmas.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>
#pragma GCC diagnostic pop

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "myelin/distributions.hpp"
#include "myelin/errors.hpp"
#include "test_util.hpp"

namespace myelin {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

double mean(const MatrixXd& m) {
  return m.mean();
}
double variance(const MatrixXd& m) {
  const double mu = m.mean();
  return (m.array() - mu).square().mean();
}

using test::error_message;

// ---- scalar distributions ----------------------------------------------------------------

TEST(Uniform, RangeAndMoments) {
  Rng rng(1);
  const MatrixXd s = Uniform(-1.0, 0.9).sample(20000, 2, rng);
  ASSERT_EQ(s.rows(), 20000);
  ASSERT_EQ(s.cols(), 2);
  EXPECT_GE(s.minCoeff(), -1.0);
  EXPECT_LT(s.maxCoeff(), 0.9);
  EXPECT_NEAR(mean(s), -0.05, 0.01);
  EXPECT_NEAR(variance(s), 1.9 * 1.9 / 12.0, 0.01);
}

TEST(Uniform, ScalarOverload) {
  Rng rng(2);
  const Uniform u(200, 400);
  const VectorXd v = u.sample(100, rng);
  EXPECT_EQ(v.size(), 100);
  EXPECT_GE(v.minCoeff(), 200.0);
  EXPECT_LT(v.maxCoeff(), 400.0);
}

TEST(Uniform, Integer) {
  Rng rng(3);
  const MatrixXd s = Uniform(0, 5, true).sample(10000, 1, rng);
  std::vector<int> counts(5, 0);
  for (Eigen::Index i = 0; i < s.rows(); ++i) {
    const double v = s(i, 0);
    ASSERT_EQ(v, std::floor(v));
    ASSERT_GE(v, 0.0);
    ASSERT_LE(v, 4.0);
    ++counts[static_cast<std::size_t>(v)];
  }
  for (int c : counts) EXPECT_NEAR(c / 10000.0, 0.2, 0.02);
  EXPECT_THROW(Uniform(0.2, 0.9, true), ValidationError);
  EXPECT_THROW(Uniform(0.0, std::nan(""), false), ValidationError);
}

TEST(Uniform, Deterministic) {
  Rng a(42), b(42), c(43);
  const MatrixXd x = Uniform(0, 1).sample(10, 3, a);
  EXPECT_EQ(x, Uniform(0, 1).sample(10, 3, b));
  EXPECT_NE(x, Uniform(0, 1).sample(10, 3, c));
}

TEST(Gaussian, Moments) {
  Rng rng(4);
  const MatrixXd s = Gaussian(2.0, 0.5).sample(40000, 1, rng);
  EXPECT_NEAR(mean(s), 2.0, 0.01);
  EXPECT_NEAR(std::sqrt(variance(s)), 0.5, 0.01);
}

TEST(Gaussian, NonPositiveStdIsError) {
  EXPECT_THROW(Gaussian(0.0, 0.0), ValidationError);
  const std::string msg = error_message([] { Gaussian(0.0, -1.5); });
  EXPECT_NE(msg.find("-1.5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("std"), std::string::npos) << msg;
}

TEST(Exponential, MomentsShiftAndCap) {
  Rng rng(5);
  const MatrixXd s = Exponential(0.5, 1.0).sample(40000, 1, rng);
  EXPECT_GE(s.minCoeff(), 1.0);
  EXPECT_NEAR(mean(s), 1.5, 0.01);
  EXPECT_NEAR(variance(s), 0.25, 0.01);
  const MatrixXd c = Exponential(1.0, 0.0, 0.5).sample(5000, 2, rng);
  EXPECT_LE(c.maxCoeff(), 0.5);
  EXPECT_GT((c.array() == 0.5).count(), 5000);  // P(e > 0.5) = 0.61
  EXPECT_THROW(Exponential(0.0), ValidationError);
  EXPECT_THROW(Exponential(1.0, 2.0, 1.0), ValidationError);
}

TEST(Choice, WeightsPickProportionally) {
  Rng rng(6);
  const Choice c(std::vector<double>{1.0, 2.0, 3.0}, {1.0, 2.0, 1.0});
  const MatrixXd s = c.sample(20000, 1, rng);
  std::vector<int> counts(3, 0);
  for (Eigen::Index i = 0; i < s.rows(); ++i) {
    const double v = s(i, 0);
    ASSERT_TRUE(v == 1.0 || v == 2.0 || v == 3.0);
    ++counts[static_cast<std::size_t>(v) - 1];
  }
  EXPECT_NEAR(counts[0] / 20000.0, 0.25, 0.015);
  EXPECT_NEAR(counts[1] / 20000.0, 0.50, 0.015);
  EXPECT_NEAR(counts[2] / 20000.0, 0.25, 0.015);
  EXPECT_DOUBLE_EQ(c.cumulative.back(), 1.0);
}

TEST(Choice, UnweightedAndZeroWeight) {
  Rng rng(7);
  const MatrixXd s = Choice(std::vector<double>{-1.0, 1.0}).sample(10000, 1, rng);
  EXPECT_NEAR(mean(s), 0.0, 0.05);
  const MatrixXd z = Choice(std::vector<double>{5.0, 6.0}, {0.0, 1.0}).sample(100, 1, rng);
  EXPECT_TRUE((z.array() == 6.0).all());
}

TEST(Choice, VectorOptionsAndDimensionChecks) {
  Rng rng(8);
  MatrixXd opts(2, 3);
  opts << 1, 2, 3, 4, 5, 6;
  const Choice c(opts);
  const MatrixXd s = c.sample(50, 3, rng);
  for (Eigen::Index i = 0; i < s.rows(); ++i) {
    EXPECT_TRUE(s.row(i) == opts.row(0) || s.row(i) == opts.row(1));
  }
  EXPECT_THROW(c.sample(5, 2, rng), ValidationError);
  EXPECT_THROW(Choice(std::vector<double>{1.0, 2.0}).sample(5, 2, rng), ValidationError);
}

TEST(Choice, BadWeights) {
  EXPECT_THROW(Choice(std::vector<double>{1.0, 2.0}, {1.0}), ValidationError);
  EXPECT_THROW(Choice(std::vector<double>{1.0, 2.0}, {1.0, -1.0}), ValidationError);
  EXPECT_THROW(Choice(std::vector<double>{1.0, 2.0}, {0.0, 0.0}), ValidationError);
  EXPECT_THROW(Choice(std::vector<double>{}), ValidationError);
}

TEST(Samples, ReturnsGivenAndChecksShape) {
  Rng rng(9);
  MatrixXd m(3, 2);
  m << 1, 2, 3, 4, 5, 6;
  const Samples s(m);
  EXPECT_EQ(s.sample(3, 2, rng), m);
  EXPECT_THROW(s.sample(4, 2, rng), ValidationError);
  EXPECT_THROW(s.sample(3, 1, rng), ValidationError);
  MatrixXd row(1, 4);
  row << 1, 2, 3, 4;
  EXPECT_EQ(Samples(row).sample(4, 1, rng), row.transpose());
}

// ---- hyperspheres ------------------------------------------------------------------------

TEST(UniformHypersphere, SurfaceAndBall) {
  Rng rng(10);
  for (std::size_t d : {1u, 2u, 3u, 8u}) {
    const MatrixXd s = UniformHypersphere(true).sample(2000, d, rng);
    EXPECT_LT((s.rowwise().norm().array() - 1.0).abs().maxCoeff(), 1e-12) << d;
    const MatrixXd b = UniformHypersphere().sample(2000, d, rng);
    EXPECT_LE(b.rowwise().norm().maxCoeff(), 1.0 + 1e-12) << d;
  }
  // Radius distribution in 3-D: P(|x| < 0.5) = 0.125.
  const MatrixXd b = UniformHypersphere().sample(20000, 3, rng);
  const double frac = (b.rowwise().norm().array() < 0.5).cast<double>().mean();
  EXPECT_NEAR(frac, 0.125, 0.01);
  EXPECT_LT(b.colwise().mean().cwiseAbs().maxCoeff(), 0.02);
  const MatrixXd mm = UniformHypersphere(false, 0.6).sample(2000, 2, rng);
  EXPECT_GE(mm.rowwise().norm().minCoeff(), 0.6 - 1e-12);
  EXPECT_THROW(UniformHypersphere().sample(3, 0, rng), ValidationError);
  EXPECT_THROW(UniformHypersphere(false, 1.5), ValidationError);
}

TEST(QuasirandomSequence, RangeGridAndShuffle) {
  Rng rng(11);
  const MatrixXd q = QuasirandomSequence().sample(1000, 3, rng);
  EXPECT_GE(q.minCoeff(), 0.0);
  EXPECT_LT(q.maxCoeff(), 1.0);
  // Low discrepancy: column means are much closer to 1/2 than for random points.
  EXPECT_LT((q.colwise().mean().array() - 0.5).abs().maxCoeff(), 0.005);
  // Shuffled: the first column is not monotone.
  bool monotone = true;
  for (int i = 1; i < 20; ++i) monotone = monotone && q(i, 0) >= q(i - 1, 0);
  EXPECT_FALSE(monotone);
  // Each 1-D projection is evenly spread: every bin of width 1/10 holds ~100 points.
  for (Eigen::Index j = 0; j < 3; ++j) {
    std::vector<int> bins(10, 0);
    for (Eigen::Index i = 0; i < q.rows(); ++i) ++bins[static_cast<std::size_t>(q(i, j) * 10)];
    for (int b : bins) EXPECT_NEAR(b, 100, 6);  // random points: ~ +-30
  }
  // d = 1: an even grid with a random offset.
  MatrixXd g = QuasirandomSequence().sample(100, 1, rng);
  std::vector<double> v(g.data(), g.data() + g.size());
  std::sort(v.begin(), v.end());
  for (std::size_t i = 1; i < v.size(); ++i) EXPECT_NEAR(v[i] - v[i - 1], 0.01, 1e-12);
  EXPECT_GE(v.front(), 0.0);
  EXPECT_LT(v.front(), 0.01);
}

TEST(ScatteredHypersphere, SurfaceNormsAndBallNorms) {
  Rng rng(12);
  for (std::size_t d : {2u, 3u, 5u, 16u}) {
    const MatrixXd s = ScatteredHypersphere(true).sample(500, d, rng);
    ASSERT_EQ(s.rows(), 500);
    ASSERT_EQ(s.cols(), static_cast<Eigen::Index>(d));
    EXPECT_LT((s.rowwise().norm().array() - 1.0).abs().maxCoeff(), 1e-12) << d;
    const MatrixXd b = ScatteredHypersphere().sample(500, d, rng);
    EXPECT_LE(b.rowwise().norm().maxCoeff(), 1.0 + 1e-12) << d;
    EXPECT_TRUE(b.allFinite());
    const MatrixXd mm = ScatteredHypersphere(false, 0.5).sample(500, d, rng);
    EXPECT_GE(mm.rowwise().norm().minCoeff(), 0.5 - 1e-12) << d;
  }
  EXPECT_THROW(ScatteredHypersphere().sample(3, 0, rng), ValidationError);
}

TEST(ScatteredHypersphere, OneDimensionalCases) {
  Rng rng(13);
  const MatrixXd s = ScatteredHypersphere(true).sample(100, 1, rng);
  EXPECT_TRUE((s.array().abs() == 1.0).all());
  EXPECT_EQ((s.array() > 0).count(), 50);
  const MatrixXd b = ScatteredHypersphere().sample(101, 1, rng);
  EXPECT_LE(b.cwiseAbs().maxCoeff(), 1.0);
  EXPECT_EQ((b.array() < 0).count(), 51);  // n - n/2 negated
  // Magnitudes of each half form an even grid.
  std::vector<double> pos;
  for (Eigen::Index i = 0; i < b.rows(); ++i)
    if (b(i, 0) >= 0) pos.push_back(b(i, 0));
  std::sort(pos.begin(), pos.end());
  for (std::size_t i = 1; i < pos.size(); ++i) EXPECT_NEAR(pos[i] - pos[i - 1], 1.0 / 50, 1e-12);
  // Shuffled (not all positives first).
  bool first_half_positive = true;
  for (int i = 0; i < 50; ++i) first_half_positive = first_half_positive && b(i, 0) >= 0;
  EXPECT_FALSE(first_half_positive);
  const MatrixXd mm = ScatteredHypersphere(false, 0.3).sample(100, 1, rng);
  EXPECT_GE(mm.cwiseAbs().minCoeff(), 0.3);
}

TEST(ScatteredHypersphere, UniformOnSphere3D) {
  // Archimedes: the projection of a uniform point on S^2 onto any axis is uniform on
  // [-1, 1]. Kolmogorov-Smirnov distance of each coordinate must be small.
  Rng rng(14);
  const int n = 2000;
  const MatrixXd s = ScatteredHypersphere(true).sample(n, 3, rng);
  for (Eigen::Index j = 0; j < 3; ++j) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = s(i, j);
    std::sort(v.begin(), v.end());
    double ks = 0.0;
    for (int i = 0; i < n; ++i) {
      const double cdf = (v[static_cast<std::size_t>(i)] + 1.0) / 2.0;
      ks = std::max({ks, std::fabs(cdf - double(i) / n), std::fabs(cdf - double(i + 1) / n)});
    }
    EXPECT_LT(ks, 0.02) << j;
  }
}

TEST(ScatteredHypersphere, MomentsInHighDimensions) {
  // On S^(d-1): E[x_i^2] = 1/d, E[x_i^4] = 3 / (d (d + 2)) for every coordinate.
  Rng rng(15);
  const double d = 16;
  const MatrixXd s = ScatteredHypersphere(true).sample(4000, 16, rng);
  for (Eigen::Index j = 0; j < 16; ++j) {
    EXPECT_NEAR(s.col(j).array().square().mean(), 1.0 / d, 0.004) << j;
    EXPECT_NEAR(s.col(j).array().pow(4).mean(), 3.0 / (d * (d + 2)), 0.0015) << j;
  }
  // Ball: P(|x| <= r) = r^d.
  const MatrixXd b = ScatteredHypersphere().sample(4000, 4, rng);
  const VectorXd norms = b.rowwise().norm();
  for (double r : {0.5, 0.8, 0.9}) {
    const double frac = (norms.array() <= r).cast<double>().mean();
    EXPECT_NEAR(frac, std::pow(r, 4), 0.005) << r;
  }
}

TEST(ScatteredHypersphere, LowerDiscrepancyThanUniform) {
  // Mean of f(x) = exp(v.x) (|v| = 1) over 200 points on S^2; exact value sinh(1).
  const double exact = std::sinh(1.0);
  Eigen::Vector3d v(0.48, -0.6, 0.64);
  v.normalize();
  double err_scattered = 0.0, err_uniform = 0.0;
  const int seeds = 20;
  for (int seed = 0; seed < seeds; ++seed) {
    Rng r1(100 + seed), r2(100 + seed);
    const MatrixXd a = ScatteredHypersphere(true).sample(200, 3, r1);
    const MatrixXd b = UniformHypersphere(true).sample(200, 3, r2);
    err_scattered += std::fabs((a * v).array().exp().mean() - exact);
    err_uniform += std::fabs((b * v).array().exp().mean() - exact);
  }
  EXPECT_LT(err_scattered, 0.5 * err_uniform)
      << "scattered " << err_scattered / seeds << " uniform " << err_uniform / seeds;
  // Ball in 3-D: mean |x|^2 = 3/5.
  double eb_s = 0.0, eb_u = 0.0;
  for (int seed = 0; seed < seeds; ++seed) {
    Rng r1(200 + seed), r2(200 + seed);
    eb_s +=
        std::fabs(ScatteredHypersphere().sample(200, 3, r1).rowwise().squaredNorm().mean() - 0.6);
    eb_u += std::fabs(UniformHypersphere().sample(200, 3, r2).rowwise().squaredNorm().mean() - 0.6);
  }
  EXPECT_LT(eb_s, 0.5 * eb_u);
}

TEST(ScatteredHypersphere, Deterministic) {
  Rng a(7), b(7), c(8);
  const MatrixXd x = ScatteredHypersphere(true).sample(50, 4, a);
  EXPECT_EQ(x, ScatteredHypersphere(true).sample(50, 4, b));
  EXPECT_NE(x, ScatteredHypersphere(true).sample(50, 4, c));
}

TEST(RandomOrthogonal, IsOrthogonal) {
  Rng rng(16);
  for (std::size_t d : {1u, 2u, 5u, 16u, 64u}) {
    const MatrixXd q = random_orthogonal(d, rng);
    const auto n = static_cast<Eigen::Index>(d);
    EXPECT_LT((q.transpose() * q - MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_NEAR(std::fabs(q.determinant()), 1.0, 1e-10);
  }
  // Haar: the (0, 0) entry has mean 0 and variance 1/d.
  double s = 0.0, s2 = 0.0;
  for (int i = 0; i < 4000; ++i) {
    const double e = random_orthogonal(4, rng)(0, 0);
    s += e;
    s2 += e * e;
  }
  EXPECT_NEAR(s / 4000, 0.0, 0.03);
  EXPECT_NEAR(s2 / 4000, 0.25, 0.02);
}

// ---- DistOrArray and repr ---------------------------------------------------------------

TEST(DistOrArray, SamplesDistOrChecksArray) {
  Rng rng(17);
  const DistOrArray dist = Uniform(0, 1);
  EXPECT_TRUE(dist.is_dist());
  const MatrixXd s = dist.sample(4, 2, rng, "intercepts");
  EXPECT_EQ(s.rows(), 4);
  EXPECT_EQ(s.cols(), 2);

  MatrixXd m(3, 2);
  m << 1, 2, 3, 4, 5, 6;
  const DistOrArray arr = m;
  EXPECT_EQ(arr.sample(3, 2, rng, "encoders"), m);
  const std::string msg = error_message([&] { arr.sample(2, 2, rng, "encoders"); });
  EXPECT_NE(msg.find("encoders: expected shape (2, 2), got (3, 2)"), std::string::npos) << msg;
  EXPECT_THROW(arr.sample(3, 3, rng, "encoders"), ValidationError);

  const DistOrArray vec = std::vector<double>{1, 2, 3};
  EXPECT_EQ(vec.sample(3, 1, rng, "max_rates").col(0), Eigen::Vector3d(1, 2, 3));
  EXPECT_THROW(vec.sample(4, 1, rng, "max_rates"), ValidationError);
  const DistOrArray list = {4.0, 5.0};
  EXPECT_EQ(list.sample(2, 1, rng, "x").rows(), 2);
  MatrixXd row(1, 3);
  row << 1, 2, 3;
  EXPECT_EQ(DistOrArray(row).sample(3, 1, rng, "x"), row.transpose());

  const DistOrArray none;
  EXPECT_TRUE(none.empty());
  EXPECT_THROW(none.sample(1, 1, rng, "x"), ValidationError);
}

TEST(Repr, Forms) {
  EXPECT_EQ(Uniform(-1, 0.9).repr(), "Uniform(low=-1, high=0.9)");
  EXPECT_EQ(Uniform(0, 5, true).repr(), "Uniform(low=0, high=5, integer=True)");
  EXPECT_EQ(Gaussian(0, 1).repr(), "Gaussian(mean=0, std=1)");
  EXPECT_EQ(Exponential(0.5).repr(), "Exponential(scale=0.5)");
  EXPECT_EQ(Exponential(1, 2, 3).repr(), "Exponential(scale=1, shift=2, high=3)");
  EXPECT_EQ(Choice(std::vector<double>{1, 2}).repr(), "Choice(options=[1, 2])");
  EXPECT_EQ(Choice(std::vector<double>{1, 2}, {1, 3}).repr(),
            "Choice(options=[1, 2], weights=[0.25, 0.75])");
  EXPECT_EQ(UniformHypersphere().repr(), "UniformHypersphere()");
  EXPECT_EQ(UniformHypersphere(true).repr(), "UniformHypersphere(surface=True)");
  EXPECT_EQ(ScatteredHypersphere(true).repr(), "ScatteredHypersphere(surface=True)");
  EXPECT_EQ(ScatteredHypersphere(false, 0.2).repr(), "ScatteredHypersphere(min_magnitude=0.2)");
  EXPECT_EQ(QuasirandomSequence().repr(), "QuasirandomSequence()");
  EXPECT_EQ(DistOrArray(Gaussian(1, 2)).repr(), "Gaussian(mean=1, std=2)");
  EXPECT_EQ(DistOrArray().repr(), "None");
  EXPECT_EQ(DistOrArray(std::vector<double>{1, 2}).repr(), "array([1, 2])");
}

}  // namespace
}  // namespace myelin
