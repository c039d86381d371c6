// Tests for the decoder solvers (spec §5) on synthetic rectified-linear tuning curves.
#include <Eigen/Dense>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "myelin/distributions.hpp"
#include "myelin/errors.hpp"
#include "myelin/solvers.hpp"
#include "test_util.hpp"

namespace myelin {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

const std::string kWho = "Connection 'a->b'";

/// Rectified-linear rates (Hz) of n neurons with random encoders, intercepts in
/// [-1, 0.9) and max rates in [200, 400) at the eval points X (m x d).
MatrixXd relu_activities(const MatrixXd& X, Index n, std::uint64_t seed) {
  Rng rng(seed);
  const auto d = static_cast<std::size_t>(X.cols());
  const MatrixXd E = UniformHypersphere(true).sample(static_cast<std::size_t>(n), d, rng);
  const VectorXd c = Uniform(-1.0, 0.9).sample(static_cast<std::size_t>(n), rng);
  const VectorXd r = Uniform(200, 400).sample(static_cast<std::size_t>(n), rng);
  MatrixXd A = X * E.transpose();
  for (Index i = 0; i < n; ++i) {
    const double gain = r(i) / (1.0 - c(i));
    A.col(i) = ((A.col(i).array() - c(i)) * gain).max(0.0);
  }
  return A;
}

/// m eval points evenly spread on [-1, 1] (d = 1).
MatrixXd grid_points(Index m) {
  return VectorXd::LinSpaced(m, -1.0, 1.0);
}

/// Double-precision reference: (AᵀA + diag(lambda)) D = AᵀY.
MatrixXd ridge_reference(const MatrixXd& A, const MatrixXd& Y, const VectorXd& lambda) {
  MatrixXd G = A.transpose() * A;
  for (Index i = 0; i < G.rows(); ++i) G(i, i) += lambda(lambda.size() == 1 ? 0 : i);
  return G.llt().solve(A.transpose() * Y);
}

double rel(const MatrixXd& a, const MatrixXd& b) {
  return (a - b).norm() / b.norm();
}

double rms(const MatrixXd& r) {
  return std::sqrt(r.squaredNorm() / double(r.size()));
}

using test::error_message;

TEST(LstsqL2, MatchesClosedFormRidge) {
  const MatrixXd X = grid_points(500);
  const MatrixXd A = relu_activities(X, 50, 1);
  MatrixXd Y(500, 2);
  Y.col(0) = X.col(0);
  Y.col(1) = X.col(0).array().square();
  Rng rng(0);
  SolverInfo info;
  const MatrixXd D = LstsqL2().solve(A, Y, rng, info, kWho);
  ASSERT_EQ(D.rows(), 50);
  ASSERT_EQ(D.cols(), 2);
  const double sigma = 0.1 * A.maxCoeff();
  const MatrixXd Dref = ridge_reference(A, Y, VectorXd::Constant(1, 500 * sigma * sigma));
  EXPECT_LT(rel(D, Dref), 1e-8);
  EXPECT_EQ(info.method, "cholesky-primal");
  EXPECT_NEAR(info.rmses, rms(A * D - Y), 1e-12);
  EXPECT_LT(info.rmses, 0.05);  // decent decoding of x and x^2
  EXPECT_GE(info.time_s, 0.0);
}

TEST(LstsqL2, PrimalAndDualAgree) {
  // m < N: the dual form is used; it must give the primal answer.
  const MatrixXd X = grid_points(40);
  const MatrixXd A = relu_activities(X, 120, 2);
  const MatrixXd Y = X.array().sin().matrix();
  Rng rng(0);
  SolverInfo info;
  const MatrixXd D = LstsqL2(0.05).solve(A, Y, rng, info, kWho);
  EXPECT_EQ(info.method, "cholesky-dual");
  const double sigma = 0.05 * A.maxCoeff();
  const MatrixXd Dref = ridge_reference(A, Y, VectorXd::Constant(1, 40 * sigma * sigma));
  EXPECT_LT(rel(D, Dref), 1e-8);
  EXPECT_NEAR(info.rmses, rms(A * D - Y), 1e-12);

  // Per-neuron lambdas in the dual form (scaled kernel).
  VectorXd lam = VectorXd::LinSpaced(120, 1e4, 5e5);
  SolverInfo info2;
  const MatrixXd D2 = solve_ridge_cholesky(A, Y, lam, info2, kWho);
  EXPECT_EQ(info2.method, "cholesky-dual");
  EXPECT_LT(rel(D2, ridge_reference(A, Y, lam)), 1e-8);
}

TEST(SolveRidgeCholesky, AccurateOnLargerProblem) {
  // A 4-D problem with weak regularisation: the float32 Gram matrix alone would not be
  // accurate enough; the refined result must match the double solve.
  Rng prng(3);
  const MatrixXd X = ScatteredHypersphere().sample(800, 4, prng);
  const MatrixXd A = relu_activities(X, 400, 4);
  MatrixXd Y(800, 4);
  Y << X.col(0), X.col(1).cwiseProduct(X.col(2)), X.col(3).array().cube().matrix(),
      X.rowwise().squaredNorm();
  const double sigma = 0.01 * A.maxCoeff();
  const VectorXd lam = VectorXd::Constant(1, 800 * sigma * sigma);
  SolverInfo info;
  const MatrixXd D = solve_ridge_cholesky(A, Y, lam, info, kWho);
  const MatrixXd Dref = ridge_reference(A, Y, lam);
  EXPECT_LT((A * (D - Dref)).norm() / Y.norm(), 1e-6);
  EXPECT_LT(rel(D, Dref), 1e-5);
  EXPECT_EQ(info.method, "cholesky-primal");

  // Same through the dual form (fewer eval points than neurons).
  const MatrixXd As = A.topRows(300), Ys = Y.topRows(300);
  const VectorXd lams = VectorXd::Constant(1, 300 * sigma * sigma);
  SolverInfo info2;
  const MatrixXd Ds = solve_ridge_cholesky(As, Ys, lams, info2, kWho);
  EXPECT_EQ(info2.method, "cholesky-dual");
  EXPECT_LT((As * (Ds - ridge_reference(As, Ys, lams))).norm() / Ys.norm(), 1e-6);
}

TEST(SolveRidgeCholesky, ZeroTargetsGiveZeroDecoders) {
  const MatrixXd X = grid_points(100);
  const MatrixXd A = relu_activities(X, 30, 5);
  Rng rng(0);
  SolverInfo info;
  const MatrixXd D = LstsqL2().solve(A, MatrixXd::Zero(100, 3), rng, info, kWho);
  EXPECT_TRUE((D.array() == 0.0).all());
  EXPECT_EQ(info.rmses, 0.0);
}

TEST(SolveRidgeCholesky, SingularWithoutRegularisationFallsBack) {
  // Duplicate columns and lambda = 0: the normal equations are singular.
  const MatrixXd X = grid_points(60);
  MatrixXd A0 = relu_activities(X, 10, 6);
  MatrixXd A(60, 12);
  A << A0, A0.leftCols(2);
  const MatrixXd Y = X;
  SolverInfo info;
  const MatrixXd D = solve_ridge_cholesky(A, Y, VectorXd::Zero(1), info, kWho);
  EXPECT_TRUE(D.allFinite());
  // Least-squares optimal residual.
  const MatrixXd Dls = A0.completeOrthogonalDecomposition().solve(Y);
  EXPECT_NEAR(rms(A * D - Y), rms(A0 * Dls - Y), 1e-6);
}

TEST(SolveRidgeCholesky, BadLambda) {
  const MatrixXd A = MatrixXd::Ones(5, 3), Y = MatrixXd::Ones(5, 1);
  SolverInfo info;
  EXPECT_THROW(solve_ridge_cholesky(A, Y, VectorXd::Ones(2), info, kWho), BuildError);
  EXPECT_THROW(solve_ridge_cholesky(A, Y, VectorXd::Constant(1, -1.0), info, kWho), BuildError);
}

TEST(LstsqL2nz, MatchesPerNeuronRidge) {
  const MatrixXd X = grid_points(300);
  MatrixXd A(300, 41);
  A << relu_activities(X, 40, 7), MatrixXd::Zero(300, 1);  // one silent neuron
  const MatrixXd Y = X;
  Rng rng(0);
  SolverInfo info;
  const MatrixXd D = LstsqL2nz(0.1).solve(A, Y, rng, info, kWho);
  VectorXd sigma(41);
  const double amax = A.cwiseAbs().maxCoeff();
  for (Index i = 0; i < 41; ++i)
    sigma(i) = 0.1 * amax * std::sqrt((A.col(i).array() > 0).cast<double>().mean());
  for (Index i = 0; i < 41; ++i)
    if (sigma(i) == 0) sigma(i) = sigma.maxCoeff();
  const VectorXd lam = 300.0 * sigma.array().square().matrix();
  EXPECT_LT(rel(D, ridge_reference(A, Y, lam)), 1e-8);
  EXPECT_EQ(D(40, 0), 0.0);
  EXPECT_LT(info.rmses, 0.05);
  EXPECT_EQ(LstsqL2nz().repr(), "LstsqL2nz(reg=0.1)");
}

TEST(Lstsq, ExactFitAndTruncation) {
  // Well-conditioned full-rank system: exact recovery.
  Rng rng(8);
  const MatrixXd A = Gaussian(0, 1).sample(80, 20, rng);
  const MatrixXd Dtrue = Gaussian(0, 1).sample(20, 3, rng);
  const MatrixXd Y = A * Dtrue;
  SolverInfo info;
  const MatrixXd D = Lstsq(1e-10).solve(A, Y, rng, info, kWho);
  EXPECT_LT(rel(D, Dtrue), 1e-10);
  EXPECT_LT(info.rmses, 1e-10);
  EXPECT_EQ(info.method, "svd");

  // Tuning curves: cut-off at rcond = 0.01 decodes well and equals NumPy-style lstsq.
  const MatrixXd X = grid_points(400);
  const MatrixXd T = relu_activities(X, 60, 9);
  const MatrixXd D2 = Lstsq().solve(T, X, rng, info, kWho);
  Eigen::JacobiSVD<MatrixXd> svd(T, Eigen::ComputeThinU | Eigen::ComputeThinV);
  svd.setThreshold(0.01);
  EXPECT_LT(rel(D2, svd.solve(X)), 1e-8);
  EXPECT_LT(info.rmses, 0.05);
}

TEST(Lstsq, LargeProblemGramPathMatchesSvd) {
  Rng rng(10);
  const MatrixXd X = ScatteredHypersphere().sample(1000, 2, rng);
  const MatrixXd A = relu_activities(X, 450, 11);
  SolverInfo info;
  const MatrixXd D = Lstsq(0.01).solve(A, X, rng, info, kWho);
  EXPECT_EQ(info.method, "svd-gram");
  Eigen::BDCSVD<MatrixXd> svd(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
  svd.setThreshold(0.01);
  const MatrixXd Dref = svd.solve(X);
  EXPECT_LT((A * (D - Dref)).norm() / X.norm(), 1e-8);
  // Dual (m < N) Gram path.
  const MatrixXd As = A.topRows(420).leftCols(440);
  const MatrixXd Xs = X.topRows(420);
  const MatrixXd Ds = Lstsq(0.01).solve(As, Xs, rng, info, kWho);
  EXPECT_EQ(info.method, "svd-gram");
  Eigen::BDCSVD<MatrixXd> svds(As, Eigen::ComputeThinU | Eigen::ComputeThinV);
  svds.setThreshold(0.01);
  EXPECT_LT((As * (Ds - svds.solve(Xs))).norm() / Xs.norm(), 1e-8);
}

TEST(NoiseSolvers, DecodeAndAreSeeded) {
  const MatrixXd X = grid_points(500);
  const MatrixXd A = relu_activities(X, 50, 12);
  for (int kind = 0; kind < 2; ++kind) {
    Rng r1(5), r2(5), r3(6);
    SolverInfo info;
    auto solve = [&](Rng& r) {
      return kind == 0 ? LstsqNoise(0.1).solve(A, X, r, info, kWho)
                       : LstsqMultNoise(0.1).solve(A, X, r, info, kWho);
    };
    const MatrixXd D1 = solve(r1);
    EXPECT_LT(info.rmses, 0.05) << kind;
    EXPECT_NEAR(info.rmses, rms(A * D1 - X), 1e-12);
    EXPECT_EQ(D1, solve(r2)) << kind;
    EXPECT_NE(D1, solve(r3)) << kind;
  }
  EXPECT_EQ(LstsqNoise().repr(), "LstsqNoise(noise=0.1)");
  EXPECT_EQ(LstsqMultNoise(0.2, true).repr(), "LstsqMultNoise(noise=0.2, weights=True)");
}

TEST(NoSolver, ValuesOrZeros) {
  const MatrixXd A = MatrixXd::Ones(10, 4), Y = MatrixXd::Ones(10, 2);
  Rng rng(0);
  SolverInfo info;
  const NoSolver zeros;
  EXPECT_FALSE(zeros.needs_activities());
  const MatrixXd Z = zeros.solve(A, Y, rng, info, kWho);
  EXPECT_EQ(Z, MatrixXd::Zero(4, 2));
  EXPECT_EQ(info.method, "none");
  EXPECT_DOUBLE_EQ(info.rmses, 1.0);

  MatrixXd vals(4, 2);
  vals << 1, 2, 3, 4, 5, 6, 7, 8;
  const NoSolver given(vals, true);
  EXPECT_TRUE(given.weights);
  EXPECT_EQ(given.solve(A, Y, rng, info, kWho), vals);
  const std::string msg =
      error_message([&] { given.solve(MatrixXd::Ones(10, 3), Y, rng, info, kWho); });
  EXPECT_NE(msg.find(kWho), std::string::npos) << msg;
  EXPECT_NE(msg.find("(4, 2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(3, 2)"), std::string::npos) << msg;
  EXPECT_THROW(given.solve(A, MatrixXd::Ones(10, 3), rng, info, kWho), BuildError);
  EXPECT_EQ(zeros.repr(), "NoSolver()");
  EXPECT_EQ(given.repr(), "NoSolver(values=array(shape=(4, 2)), weights=True)");
}

TEST(SolverErrors, AllZeroActivities) {
  const MatrixXd A = MatrixXd::Zero(20, 5), Y = MatrixXd::Ones(20, 1);
  Rng rng(0);
  SolverInfo info;
  for (const Solver* s : std::initializer_list<const Solver*>{
           new LstsqL2(), new LstsqL2nz(), new Lstsq(), new LstsqNoise(), new LstsqMultNoise()}) {
    const std::string msg = error_message([&] { s->solve(A, Y, rng, info, kWho); });
    EXPECT_EQ(msg.rfind(kWho + ": all eval-point activities are zero", 0), 0u) << msg;
    delete s;
  }
}

TEST(SolverErrors, NonFiniteAndShapes) {
  const MatrixXd X = grid_points(50);
  const MatrixXd A = relu_activities(X, 10, 13);
  MatrixXd Y = X;
  Y(7, 0) = std::nan("");
  Rng rng(0);
  SolverInfo info;
  std::string msg = error_message([&] { LstsqL2().solve(A, Y, rng, info, kWho); });
  EXPECT_NE(msg.find(kWho), std::string::npos) << msg;
  EXPECT_NE(msg.find("not finite"), std::string::npos) << msg;
  EXPECT_NE(msg.find("eval point 7"), std::string::npos) << msg;
  MatrixXd An = A;
  An(0, 0) = INFINITY;
  EXPECT_THROW(LstsqL2().solve(An, X, rng, info, kWho), BuildError);
  EXPECT_THROW(LstsqL2().solve(A, X.topRows(40), rng, info, kWho), BuildError);
  EXPECT_THROW(LstsqL2().solve(MatrixXd(0, 10), MatrixXd(0, 1), rng, info, kWho), BuildError);
  EXPECT_THROW(LstsqL2(-0.1), ValidationError);
  EXPECT_THROW(Lstsq(std::nan("")), ValidationError);
}

TEST(SolverRepr, Forms) {
  EXPECT_EQ(LstsqL2().repr(), "LstsqL2(reg=0.1)");
  EXPECT_EQ(LstsqL2(0.01, true).repr(), "LstsqL2(reg=0.01, weights=True)");
  EXPECT_TRUE(LstsqL2(0.01, true).weights);
  EXPECT_FALSE(LstsqL2().weights);
  EXPECT_TRUE(LstsqL2().compositional());
  EXPECT_TRUE(LstsqL2().needs_activities());
  EXPECT_EQ(Lstsq().repr(), "Lstsq(rcond=0.01)");
}

}  // namespace
}  // namespace myelin
