#include <cmath>
#include <sstream>

#include "myelin/errors.hpp"
#include "myelin/learning.hpp"

namespace myelin {

namespace {
void check_rate(const char* kind, double r) {
  if (!(r >= 0.0) || !std::isfinite(r)) {
    std::ostringstream os;
    os << kind << ": learning_rate must be finite and >= 0, got " << r;
    throw ValidationError(os.str());
  }
}
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

PES::PES(double learning_rate, SynapseParam pre_synapse) : pre_synapse(std::move(pre_synapse)) {
  check_rate("PES", learning_rate);
  this->learning_rate = learning_rate;
}
std::string PES::repr() const {
  return "PES(learning_rate=" + num(learning_rate) + ", pre_synapse=" + pre_synapse.repr() + ")";
}

RLS::RLS(double learning_rate, SynapseParam pre_synapse) : pre_synapse(std::move(pre_synapse)) {
  check_rate("RLS", learning_rate);
  this->learning_rate = learning_rate;
}
std::string RLS::repr() const {
  return "RLS(learning_rate=" + num(learning_rate) + ", pre_synapse=" + pre_synapse.repr() + ")";
}

BCM::BCM(double learning_rate, SynapseParam pre_synapse, std::optional<SynapseParam> post_synapse,
         SynapseParam theta_synapse)
    : pre_synapse(pre_synapse),
      post_synapse(post_synapse ? *post_synapse : pre_synapse),
      theta_synapse(std::move(theta_synapse)) {
  check_rate("BCM", learning_rate);
  this->learning_rate = learning_rate;
}
std::string BCM::repr() const {
  return "BCM(learning_rate=" + num(learning_rate) + ", pre_synapse=" + pre_synapse.repr() +
         ", post_synapse=" + post_synapse.repr() + ", theta_synapse=" + theta_synapse.repr() + ")";
}

Oja::Oja(double learning_rate, SynapseParam pre_synapse, std::optional<SynapseParam> post_synapse,
         double beta)
    : pre_synapse(pre_synapse),
      post_synapse(post_synapse ? *post_synapse : pre_synapse),
      beta(beta) {
  check_rate("Oja", learning_rate);
  if (!std::isfinite(beta)) throw ValidationError("Oja: beta must be finite, got " + num(beta));
  this->learning_rate = learning_rate;
}
std::string Oja::repr() const {
  return "Oja(learning_rate=" + num(learning_rate) + ", beta=" + num(beta) + ")";
}

Voja::Voja(double learning_rate, SynapseParam post_synapse)
    : post_synapse(std::move(post_synapse)) {
  check_rate("Voja", learning_rate);
  this->learning_rate = learning_rate;
}
std::string Voja::repr() const {
  return "Voja(learning_rate=" + num(learning_rate) + ", post_synapse=" + post_synapse.repr() + ")";
}

}  // namespace myelin
