// The builder: the only place with NEF maths (gain/bias, eval points, decoders). Turns a
// frontend description into the model IR (spec §2–§6).
#pragma once

#include <cstdint>
#include <optional>

#include "ir/model.hpp"
#include "myelin/network.hpp"

namespace myelin::builder {

struct BuildOptions {
  double dt = 0.001;
  std::optional<std::uint64_t> seed;  ///< simulator seed override
  int threads = 0;                    ///< 0 = all available
};

/// Builds the IR. Throws ValidationError / BuildError naming the offending object.
ir::Model build(const Network& net, const BuildOptions& opts);

/// Activities (m × n, Hz) of an ensemble at represented values X (m × d): rates of the
/// neuron type at J = gain ⊙ (X Eᵀ / r) + bias.
Eigen::MatrixXd ensemble_activities(const ir::EnsembleOp& ens, const Eigen::MatrixXd& X);

}  // namespace myelin::builder
