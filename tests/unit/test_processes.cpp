// Unit tests for processes (spec §9): WhiteSignal construction and statistics, noise
// processes, PresentInput indexing, Piecewise interpolation, FunctionProcess, standalone runs.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <unsupported/Eigen/FFT>

#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "myelin/distributions.hpp"
#include "myelin/errors.hpp"
#include "myelin/processes.hpp"
#include "myelin/synapses.hpp"
#include "test_util.hpp"

namespace myelin {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kDt = 0.001;

template <class F>
std::string error_message(F&& f) {
  return test::error_message<ValidationError>(std::forward<F>(f));
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ---- WhiteSignal ----------------------------------------------------------------------

TEST(ProcessWhiteSignal, BandLimited) {
  const double period = 1.0, high = 10.0;
  const std::size_t N = 1000;  // 2K, K = ceil(period / (2 dt))
  const MatrixXd y = WhiteSignal(period, high).run_steps(N, kDt, 3, 7);
  Eigen::FFT<double> fft;
  for (Index d = 0; d < y.cols(); ++d) {
    std::vector<double> x(N);
    for (std::size_t m = 0; m < N; ++m) x[m] = y(Index(m), d);
    std::vector<std::complex<double>> X;
    fft.fwd(X, x);
    double in_band = 0, out_band = 0;
    for (std::size_t k = 0; k <= N / 2; ++k) {
      const double freq = double(k) / (double(N) * kDt);
      (freq > high ? out_band : in_band) += std::norm(X[k]);
    }
    EXPECT_GT(in_band, 0.0);
    EXPECT_LT(out_band, 1e-20 * in_band) << "dimension " << d;
    EXPECT_LT(std::abs(X[0]), 1e-9) << "DC must be zero";
  }
}

/// Spec §9 construction written out with Eigen's inverse real FFT, drawing the coefficients
/// in the documented order (all imaginary parts, then all real parts, coefficient-major).
MatrixXd white_signal_reference(double period, double high, double rms, double dt, std::size_t d,
                                std::uint64_t seed, std::size_t steps) {
  const auto K = static_cast<std::size_t>(std::ceil(period / dt / 2.0));
  const std::size_t N = 2 * K;
  Rng rng(seed);
  const double sigma = rms / std::sqrt(2.0);
  std::vector<std::complex<double>> c((K + 1) * d);
  for (auto& v : c) v.imag(rng.normal(0.0, sigma));
  for (auto& v : c) v.real(rng.normal(0.0, sigma));
  std::size_t n_zeroed = 0;
  for (std::size_t k = 0; k <= K; ++k) n_zeroed += double(k) / (double(N) * dt) > high;
  const double scale = std::sqrt(double(N)) / std::sqrt(1.0 - double(n_zeroed) / double(K));
  Eigen::FFT<double> fft;
  MatrixXd out(static_cast<Index>(steps), static_cast<Index>(d));
  for (std::size_t j = 0; j < d; ++j) {
    std::vector<std::complex<double>> spec(K + 1);
    for (std::size_t k = 0; k <= K; ++k) {
      std::complex<double> v = c[k * d + j];
      if (k == 0 || double(k) / (double(N) * dt) > high) v = 0.0;
      if (k == K) v.imag(0.0);
      spec[k] = scale * v;
    }
    std::vector<double> x(N);
    fft.inv(x.data(), spec.data(), Index(N));
    for (std::size_t n = 1; n <= steps; ++n) out(Index(n - 1), Index(j)) = x[n % N];
  }
  return out;
}

TEST(ProcessWhiteSignal, MatchesSpecConstruction) {
  // narrow band (few kept coefficients: summed directly), wide band (inverse FFT), and a
  // length 2K = 2 * 997 with a large prime factor
  struct Case {
    double period, high;
  };
  for (const Case& c : {Case{1.0, 5.0}, Case{1.0, 200.0}, Case{0.25, 500.0}, Case{1.9935, 5.0},
                        Case{1.9935, 300.0}}) {
    const MatrixXd y = WhiteSignal(c.period, c.high, 0.7).run_steps(2500, kDt, 3, 17);
    const MatrixXd ref = white_signal_reference(c.period, c.high, 0.7, kDt, 3, 17, 2500);
    EXPECT_LT((y - ref).cwiseAbs().maxCoeff(), 1e-12) << c.period << " " << c.high;
  }
}

TEST(ProcessWhiteSignal, RmsAveragedOverSeeds) {
  // period 10 s, high 5 Hz, dt 1 ms: M = 50 kept coefficients (k/10 Hz <= 5 Hz). The
  // per-period mean square is rms^2 * chi2(2M)/(2M): relative std 1/sqrt(M) = 0.14 per
  // realisation (RMS 0.5 +- ~0.035, matching the 0.39-0.55 range of spec §9). Averaging S
  // independent realisations, the mean square has relative std 1/sqrt(M S); allow 4 sigma.
  const double rms = 0.5;
  const int M = 50, dims = 4, seeds = 8, S = dims * seeds;
  const std::size_t N = 10000;
  double ms_sum = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    const MatrixXd y = WhiteSignal(10.0, 5.0, rms).run_steps(N, kDt, dims, 100 + seed);
    for (Index d = 0; d < dims; ++d) {
      const double ms = y.col(d).squaredNorm() / double(N);
      const double r = std::sqrt(ms);
      EXPECT_GT(r, 0.3);  // a single realisation: > 5 sigma from 0.5
      EXPECT_LT(r, 0.7);
      ms_sum += ms;
    }
  }
  const double mean_ms = ms_sum / S;
  const double tol = 4.0 / std::sqrt(double(M) * S);
  EXPECT_NEAR(mean_ms / (rms * rms), 1.0, tol);
}

TEST(ProcessWhiteSignal, ExactlyPeriodicWithZeroMean) {
  // period 0.0995 s -> K = ceil(49.75) = 50, so the actual period is 2K = 100 steps
  const WhiteSignal ws(0.0995, 20.0, 0.3);
  const std::size_t N = 100;
  const MatrixXd y = ws.run_steps(2 * N + 7, kDt, 2, 3);
  for (Index n = 0; n + Index(N) < y.rows(); ++n) {
    EXPECT_EQ(y.row(n), y.row(n + Index(N))) << n;
  }
  EXPECT_NE(y.row(0), y.row(99));
  for (Index d = 0; d < 2; ++d) {
    EXPECT_NEAR(y.col(d).head(N).mean(), 0.0, 1e-15);
  }
  // the output is a pure function of the step index (round(t/dt) mod 2K): a shorter run
  // with the same seed is a prefix
  const MatrixXd z = ws.run_steps(N, kDt, 2, 3);
  EXPECT_EQ(z, y.topRows(N));
}

TEST(ProcessWhiteSignal, Y0StartsClosestAndRotates) {
  const std::size_t N = 1000;
  const MatrixXd base = WhiteSignal(1.0, 5.0, 0.5).run_steps(N, kDt, 2, 42);
  const MatrixXd shifted = WhiteSignal(1.0, 5.0, 0.5, 0.2).run_steps(N, kDt, 2, 42);
  for (Index d = 0; d < 2; ++d) {
    const double first = shifted(0, d);
    EXPECT_NEAR((base.col(d).array() - 0.2).abs().minCoeff(), std::abs(first - 0.2), 0.0);
    // shifted is a rotation of base
    Index start = -1;
    for (Index n = 0; n < Index(N); ++n)
      if (base(n, d) == first) start = n;
    ASSERT_GE(start, 0);
    for (Index n = 0; n < Index(N); ++n) {
      EXPECT_EQ(shifted(n, d), base((start + n) % Index(N), d));
    }
  }
}

TEST(ProcessWhiteSignal, Validation) {
  // high above the Nyquist frequency for this dt
  const WhiteSignal ws(1.0, 600.0);
  Rng rng(0);
  const std::string msg = error_message([&] { ws.make_step(0, 1, kDt, rng); });
  EXPECT_TRUE(contains(msg, "600")) << msg;
  EXPECT_TRUE(contains(msg, "500")) << msg;
  EXPECT_NO_THROW(ws.make_step(0, 1, 0.0005, rng));
  // high below 1/period
  const std::string m2 = error_message([] { WhiteSignal(2.0, 0.4); });
  EXPECT_TRUE(contains(m2, "0.4") && contains(m2, "0.5")) << m2;
  EXPECT_NO_THROW(WhiteSignal(2.0, 0.5));
  EXPECT_THROW(WhiteSignal(1.0, 5.0, 0.0), ValidationError);
  EXPECT_THROW(WhiteSignal(1.0, 5.0, -1.0), ValidationError);
  EXPECT_THROW(WhiteSignal(0.0, 5.0), ValidationError);
  EXPECT_THROW(WhiteSignal(-1.0, 5.0), ValidationError);
  // wrong sizes name the process and the sizes
  const std::string m3 = error_message([&] { WhiteSignal(1.0, 5.0).make_step(2, 1, kDt, rng); });
  EXPECT_TRUE(contains(m3, "WhiteSignal(period=1, high=5, rms=0.5)")) << m3;
  EXPECT_TRUE(contains(m3, "size_in") && contains(m3, "2")) << m3;
  EXPECT_THROW(WhiteSignal(1.0, 5.0).make_step(0, 0, kDt, rng), ValidationError);
  EXPECT_EQ(WhiteSignal(WhiteSignal::Options{.period = 2, .high = 3, .y0 = 0.5}).repr(),
            "WhiteSignal(period=2, high=3, rms=0.5, y0=0.5)");
}

// ---- noise ----------------------------------------------------------------------------

TEST(ProcessWhiteNoise, ScaledStd) {
  // n samples: the sample std has relative std ~1/sqrt(2n) = 0.5%; allow 4 sigma (2%).
  const Index n = 20000;
  const MatrixXd y = WhiteNoise().run_steps(std::size_t(n), kDt, 1, 5);
  const double mean = y.mean();
  const double sd = std::sqrt((y.array() - mean).square().sum() / double(n - 1));
  const double expect = 1.0 / std::sqrt(kDt);
  EXPECT_NEAR(sd / expect, 1.0, 4.0 / std::sqrt(2.0 * double(n)));
  EXPECT_NEAR(mean, 0.0, 4.0 * expect / std::sqrt(double(n)));

  const MatrixXd u = WhiteNoise(nullptr, false).run_steps(std::size_t(n), kDt, 1, 5);
  EXPECT_LT((u * expect - y).cwiseAbs().maxCoeff(), 1e-9);  // same draws, unscaled

  const MatrixXd g =
      WhiteNoise(std::make_shared<Gaussian>(1.0, 2.0), false).run_steps(std::size_t(n), kDt, 1, 6);
  const double gm = g.mean();
  const double gsd = std::sqrt((g.array() - gm).square().sum() / double(n - 1));
  EXPECT_NEAR(gsd / 2.0, 1.0, 4.0 / std::sqrt(2.0 * double(n)));
  EXPECT_NEAR(gm, 1.0, 4.0 * 2.0 / std::sqrt(double(n)));
}

TEST(ProcessWhiteNoise, Deterministic) {
  const WhiteNoise wn;
  const MatrixXd a = wn.run_steps(100, kDt, 3, 9);
  const MatrixXd b = wn.run_steps(100, kDt, 3, 9);
  const MatrixXd c = wn.run_steps(100, kDt, 3, 10);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  WhiteNoise seeded;
  seeded.seed = 9;  // the process's own seed wins over the run's rng_seed
  EXPECT_EQ(seeded.run_steps(100, kDt, 3, 12345), a);
  // different dimensions get different samples
  EXPECT_NE(a.col(0), a.col(1));
  // WhiteSignal too
  const WhiteSignal ws(1.0, 5.0);
  EXPECT_EQ(ws.run(0.5, kDt, 2, 1), ws.run(0.5, kDt, 2, 1));
  EXPECT_NE(ws.run(0.5, kDt, 2, 1), ws.run(0.5, kDt, 2, 2));
}

TEST(ProcessFilteredNoise, IsFilteredWhiteNoise) {
  const FilteredNoise fn;
  EXPECT_EQ(fn.repr(),
            "FilteredNoise(synapse=Lowpass(tau=0.005), dist=Gaussian(mean=0, std=1), scale=True)");
  const MatrixXd y = fn.run_steps(300, kDt, 2, 4);
  const MatrixXd w = WhiteNoise().run_steps(300, kDt, 2, 4);
  const MatrixXd ref = Lowpass(0.005).filt(w, kDt);
  EXPECT_LT((y - ref).cwiseAbs().maxCoeff(), 1e-10);
  const FilteredNoise fa(std::make_shared<Alpha>(0.01));
  const MatrixXd ya = fa.run_steps(300, kDt, 2, 4);
  EXPECT_LT((ya - Alpha(0.01).filt(w, kDt)).cwiseAbs().maxCoeff(), 1e-10);
}

TEST(ProcessBrownNoise, VarianceGrowsByDtPerStep) {
  // 4000 independent walks: the sample variance has relative std sqrt(2/4000) = 2.2%;
  // allow 4 sigma.
  const std::size_t dims = 4000, steps = 100;
  const MatrixXd y = BrownNoise().run_steps(steps, kDt, dims, 3);
  const double tol = 4.0 * std::sqrt(2.0 / double(dims));
  for (std::size_t n : {std::size_t(1), std::size_t(10), steps}) {
    const VectorXd row = y.row(Index(n - 1)).transpose();
    const double var = row.squaredNorm() / double(dims);
    EXPECT_NEAR(var / (double(n) * kDt), 1.0, tol) << n;
  }
  // it is the running sum of sqrt(dt)-scaled white noise
  const MatrixXd w = WhiteNoise().run_steps(20, kDt, 2, 8);
  const MatrixXd b = BrownNoise().run_steps(20, kDt, 2, 8);
  VectorXd acc = VectorXd::Zero(2);
  for (Index n = 0; n < 20; ++n) {
    acc += kDt * w.row(n).transpose();
    EXPECT_NEAR(b(n, 0), acc(0), 1e-12);
    EXPECT_NEAR(b(n, 1), acc(1), 1e-12);
  }
}

// ---- PresentInput ---------------------------------------------------------------------

MatrixXd items() {
  MatrixXd in(3, 2);
  in << 1, 10, 2, 20, 3, 30;
  return in;
}

TEST(ProcessPresentInput, Indexing) {
  const PresentInput pi(items(), 0.1);
  ASSERT_EQ(pi.default_size_out(), std::optional<std::size_t>(2));
  const MatrixXd y = pi.run(0.7, kDt);  // size_out from default_size_out
  ASSERT_EQ(y.rows(), 700);
  ASSERT_EQ(y.cols(), 2);
  for (Index n = 1; n <= 700; ++n) {
    const Index item = ((n - 1) / 100) % 3;  // step 1 shows item 0, step 101 item 1, ...
    EXPECT_EQ(y(n - 1, 0), double(item + 1)) << n;
    EXPECT_EQ(y(n - 1, 1), 10.0 * double(item + 1)) << n;
  }
}

TEST(ProcessPresentInput, FractionalPresentationTime) {
  // pt = 2.5 dt: index floor((n - 1) dt / pt + 1e-7) = floor(0.4 (n - 1) + 1e-7) mod 3
  const PresentInput pi(items(), 0.0025);
  const MatrixXd y = pi.run_steps(12, kDt);
  const int expect[] = {0, 0, 0, 1, 1, 2, 2, 2, 0, 0, 1, 1};
  for (Index n = 0; n < 12; ++n) EXPECT_EQ(y(n, 0), double(expect[n] + 1)) << "step " << n + 1;
  // an exact multiple computed with rounding error still switches on time (the 1e-7 guard)
  const MatrixXd z = PresentInput(items(), 0.003).run_steps(10, kDt);
  const int ez[] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 0};
  for (Index n = 0; n < 10; ++n) EXPECT_EQ(z(n, 0), double(ez[n] + 1)) << "step " << n + 1;
}

TEST(ProcessPresentInput, Validation) {
  Rng rng(0);
  const PresentInput pi(items(), 0.1);
  const std::string m = error_message([&] { pi.make_step(0, 3, kDt, rng); });
  EXPECT_TRUE(contains(m, "PresentInput(") && contains(m, "3") && contains(m, "2")) << m;
  EXPECT_THROW(pi.make_step(1, 2, kDt, rng), ValidationError);
  EXPECT_THROW(PresentInput(items(), 0.0), ValidationError);
  EXPECT_THROW(PresentInput(MatrixXd(0, 2), 0.1), ValidationError);
}

// ---- Piecewise ------------------------------------------------------------------------

TEST(ProcessPiecewise, ZeroInterpolation) {
  const Piecewise pw({{0.2, {1.0, -1.0}}, {0.5, {2.0, -2.0}}});
  ASSERT_EQ(pw.default_size_out(), std::optional<std::size_t>(2));
  const MatrixXd y = pw.run(0.6, kDt);
  for (Index n = 1; n <= 600; ++n) {
    const double t = double(n) * kDt;
    // value of the last key <= t + dt/2; zeros before the first key
    const double expect = t + kDt / 2 >= 0.5 ? 2.0 : (t + kDt / 2 >= 0.2 ? 1.0 : 0.0);
    EXPECT_EQ(y(n - 1, 0), expect) << n;
    EXPECT_EQ(y(n - 1, 1), -expect) << n;
  }
  EXPECT_EQ(y(198, 0), 0.0);  // t = 0.199
  EXPECT_EQ(y(199, 0), 1.0);  // t = 0.200
  // a key at 0 is visible from the first step
  const MatrixXd z = Piecewise({{0.0, {3.0}}}).run_steps(3, kDt);
  EXPECT_EQ(z, MatrixXd::Constant(3, 1, 3.0));
}

TEST(ProcessPiecewise, LinearAndNearest) {
  const Piecewise lin({{0.0, {0.0}}, {0.1, {1.0}}, {0.2, {-1.0}}}, "linear");
  const MatrixXd y = lin.run(0.25, kDt);
  for (Index n = 1; n <= 250; ++n) {
    const double t = double(n) * kDt;
    double expect = 0.0;  // zero outside the keys
    if (t <= 0.1) {
      expect = t / 0.1;
    } else if (t <= 0.2) {
      expect = 1.0 - 2.0 * (t - 0.1) / 0.1;
    }
    EXPECT_NEAR(y(n - 1, 0), expect, 1e-9) << n;
  }
  const Piecewise near({{0.0, {0.0}}, {0.0105, {1.0}}}, "nearest");  // midpoint 0.00525
  const MatrixXd z = near.run(0.012, kDt);
  for (Index n = 1; n <= 12; ++n) {
    const double expect = n <= 5 ? 0.0 : (n <= 10 ? 1.0 : 0.0);
    EXPECT_EQ(z(n - 1, 0), expect) << n;
  }
}

TEST(ProcessPiecewise, FunctionValues) {
  std::map<double, Piecewise::Value> data;
  data[0.0] = [](double t) { return std::vector<double>{t, 1.0}; };
  data[0.005] = [](double t) { return std::vector<double>{-t, 2.0}; };
  const Piecewise pw(data, 2);
  const MatrixXd y = pw.run_steps(8, kDt);
  for (Index n = 1; n <= 8; ++n) {
    const double t = double(n) * kDt;
    if (n < 5) {
      EXPECT_EQ(y(n - 1, 0), t);
      EXPECT_EQ(y(n - 1, 1), 1.0);
    } else {
      EXPECT_EQ(y(n - 1, 0), -t);
      EXPECT_EQ(y(n - 1, 1), 2.0);
    }
  }
  EXPECT_THROW(Piecewise(data, 3), ValidationError);  // functions return size 2
}

TEST(ProcessPiecewise, Validation) {
  const std::string m = error_message([] { Piecewise({{0.0, {1.0}}, {1.0, {1.0, 2.0}}}); });
  EXPECT_TRUE(contains(m, "size")) << m;
  const std::string m2 = error_message([] { Piecewise({{0.0, {1.0}}}, "cubic_spline"); });
  EXPECT_TRUE(contains(m2, "cubic_spline")) << m2;
  EXPECT_THROW(Piecewise(std::map<double, std::vector<double>>{}), ValidationError);
  EXPECT_THROW(Piecewise({{0.0, {}}}), ValidationError);
  Rng rng(0);
  const Piecewise pw({{0.0, {1.0}}});
  const std::string m3 = error_message([&] { pw.make_step(0, 2, kDt, rng); });
  EXPECT_TRUE(contains(m3, "Piecewise(") && contains(m3, "2")) << m3;
}

// ---- FunctionProcess and standalone helpers ------------------------------------------

TEST(ProcessFunction, CustomDynamicsWithApply) {
  // a leaky integrator of its input, written without subclassing
  const FunctionProcess fp(
      [](std::size_t size_in, std::size_t, double dt, Rng&) -> FunctionProcess::StepFn {
        auto state = std::make_shared<std::vector<double>>(size_in, 0.0);
        return [state, dt](double, std::span<const double> x, std::span<double> out) {
          for (std::size_t i = 0; i < x.size(); ++i) {
            (*state)[i] += dt * x[i];
            out[i] = (*state)[i];
          }
        };
      },
      std::nullopt, 2, "Integrator");
  EXPECT_EQ(fp.repr(), "Integrator");
  const MatrixXd x = MatrixXd::Ones(10, 2);
  const MatrixXd y = fp.apply(x, kDt);
  ASSERT_EQ(y.rows(), 10);
  ASSERT_EQ(y.cols(), 2);
  EXPECT_NEAR(y(9, 0), 10 * kDt, 1e-15);
  const std::string m = error_message([&] { fp.apply(MatrixXd::Ones(10, 3), kDt); });
  EXPECT_TRUE(contains(m, "Integrator") && contains(m, "3")) << m;
}

TEST(ProcessFunction, TimeAndRng) {
  const FunctionProcess fp(
      [](std::size_t, std::size_t, double, Rng& rng) -> FunctionProcess::StepFn {
        return [&rng](double t, std::span<const double>, std::span<double> out) {
          out[0] = t;
          out[1] = rng.uniform();
        };
      },
      2);
  const MatrixXd y = fp.run(0.005, kDt, std::nullopt, 3);
  ASSERT_EQ(y.rows(), 5);
  for (Index n = 0; n < 5; ++n) EXPECT_DOUBLE_EQ(y(n, 0), double(n + 1) * kDt);
  EXPECT_EQ(fp.run(0.005, kDt, std::nullopt, 3), y);
  EXPECT_NE(fp.run(0.005, kDt, std::nullopt, 4), y);
  Rng rng(0);
  EXPECT_THROW(fp.make_step(0, 3, kDt, rng), ValidationError);
  EXPECT_THROW(FunctionProcess(nullptr), ValidationError);
}

TEST(ProcessStandalone, RunLengthsAndTrange) {
  const VectorXd t = Process::trange(0.01, kDt);
  ASSERT_EQ(t.size(), 10);
  EXPECT_DOUBLE_EQ(t(0), kDt);
  EXPECT_DOUBLE_EQ(t(9), 0.01);
  EXPECT_EQ(WhiteNoise().run(0.0104, kDt).rows(), 10);  // round(T/dt)
  EXPECT_EQ(WhiteNoise().run(0.0106, kDt).rows(), 11);
  EXPECT_EQ(WhiteNoise().run(0.01, kDt).cols(), 1);  // default size_out 1
  EXPECT_THROW(WhiteNoise().run(-1.0, kDt), ValidationError);
  EXPECT_THROW(WhiteNoise().run(1.0, 0.0), ValidationError);
}

}  // namespace
}  // namespace myelin
