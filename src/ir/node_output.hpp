// Checking and storing what a node's output function returned, shared by every executor
// (the NEF simulator and the trainer's rate and spiking executors); private header.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "core/format.hpp"
#include "myelin/errors.hpp"

namespace myelin::ir {

/// out[0..n) = v as floats; a SimulationError naming the node if v does not have n values or
/// holds a non-finite one (t is the simulation time of the call).
inline void take_node_output(const std::string& node, const std::vector<double>& v, std::size_t n,
                             double t, float* out) {
  if (v.size() != n)
    throw SimulationError(node + ": output function returned " + std::to_string(v.size()) +
                          " values at t = " + detail::fmt(t) + ", expected " + std::to_string(n));
  for (std::size_t k = 0; k < n; ++k) {
    if (!std::isfinite(v[k]))
      throw SimulationError(node + ": output function returned a non-finite value (" +
                            detail::fmt(v[k]) + ") in element " + std::to_string(k) +
                            " at t = " + detail::fmt(t));
    out[k] = static_cast<float>(v[k]);
  }
}

}  // namespace myelin::ir
