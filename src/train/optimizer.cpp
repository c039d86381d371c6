// Optimizers with Keras semantics (deep-snn §1.6).
#include <cmath>

#include "myelin/errors.hpp"
#include "myelin/train.hpp"

namespace myelin {

namespace {
void check(const OptimizerSpec& s) {
  auto bad = [&](const char* what, double v) {
    throw ValidationError(std::string("optimizer: ") + what + " = " + std::to_string(v) +
                          " is out of range");
  };
  if (!(s.learning_rate > 0.0) || !std::isfinite(s.learning_rate))
    bad("learning_rate", s.learning_rate);
  if (!(s.momentum >= 0.0 && s.momentum < 1.0)) bad("momentum", s.momentum);
  if (!(s.rho >= 0.0 && s.rho < 1.0)) bad("rho", s.rho);
  if (!(s.beta_1 >= 0.0 && s.beta_1 < 1.0)) bad("beta_1", s.beta_1);
  if (!(s.beta_2 >= 0.0 && s.beta_2 < 1.0)) bad("beta_2", s.beta_2);
  if (!(s.epsilon >= 0.0) || !std::isfinite(s.epsilon)) bad("epsilon", s.epsilon);
}
}  // namespace

OptimizerSpec SGD(double learning_rate, double momentum, bool nesterov) {
  OptimizerSpec s;
  s.kind = OptimizerSpec::Kind::SGD;
  s.learning_rate = learning_rate;
  s.momentum = momentum;
  s.nesterov = nesterov;
  check(s);
  return s;
}

OptimizerSpec RMSprop(double learning_rate, double rho, double epsilon) {
  OptimizerSpec s;
  s.kind = OptimizerSpec::Kind::RMSprop;
  s.learning_rate = learning_rate;
  s.rho = rho;
  s.epsilon = epsilon;
  check(s);
  return s;
}

OptimizerSpec Adam(double learning_rate, double beta_1, double beta_2, double epsilon) {
  OptimizerSpec s;
  s.kind = OptimizerSpec::Kind::Adam;
  s.learning_rate = learning_rate;
  s.beta_1 = beta_1;
  s.beta_2 = beta_2;
  s.epsilon = epsilon;
  check(s);
  return s;
}

OptimizerState::OptimizerState(const OptimizerSpec& spec, std::size_t size) : spec_(spec) {
  check(spec);
  using K = OptimizerSpec::Kind;
  if (spec.kind == K::Adam || spec.kind == K::RMSprop ||
      (spec.kind == K::SGD && spec.momentum > 0.0))
    m_.assign(size, 0.f);
  if (spec.kind == K::Adam) v_.assign(size, 0.f);
}

void OptimizerState::step(std::span<float> w, std::span<const float> g) {
  if (w.size() != g.size())
    throw ValidationError("optimizer: parameter has " + std::to_string(w.size()) +
                          " values but the gradient " + std::to_string(g.size()));
  if (!m_.empty() && m_.size() != w.size())
    throw ValidationError("optimizer: state has " + std::to_string(m_.size()) +
                          " values but the parameter " + std::to_string(w.size()));
  ++t_;
  const std::size_t n = w.size();
  const float lr = float(spec_.learning_rate);
  switch (spec_.kind) {
    case OptimizerSpec::Kind::SGD: {
      if (spec_.momentum == 0.0) {
        for (std::size_t i = 0; i < n; ++i) w[i] -= lr * g[i];
        return;
      }
      const float mom = float(spec_.momentum);
      for (std::size_t i = 0; i < n; ++i) {
        m_[i] = mom * m_[i] - lr * g[i];
        w[i] += spec_.nesterov ? mom * m_[i] - lr * g[i] : m_[i];
      }
      return;
    }
    case OptimizerSpec::Kind::RMSprop: {
      const float rho = float(spec_.rho), eps = float(spec_.epsilon);
      for (std::size_t i = 0; i < n; ++i) {
        m_[i] = rho * m_[i] + (1.f - rho) * g[i] * g[i];
        w[i] -= lr * g[i] / std::sqrt(m_[i] + eps);
      }
      return;
    }
    case OptimizerSpec::Kind::Adam: {
      const double t = double(t_);
      const float lr_t = float(spec_.learning_rate * std::sqrt(1.0 - std::pow(spec_.beta_2, t)) /
                               (1.0 - std::pow(spec_.beta_1, t)));
      const float b1 = float(spec_.beta_1), b2 = float(spec_.beta_2), eps = float(spec_.epsilon);
      for (std::size_t i = 0; i < n; ++i) {
        m_[i] = b1 * m_[i] + (1.f - b1) * g[i];
        v_[i] = b2 * v_[i] + (1.f - b2) * g[i] * g[i];
        w[i] -= lr_t * m_[i] / (std::sqrt(v_[i]) + eps);
      }
      return;
    }
  }
}

}  // namespace myelin
