// Private helpers shared by the neuron-type translation units (not part of the public API).
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include "core/format.hpp"
#include "myelin/errors.hpp"

namespace myelin::neurons_detail {

using detail::fmt;

/// Throws ValidationError unless `value` is finite and satisfies the predicate.
template <class Pred>
void require(std::string_view kind, std::string_view name, double value, Pred ok,
             std::string_view what) {
  if (std::isnan(value) || !ok(value)) {
    throw ValidationError(std::string(kind) + ": " + std::string(name) + " = " + fmt(value) +
                          " is invalid (must be " + std::string(what) + ")");
  }
}

inline void require_positive(std::string_view kind, std::string_view name, double value) {
  require(
      kind, name, value, [](double v) { return v > 0.0 && std::isfinite(v); }, "> 0 and finite");
}

inline void require_nonnegative(std::string_view kind, std::string_view name, double value) {
  require(
      kind, name, value, [](double v) { return v >= 0.0 && std::isfinite(v); }, ">= 0 and finite");
}

inline void require_finite(std::string_view kind, std::string_view name, double value) {
  require(
      kind, name, value, [](double v) { return std::isfinite(v); }, "finite");
}

/// "<kind> neuron <i>: <msg>" as a BuildError.
[[noreturn]] inline void neuron_error(std::string_view kind, std::size_t i,
                                      const std::string& msg) {
  throw BuildError(std::string(kind) + " neuron " + std::to_string(i) + ": " + msg);
}

}  // namespace myelin::neurons_detail
