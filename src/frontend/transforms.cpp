#include <sstream>

#include "myelin/errors.hpp"
#include "myelin/transforms.hpp"

namespace myelin {

Transform::Transform(std::initializer_list<std::initializer_list<double>> rows)
    : kind_(Kind::Dense) {
  const Eigen::Index r = Eigen::Index(rows.size());
  const Eigen::Index c = r ? Eigen::Index(rows.begin()->size()) : 0;
  matrix_.resize(r, c);
  Eigen::Index i = 0;
  for (const auto& row : rows) {
    if (Eigen::Index(row.size()) != c)
      throw ValidationError("Transform: rows have different lengths (" + std::to_string(c) +
                            " and " + std::to_string(row.size()) + ")");
    Eigen::Index j = 0;
    for (double v : row) matrix_(i, j++) = v;
    ++i;
  }
}

void Transform::validate(std::size_t size_out, std::size_t size_mid, const std::string& who) const {
  auto shape = [](Eigen::Index a, Eigen::Index b) {
    return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
  };
  switch (kind_) {
    case Kind::None: return;
    case Kind::Scalar:
      if (!std::isfinite(scalar_))
        throw ValidationError(who + ": transform is not finite");
      if (size_out != size_mid)
        throw ValidationError(who + ": a scalar transform needs equal input and output sizes, got " +
                              std::to_string(size_mid) + " -> " + std::to_string(size_out) +
                              "; give a matrix of shape " +
                              shape(Eigen::Index(size_out), Eigen::Index(size_mid)));
      return;
    case Kind::Diagonal:
      if (!matrix_.allFinite()) throw ValidationError(who + ": transform has non-finite values");
      if (std::size_t(matrix_.rows()) != size_mid || size_out != size_mid)
        throw ValidationError(who + ": a vector (diagonal) transform of length " +
                              std::to_string(matrix_.rows()) + " needs input and output size " +
                              std::to_string(matrix_.rows()) + ", got " + std::to_string(size_mid) +
                              " -> " + std::to_string(size_out));
      return;
    case Kind::Dense:
      if (!matrix_.allFinite()) throw ValidationError(who + ": transform has non-finite values");
      if (std::size_t(matrix_.rows()) != size_out || std::size_t(matrix_.cols()) != size_mid)
        throw ValidationError(who + ": transform shape " + shape(matrix_.rows(), matrix_.cols()) +
                              " does not match (size_out, size_mid) = " +
                              shape(Eigen::Index(size_out), Eigen::Index(size_mid)));
      return;
    case Kind::Dist:
      if (!dist_) throw ValidationError(who + ": null transform distribution");
      return;
  }
}

Eigen::MatrixXd Transform::materialize(std::size_t size_out, std::size_t size_mid, Rng& rng,
                                       const std::string& who) const {
  validate(size_out, size_mid, who);
  const auto ro = Eigen::Index(size_out), rm = Eigen::Index(size_mid);
  switch (kind_) {
    case Kind::None: return Eigen::MatrixXd::Identity(ro, rm);
    case Kind::Scalar: return Eigen::MatrixXd::Identity(ro, rm) * scalar_;
    case Kind::Diagonal: return matrix_.col(0).asDiagonal();
    case Kind::Dense: return matrix_;
    case Kind::Dist: return dist_->sample(size_out, size_mid, rng);
  }
  return {};
}

std::string Transform::repr() const {
  std::ostringstream os;
  switch (kind_) {
    case Kind::None: return "None";
    case Kind::Scalar: os << scalar_; return os.str();
    case Kind::Diagonal: os << "diag(" << matrix_.rows() << ")"; return os.str();
    case Kind::Dense: os << "Dense(" << matrix_.rows() << "x" << matrix_.cols() << ")"; return os.str();
    case Kind::Dist: return dist_ ? dist_->repr() : "None";
  }
  return "?";
}

}  // namespace myelin
