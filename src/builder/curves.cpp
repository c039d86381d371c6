// tuning_curves / response_curves (Nengo's nengo.utils.ensemble).
#include <cmath>

#include "myelin/errors.hpp"
#include "myelin/utils.hpp"

namespace myelin {

namespace {
void rates_at(const EnsembleInfo& info, const Eigen::MatrixXd& J, Eigen::MatrixXd& A) {
  A.resize(J.rows(), J.cols());
  for (Eigen::Index i = 0; i < J.cols(); ++i)
    info.neuron_type->rates(std::span<const double>(J.col(i).data(), std::size_t(J.rows())),
                            std::span<double>(A.col(i).data(), std::size_t(A.rows())));
}
std::string name_of(const Ensemble& e) {
  return "Ensemble " + (e.label().empty() ? "#" + std::to_string(e.id()) : "'" + e.label() + "'");
}
}  // namespace

Curves tuning_curves(const Ensemble& ens, const Simulator& sim,
                     std::optional<Eigen::MatrixXd> inputs) {
  const EnsembleInfo info = sim.data(ens);
  if (info.neuron_type->is_direct())
    throw ValidationError(name_of(ens) + ": a Direct-mode ensemble has no tuning curves");
  Curves c;
  if (inputs) {
    if (static_cast<std::size_t>(inputs->cols()) != ens.dimensions())
      throw ValidationError(name_of(ens) + ": tuning_curves inputs must have " +
                            std::to_string(ens.dimensions()) + " columns, got " +
                            std::to_string(inputs->cols()));
    c.inputs = *inputs;
  } else if (ens.dimensions() == 1) {
    c.inputs = Eigen::VectorXd::LinSpaced(50, -info.radius, info.radius);
  } else {
    c.inputs = info.eval_points;
  }
  // J = gain·(x·e / r) + bias = x·Esᵀ + bias (scaled encoders hold gain / radius).
  Eigen::MatrixXd J = c.inputs * info.scaled_encoders.transpose();
  J.rowwise() += info.bias.transpose();
  rates_at(info, J, c.activities);
  return c;
}

Curves response_curves(const Ensemble& ens, const Simulator& sim, int points) {
  if (points < 2)
    throw ValidationError(name_of(ens) + ": response_curves needs at least 2 points, got " +
                          std::to_string(points));
  const EnsembleInfo info = sim.data(ens);
  if (info.neuron_type->is_direct())
    throw ValidationError(name_of(ens) + ": a Direct-mode ensemble has no response curves");
  Curves c;
  c.inputs = Eigen::VectorXd::LinSpaced(points, -1.0, 1.0);
  // Along each neuron's preferred direction: J_i = gain_i·x + bias_i.
  Eigen::MatrixXd J = c.inputs * info.gain.transpose();
  J.rowwise() += info.bias.transpose();
  rates_at(info, J, c.activities);
  return c;
}

}  // namespace myelin
