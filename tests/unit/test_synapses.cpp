// Unit tests for synapses (spec §7): discretisation, golden impulse responses, closed forms,
// FilterBank against hand-stepped state space, offline filt / filtfilt, validation.
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <cmath>
#include <string>
#include <vector>

#include "myelin/errors.hpp"
#include "myelin/rng.hpp"
#include "myelin/synapses.hpp"

namespace myelin {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kDt = 0.001;

MatrixXd impulse(Index n, double dt = kDt) {
  MatrixXd u = MatrixXd::Zero(n, 1);
  u(0, 0) = 1.0 / dt;
  return u;
}

MatrixXd random_signal(Index n, Index channels, std::uint64_t seed) {
  Rng rng(seed);
  MatrixXd u(n, channels);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < channels; ++j) u(i, j) = rng.normal();
  return u;
}

/// Reference stepping of a DiscreteFilter in double precision, written from spec §7.
MatrixXd step_by_hand(const DiscreteFilter& f, const MatrixXd& u) {
  MatrixXd y(u.rows(), u.cols());
  for (Index c = 0; c < u.cols(); ++c) {
    if (f.kind == DiscreteFilter::Kind::Identity) {
      y.col(c) = u.col(c);
      continue;
    }
    if (f.kind == DiscreteFilter::Kind::Lowpass) {
      double s = 0.0;
      for (Index n = 0; n < u.rows(); ++n) {
        s = f.a * s + f.b * u(n, c);
        y(n, c) = s;
      }
      continue;
    }
    VectorXd x = VectorXd::Zero(static_cast<Index>(f.order()));
    for (Index n = 0; n < u.rows(); ++n) {
      if (f.order() == 0) {
        y(n, c) = f.D * u(n, c);
      } else if (f.D == 0.0) {
        x = f.A * x + f.B * u(n, c);  // x[n] = A x[n-1] + B u[n]
        y(n, c) = f.C.dot(x);         // y[n] = C x[n]
      } else {
        y(n, c) = f.C.dot(x) + f.D * u(n, c);
        x = f.A * x + f.B * u(n, c);
      }
    }
  }
  return y;
}

MatrixXd run_bank(const DiscreteFilter& f, const MatrixXd& u) {
  FilterBank bank(f, static_cast<std::size_t>(u.cols()));
  MatrixXd y(u.rows(), u.cols());
  std::vector<float> in(static_cast<std::size_t>(u.cols())), out(in.size());
  for (Index n = 0; n < u.rows(); ++n) {
    for (Index c = 0; c < u.cols(); ++c) in[static_cast<std::size_t>(c)] = float(u(n, c));
    bank.step(in.data(), out.data());
    for (Index c = 0; c < u.cols(); ++c) y(n, c) = out[static_cast<std::size_t>(c)];
  }
  return y;
}

/// Polynomial with the given real roots (highest power first).
std::vector<double> poly_from_roots(const std::vector<double>& roots) {
  std::vector<double> p{1.0};
  for (double r : roots) {
    std::vector<double> q(p.size() + 1, 0.0);
    for (std::size_t i = 0; i < p.size(); ++i) {
      q[i] += p[i];
      q[i + 1] -= r * p[i];
    }
    p = q;
  }
  return p;
}

/// A random stable third-order filter (poles in [-300, -20] rad/s, DC gain 1).
LinearFilter random_third_order(std::uint64_t seed, bool proper) {
  Rng rng(seed);
  std::vector<double> den =
      poly_from_roots({-rng.uniform(20, 300), -rng.uniform(20, 300), -rng.uniform(20, 300)});
  std::vector<double> num;
  if (proper) {
    num = {rng.uniform(0.2, 1.0), rng.uniform(-50, 50), rng.uniform(100, 1000), 0.0};
  } else {
    num = {rng.uniform(-1, 1), rng.uniform(100, 1000), 0.0};
  }
  num.back() = den.back();  // DC gain 1
  return LinearFilter(num, den);
}

// ---- golden values and closed forms ---------------------------------------------------

TEST(SynapseLowpass, GoldenImpulseResponse) {
  const MatrixXd y = Lowpass(0.005).filt(impulse(5), kDt);
  const double golden[] = {181.269, 148.411, 121.508, 99.483, 81.450};
  for (Index i = 0; i < 5; ++i) EXPECT_NEAR(y(i, 0), golden[i], 1e-3 * golden[i]) << i;
  for (Index i = 0; i < 5; ++i) EXPECT_NEAR(y(i, 0), golden[i], 6e-4) << i;  // 3 decimals
}

TEST(SynapseAlpha, GoldenImpulseResponse) {
  const MatrixXd y = Alpha(0.005).filt(impulse(5), kDt);
  const double golden[] = {17.523, 44.029, 60.349, 69.306, 73.033};
  for (Index i = 0; i < 5; ++i) EXPECT_NEAR(y(i, 0), golden[i], 1e-3 * golden[i]) << i;
  for (Index i = 0; i < 5; ++i) EXPECT_NEAR(y(i, 0), golden[i], 6e-4) << i;
}

TEST(SynapseLowpass, ClosedForm) {
  const double tau = 0.005, a = std::exp(-kDt / tau);
  const MatrixXd u = random_signal(300, 2, 1);
  const MatrixXd y = Lowpass(tau).filt(u, kDt);
  for (Index c = 0; c < 2; ++c) {
    double prev = 0.0;
    for (Index n = 0; n < u.rows(); ++n) {
      const double expect = a * prev + (1 - a) * u(n, c);
      EXPECT_NEAR(y(n, c), expect, 1e-13);
      prev = expect;
    }
  }
}

TEST(SynapseAlpha, ClosedForm) {
  for (double tau : {0.002, 0.005, 0.05}) {
    const double a = std::exp(-kDt / tau), rho = kDt / tau;
    const MatrixXd u = random_signal(400, 1, 2);
    const MatrixXd y = Alpha(tau).filt(u, kDt);
    double y1 = 0, y2 = 0, u1 = 0;
    for (Index n = 0; n < u.rows(); ++n) {
      const double un = u(n, 0);
      const double expect =
          2 * a * y1 - a * a * y2 + (1 - a - rho * a) * un + (a * a - a + rho * a) * u1;
      EXPECT_NEAR(y(n, 0), expect, 1e-11 * (1 + std::abs(expect))) << "tau=" << tau << " n=" << n;
      y2 = y1;
      y1 = expect;
      u1 = un;
    }
  }
}

TEST(SynapseLowpass, StepResponseStartsWithoutDelay) {
  // The filter itself outputs 0.1813 on its first step (the simulator adds the one-step
  // delay of spec §1.2, giving 0, 0.1813, 0.3297, 0.4512 at a post object).
  const MatrixXd y = Lowpass(0.005).filt(MatrixXd::Ones(3, 1), kDt);
  EXPECT_NEAR(y(0, 0), 0.1813, 5e-5);
  EXPECT_NEAR(y(1, 0), 0.3297, 5e-5);
  EXPECT_NEAR(y(2, 0), 0.4512, 5e-5);
  EXPECT_NEAR(y(0, 0), 1 - std::exp(-0.2), 1e-15);

  FilterBank bank(Lowpass(0.005).discretize(kDt), 1);
  float u = 1.f, out = 0.f;
  bank.step(&u, &out);
  EXPECT_NEAR(out, 0.1813, 5e-5);
}

TEST(SynapseLowpass, ZohVersusEuler) {
  const DiscreteFilter zoh = Lowpass(0.005).discretize(kDt);
  EXPECT_EQ(zoh.kind, DiscreteFilter::Kind::Lowpass);
  EXPECT_NEAR(zoh.a, 0.8187, 5e-5);
  EXPECT_DOUBLE_EQ(zoh.a, std::exp(-0.2));
  EXPECT_DOUBLE_EQ(zoh.b, 1 - std::exp(-0.2));

  Lowpass lp(0.005);
  lp.method = "euler";
  const DiscreteFilter euler = lp.discretize(kDt);
  EXPECT_EQ(euler.kind, DiscreteFilter::Kind::Lowpass);
  EXPECT_NEAR(euler.a, 0.8, 1e-14);
  EXPECT_NEAR(euler.b, 0.2, 1e-14);

  // A general LinearFilter with the same transfer function gives the same numbers.
  const DiscreteFilter g = LinearFilter({1}, {0.005, 1}).discretize(kDt);
  EXPECT_EQ(g.kind, DiscreteFilter::Kind::Lowpass);
  EXPECT_NEAR(g.a, zoh.a, 1e-14);
  EXPECT_NEAR(g.b, zoh.b, 1e-14);
}

TEST(SynapseLinearFilter, OtherDiscretisations) {
  const double tau = 0.005, r = kDt / tau;
  const DiscreteFilter bil = LinearFilter({1}, {tau, 1}, true, "bilinear").discretize(kDt);
  ASSERT_EQ(bil.kind, DiscreteFilter::Kind::General);
  EXPECT_NEAR(bil.A(0, 0), (1 - r / 2) / (1 + r / 2), 1e-14);
  EXPECT_NEAR(bil.D, (r / 2) / (1 + r / 2), 1e-14);
  const DiscreteFilter tus = LinearFilter({1}, {tau, 1}, true, "tustin").discretize(kDt);
  const DiscreteFilter gbt = LinearFilter({1}, {tau, 1}, true, "gbt", 0.5).discretize(kDt);
  EXPECT_NEAR(tus.A(0, 0), bil.A(0, 0), 1e-15);
  EXPECT_NEAR(gbt.A(0, 0), bil.A(0, 0), 1e-15);
  EXPECT_NEAR(gbt.D, bil.D, 1e-15);

  const DiscreteFilter bwd = LinearFilter({1}, {tau, 1}, true, "backward_diff").discretize(kDt);
  EXPECT_NEAR(bwd.A(0, 0), 1 / (1 + r), 1e-14);

  // Every method keeps unit DC gain: a long constant input settles at 1.
  for (const char* m : {"zoh", "bilinear", "euler", "backward_diff", "gbt"}) {
    const MatrixXd y = LinearFilter({1}, {tau, 1}, true, m, 0.3).filt(MatrixXd::Ones(400, 1), kDt);
    EXPECT_NEAR(y(399, 0), 1.0, 1e-9) << m;
  }
}

TEST(SynapseLinearFilter, DigitalCoefficients) {
  const double a = std::exp(-0.2);
  const MatrixXd u = random_signal(100, 1, 3);
  const MatrixXd y1 = LinearFilter({1 - a}, {1, -a}, false).filt(u, kDt);
  const MatrixXd y2 = Lowpass(0.005).filt(u, kDt);
  EXPECT_LT((y1 - y2).cwiseAbs().maxCoeff(), 1e-13);
  // analog = false ignores dt for the coefficients
  const MatrixXd y3 = LinearFilter({1 - a}, {1, -a}, false).filt(u, 0.01);
  EXPECT_LT((y1 - y3).cwiseAbs().maxCoeff(), 1e-13);
}

TEST(SynapseLinearFilter, ZohMatchesFineContinuousIntegration) {
  // Independent check of tf2ss + matrix exponential: integrate the same transfer function in
  // observable canonical form with RK4 under a zero-order-held input. With the "input
  // advanced one step" convention, y[n] is the continuous output at the end of the interval
  // over which u[n] was held.
  for (bool proper : {false, true}) {
    const LinearFilter lf = random_third_order(11, proper);
    const MatrixXd u = random_signal(60, 1, 4);
    const MatrixXd y = lf.filt(u, kDt);
    std::vector<double> den = lf.den, num = lf.num;
    const double d0 = den[0];
    for (double& v : den) v /= d0;
    for (double& v : num) v /= d0;
    num.insert(num.begin(), den.size() - num.size(), 0.0);
    const double D = num[0];
    // observable form: x' = Ao x + Bo u, y = x_0 + D u with Ao(i,0) = -den[i+1], Ao(i,i+1) = 1
    const int k = 3;
    MatrixXd Ao = MatrixXd::Zero(k, k);
    VectorXd Bo(k);
    for (int i = 0; i < k; ++i) {
      Ao(i, 0) = -den[std::size_t(i + 1)];
      if (i + 1 < k) Ao(i, i + 1) = 1.0;
      Bo(i) = num[std::size_t(i + 1)] - D * den[std::size_t(i + 1)];
    }
    VectorXd x = VectorXd::Zero(k);
    const int sub = 200;
    const double h = kDt / sub;
    for (Index n = 0; n < u.rows(); ++n) {
      const double un = u(n, 0);
      if (D != 0.0) {  // proper: y[n] = output at the start of the hold interval
        EXPECT_NEAR(y(n, 0), x(0) + D * un, 1e-9 * (1 + std::abs(y(n, 0))));
      }
      auto f = [&](const VectorXd& s) -> VectorXd { return Ao * s + Bo * un; };
      for (int j = 0; j < sub; ++j) {
        const VectorXd k1 = f(x), k2 = f(x + h / 2 * k1), k3 = f(x + h / 2 * k2),
                       k4 = f(x + h * k3);
        x += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
      }
      if (D == 0.0) {  // strictly proper: y[n] = output at the end of the hold interval
        EXPECT_NEAR(y(n, 0), x(0), 1e-9 * (1 + std::abs(y(n, 0))));
      }
    }
  }
}

TEST(SynapseIdentity, DegenerateFilters) {
  EXPECT_EQ(Lowpass(0).discretize(kDt).kind, DiscreteFilter::Kind::Identity);
  EXPECT_EQ(Lowpass(0.03 * kDt).discretize(kDt).kind, DiscreteFilter::Kind::Identity);
  EXPECT_EQ(Lowpass(0.031 * kDt).discretize(kDt).kind, DiscreteFilter::Kind::Lowpass);
  EXPECT_EQ(Alpha(0).discretize(kDt).kind, DiscreteFilter::Kind::Identity);
  EXPECT_EQ(Alpha(1e-6).discretize(kDt).kind, DiscreteFilter::Kind::Identity);
  EXPECT_EQ(Triangle(0).discretize(kDt).kind, DiscreteFilter::Kind::Identity);
  EXPECT_EQ(Lowpass(0).discretize(kDt).D, 1.0);
  const MatrixXd u = random_signal(10, 3, 5);
  EXPECT_EQ(Lowpass(0).filt(u, kDt), u);
  EXPECT_EQ(run_bank(Lowpass(0).discretize(kDt), u), u.cast<float>().cast<double>());
  // a static gain is an order-0 General filter
  const DiscreteFilter g = LinearFilter({2}, {1}).discretize(kDt);
  EXPECT_EQ(g.order(), 0u);
  EXPECT_DOUBLE_EQ(g.D, 2.0);
  EXPECT_LT((run_bank(g, u) - 2 * u).cwiseAbs().maxCoeff(), 1e-5);
}

TEST(SynapseTriangle, FirTaps) {
  const Triangle tri(0.003);  // 4 taps: 4, 3, 2, 1 over 10
  const DiscreteFilter f = tri.discretize(kDt);
  EXPECT_EQ(f.kind, DiscreteFilter::Kind::General);
  EXPECT_EQ(f.order(), 3u);
  MatrixXd u = MatrixXd::Zero(8, 1);
  u(1, 0) = 1.0;
  const MatrixXd y = tri.filt(u, kDt);
  const double expect[] = {0, 0.4, 0.3, 0.2, 0.1, 0, 0, 0};
  for (Index i = 0; i < 8; ++i) EXPECT_NEAR(y(i, 0), expect[i], 1e-15) << i;
  const MatrixXd yb = run_bank(f, u);
  for (Index i = 0; i < 8; ++i) EXPECT_NEAR(yb(i, 0), expect[i], 1e-7) << i;
  // taps sum to 1
  const MatrixXd ones = tri.filt(MatrixXd::Ones(10, 1), kDt);
  EXPECT_NEAR(ones(9, 0), 1.0, 1e-15);
  // a long triangle stays cheap and correct in the bank (sparse shift register)
  const MatrixXd r = random_signal(300, 4, 6);
  const Triangle big(0.1);
  EXPECT_LT((run_bank(big.discretize(kDt), r) - big.filt(r, kDt)).cwiseAbs().maxCoeff(), 1e-5);
}

// ---- FilterBank ----------------------------------------------------------------------

TEST(SynapseFilterBank, MatchesHandSteppedRandomThirdOrder) {
  for (std::uint64_t seed : {21u, 22u, 23u}) {
    for (bool proper : {false, true}) {
      const LinearFilter lf = random_third_order(seed, proper);
      const DiscreteFilter f = lf.discretize(kDt);
      ASSERT_EQ(f.kind, DiscreteFilter::Kind::General);
      ASSERT_EQ(f.order(), 3u);
      EXPECT_EQ(f.D == 0.0, !proper);
      const MatrixXd u = random_signal(500, 7, seed);
      const MatrixXd ref = step_by_hand(f, u);
      const MatrixXd bank = run_bank(f, u);
      const double scale = ref.cwiseAbs().maxCoeff();
      EXPECT_LT((bank - ref).cwiseAbs().maxCoeff(), 1e-5 * scale) << "seed " << seed;
      // the offline helper agrees with the hand-stepped reference in double precision
      EXPECT_LT((lf.filt(u, kDt) - ref).cwiseAbs().maxCoeff(), 1e-12 * scale);
    }
  }
}

TEST(SynapseFilterBank, LowpassAlphaAndReset) {
  const MatrixXd u = random_signal(200, 5, 8);
  for (const SynapsePtr& s :
       std::vector<SynapsePtr>{std::make_shared<Lowpass>(0.005), std::make_shared<Alpha>(0.01)}) {
    const DiscreteFilter f = s->discretize(kDt);
    FilterBank bank(f, 5);
    EXPECT_EQ(bank.channels(), 5u);
    const MatrixXd ref = s->filt(u, kDt);
    const MatrixXd got = run_bank(f, u);
    EXPECT_LT((got - ref).cwiseAbs().maxCoeff(), 1e-5 * ref.cwiseAbs().maxCoeff()) << s->repr();
    // reset: after running, reset and re-run gives the same as a fresh bank
    std::vector<float> in(5, 1.f), out(5), out2(5);
    for (int i = 0; i < 10; ++i) bank.step(in.data(), out.data());
    bank.reset();
    bank.step(in.data(), out.data());
    FilterBank fresh(f, 5);
    fresh.step(in.data(), out2.data());
    EXPECT_EQ(out, out2);
  }
}

TEST(SynapseFilterBank, InPlaceStep) {
  const MatrixXd u = random_signal(50, 3, 9);
  for (const DiscreteFilter& f :
       {Lowpass(0.005).discretize(kDt), Alpha(0.005).discretize(kDt),
        Triangle(0.004).discretize(kDt), random_third_order(5, true).discretize(kDt)}) {
    const MatrixXd ref = run_bank(f, u);
    FilterBank bank(f, 3);
    std::vector<float> buf(3);
    for (Index n = 0; n < u.rows(); ++n) {
      for (Index c = 0; c < 3; ++c) buf[std::size_t(c)] = float(u(n, c));
      bank.step(buf.data(), buf.data());
      for (Index c = 0; c < 3; ++c) EXPECT_EQ(buf[std::size_t(c)], float(ref(n, c)));
    }
  }
}

// ---- offline helpers -------------------------------------------------------------------

TEST(SynapseFilt, SteadyStateY0) {
  const Eigen::RowVectorXd y0 = (Eigen::RowVectorXd(2) << 0.7, -1.3).finished();
  const MatrixXd u = MatrixXd::Ones(50, 1) * y0;  // DC gain 1: y0 in gives y0 out
  for (const SynapsePtr& s :
       std::vector<SynapsePtr>{std::make_shared<Lowpass>(0.005), std::make_shared<Alpha>(0.005),
                               std::make_shared<Triangle>(0.005),
                               std::make_shared<LinearFilter>(random_third_order(3, true)),
                               std::make_shared<LinearFilter>(random_third_order(3, false))}) {
    const MatrixXd y = s->filt(u, kDt, y0);
    EXPECT_LT((y.rowwise() - y0).cwiseAbs().maxCoeff(), 1e-9) << s->repr();
  }
  // from y0 with zero input the output decays from y0
  const MatrixXd y = Lowpass(0.005).filt(MatrixXd::Zero(2, 2), kDt, y0);
  EXPECT_NEAR(y(0, 0), 0.7 * std::exp(-0.2), 1e-12);
  EXPECT_THROW(Lowpass(0.005).filt(MatrixXd::Zero(2, 3), kDt, y0), ValidationError);
  // an integrator has no steady state for y0 != 0
  EXPECT_THROW(LinearFilter({1}, {1, 0}).filt(MatrixXd::Zero(2, 2), kDt, y0), ValidationError);
  // zero DC gain cannot reach y0 != 0
  EXPECT_THROW(LinearFilter({1, 0}, {1, 1}).filt(MatrixXd::Zero(2, 2), kDt, y0), ValidationError);
}

TEST(SynapseFilt, FiltfiltIsZeroPhase) {
  const Index n = 401, mid = 200;
  MatrixXd u = MatrixXd::Zero(n, 1);
  u(mid, 0) = 1.0;
  for (const SynapsePtr& s :
       std::vector<SynapsePtr>{std::make_shared<Lowpass>(0.005), std::make_shared<Alpha>(0.004),
                               std::make_shared<Triangle>(0.01)}) {
    const MatrixXd y = s->filtfilt(u, kDt);
    Index peak = 0;
    y.col(0).maxCoeff(&peak);
    EXPECT_EQ(peak, mid) << s->repr();
    for (Index k = 1; k < 150; ++k) {
      EXPECT_NEAR(y(mid - k, 0), y(mid + k, 0), 1e-12) << s->repr() << " k=" << k;
    }
  }
}

// ---- validation, params, repr ----------------------------------------------------------

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const ValidationError& e) {
    return e.what();
  }
  return "<no ValidationError>";
}

TEST(SynapseValidation, RejectsBadParameters) {
  EXPECT_NE(error_message([] { Lowpass(-0.25); }).find("-0.25"), std::string::npos);
  EXPECT_NE(error_message([] { Alpha(-0.5); }).find("-0.5"), std::string::npos);
  EXPECT_NE(error_message([] { Triangle(-2); }).find("-2"), std::string::npos);
  EXPECT_THROW(Lowpass(std::nan("")), ValidationError);
  EXPECT_THROW(LinearFilter({1}, {0, 1}), ValidationError);
  EXPECT_THROW(LinearFilter({1}, {}), ValidationError);
  EXPECT_THROW(LinearFilter({}, {1}), ValidationError);
  EXPECT_THROW(LinearFilter({1, 2, 3}, {1, 1}), ValidationError);  // improper
  EXPECT_NO_THROW(LinearFilter({0, 0, 1}, {1, 1}));                // leading zeros trimmed
  EXPECT_NE(error_message([] {
              LinearFilter({1}, {1, 1}, true, "foo_method");
            }).find("foo_method"),
            std::string::npos);
  EXPECT_THROW(LinearFilter({1}, {1, 1}, true, "gbt", 1.5), ValidationError);
  EXPECT_THROW(Lowpass(0.005).discretize(0.0), ValidationError);
  EXPECT_THROW(Alpha(0.005).filt(MatrixXd::Ones(2, 1), -1.0), ValidationError);
  // mutated public members are re-checked at discretisation
  LinearFilter lf({1}, {1, 1});
  lf.method = "bogus";
  EXPECT_NE(error_message([&] { lf.discretize(kDt); }).find("bogus"), std::string::npos);
}

TEST(SynapseParamTest, NumbersNoneAndObjects) {
  const SynapseParam p1 = 0.01;
  ASSERT_FALSE(p1.is_none());
  EXPECT_EQ(p1.repr(), "Lowpass(tau=0.01)");
  const SynapseParam p2 = None;
  EXPECT_TRUE(p2.is_none());
  EXPECT_EQ(p2.repr(), "None");
  const SynapseParam p3 = Alpha(0.005);
  EXPECT_EQ(p3.repr(), "Alpha(tau=0.005)");
  const SynapseParam p4 = 0;
  EXPECT_EQ(p4.get()->discretize(kDt).kind, DiscreteFilter::Kind::Identity);
  EXPECT_EQ(Triangle(0.01).repr(), "Triangle(t=0.01)");
  EXPECT_EQ(LinearFilter({1}, {0.5, 1}).repr(), "LinearFilter(num=[1], den=[0.5, 1], analog=True)");
  EXPECT_EQ(LinearFilter({1}, {1, 1}, false, "euler").repr(),
            "LinearFilter(num=[1], den=[1, 1], analog=False, method='euler')");
}

}  // namespace
}  // namespace myelin
