// Connection transforms (spec §6): none, scalar, diagonal (vector), dense matrix, or a
// distribution sampled at build time. Convolution layers are also transforms (deep-SNN).
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "myelin/distributions.hpp"
#include "myelin/rng.hpp"

namespace myelin {

class Transform {
 public:
  enum class Kind { None, Scalar, Diagonal, Dense, Dist };

  Transform() = default;  ///< no transform (identity, Nengo's default)
  Transform(double s) : kind_(Kind::Scalar), scalar_(s) {}  // NOLINT
  Transform(int s) : Transform(static_cast<double>(s)) {}  // NOLINT
  /// Any Eigen matrix expression: a dense (size_out × size_mid) matrix. A compile-time
  /// column vector (Eigen::VectorXd) is a diagonal, as a 1-D array is in Nengo.
  template <class Derived>
  Transform(const Eigen::MatrixBase<Derived>& m)  // NOLINT
      : kind_(Derived::ColsAtCompileTime == 1 ? Kind::Diagonal : Kind::Dense),
        matrix_(m.template cast<double>()) {}
  Transform(const std::vector<double>& diag)  // NOLINT
      : Transform(Eigen::VectorXd(
            Eigen::Map<const Eigen::VectorXd>(diag.data(), Eigen::Index(diag.size())))) {}
  /// Rows of a dense matrix: Transform({{1, 0}, {0, 1}}).
  Transform(std::initializer_list<std::initializer_list<double>> rows);
  Transform(DistPtr d) : kind_(Kind::Dist), dist_(std::move(d)) {}  // NOLINT
  template <class D, class = std::enable_if_t<std::is_base_of_v<Distribution, D>>>
  Transform(const D& d) : Transform(DistPtr(std::make_shared<D>(d))) {}  // NOLINT

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  double scalar() const { return scalar_; }
  /// The dense (size_out × size_mid) matrix; throws ValidationError naming `who` and the
  /// shapes when they do not fit. Distributions are sampled with rng.
  Eigen::MatrixXd materialize(std::size_t size_out, std::size_t size_mid, Rng& rng,
                              const std::string& who) const;
  /// Checks shapes without sampling (at connect time).
  void validate(std::size_t size_out, std::size_t size_mid, const std::string& who) const;
  std::string repr() const;

 private:
  Kind kind_ = Kind::None;
  double scalar_ = 1.0;
  Eigen::MatrixXd matrix_;
  DistPtr dist_;
};

}  // namespace myelin
