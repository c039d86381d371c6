// Learning rule types (spec §8). These describe a rule and its parameters; the builder and
// the simulator implement them.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "myelin/synapses.hpp"

namespace myelin {

class LearningRuleType {
 public:
  virtual ~LearningRuleType() = default;
  virtual std::string repr() const = 0;
  virtual std::string kind() const = 0;
  /// What the rule modifies: "decoders", "weights" or "encoders".
  virtual std::string modifies() const = 0;
  double learning_rate = 0.0;
};

using LearningRulePtr = std::shared_ptr<const LearningRuleType>;

/// Prescribed Error Sensitivity: Δ = −(κ·dt/N_pre)·e ⊗ ā (spec §8.1).
class PES : public LearningRuleType {
 public:
  explicit PES(double learning_rate = 1e-4, SynapseParam pre_synapse = 0.005);
  std::string repr() const override;
  std::string kind() const override { return "PES"; }
  std::string modifies() const override { return "decoders"; }
  SynapseParam pre_synapse;
};

/// Recursive least squares (spec §8.2).
class RLS : public LearningRuleType {
 public:
  explicit RLS(double learning_rate = 1e-3, SynapseParam pre_synapse = 0.005);
  std::string repr() const override;
  std::string kind() const override { return "RLS"; }
  std::string modifies() const override { return "decoders"; }
  SynapseParam pre_synapse;
};

/// BCM (spec §8.3): Δ = κ·dt·(p ⊙ (p − θ)) ⊗ ā.
class BCM : public LearningRuleType {
 public:
  explicit BCM(double learning_rate = 1e-9, SynapseParam pre_synapse = 0.005,
               std::optional<SynapseParam> post_synapse = std::nullopt,
               SynapseParam theta_synapse = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "BCM"; }
  std::string modifies() const override { return "weights"; }
  SynapseParam pre_synapse;
  SynapseParam post_synapse;
  SynapseParam theta_synapse;
};

/// Oja (spec §8.4): Δ = κ·dt·(p ⊗ ā − β·p² ⊙ W).
class Oja : public LearningRuleType {
 public:
  explicit Oja(double learning_rate = 1e-6, SynapseParam pre_synapse = 0.005,
               std::optional<SynapseParam> post_synapse = std::nullopt, double beta = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "Oja"; }
  std::string modifies() const override { return "weights"; }
  SynapseParam pre_synapse;
  SynapseParam post_synapse;
  double beta;
};

/// Voja (spec §8.5): encoder learning on the post ensemble.
class Voja : public LearningRuleType {
 public:
  explicit Voja(double learning_rate = 1e-2, SynapseParam post_synapse = 0.005);
  std::string repr() const override;
  std::string kind() const override { return "Voja"; }
  std::string modifies() const override { return "encoders"; }
  SynapseParam post_synapse;
};

/// Zero or more learning rules: a single rule converts implicitly.
class LearningRules {
 public:
  LearningRules() = default;
  template <class R, class = std::enable_if_t<std::is_base_of_v<LearningRuleType, R>>>
  LearningRules(const R& r) : rules_{std::make_shared<R>(r)} {}              // NOLINT
  LearningRules(LearningRulePtr r) : rules_{std::move(r)} {}                 // NOLINT
  LearningRules(std::vector<LearningRulePtr> rs) : rules_(std::move(rs)) {}  // NOLINT
  const std::vector<LearningRulePtr>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }
  std::size_t size() const { return rules_.size(); }

 private:
  std::vector<LearningRulePtr> rules_;
};

}  // namespace myelin
