// Analysis helpers (Nengo's nengo.utils.ensemble): tuning and response curves of a built
// ensemble, from its neuron type's steady-state rates (spec §11, demo 3).
#pragma once

#include <Eigen/Dense>
#include <optional>

#include "myelin/network.hpp"
#include "myelin/simulator.hpp"

namespace myelin {

struct Curves {
  Eigen::MatrixXd inputs;      ///< (points × dims) for tuning curves, (points × 1) for responses
  Eigen::MatrixXd activities;  ///< (points × n_neurons), Hz × amplitude
};

/// Rates of every neuron at represented values `inputs` (points × dimensions). Default
/// inputs: for 1-D ensembles, 50 points evenly spaced on [−radius, radius]; otherwise the
/// ensemble's eval points. ValidationError on a Direct-mode ensemble or wrong input shape.
Curves tuning_curves(const Ensemble& ens, const Simulator& sim,
                     std::optional<Eigen::MatrixXd> inputs = std::nullopt);

/// Rates of every neuron along its own preferred direction: x = linspace(−1, 1, points)
/// in units of the radius (Nengo's response_curves).
Curves response_curves(const Ensemble& ens, const Simulator& sim, int points = 50);

}  // namespace myelin
