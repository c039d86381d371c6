// Exception types. Every message names the offending object (label, or kind + index) and
// the bad value (DESIGN.md, "Errors").
#pragma once

#include <stdexcept>
#include <string>

namespace myelin {

/// Base of every error Myelin throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A model description is invalid (bad shape, impossible parameter), found while describing.
class ValidationError : public Error {
 public:
  using Error::Error;
};

/// The builder could not turn the model into an executable one (e.g. non-positive gains).
class BuildError : public Error {
 public:
  using Error::Error;
};

/// Something went wrong while stepping (e.g. a node function returned NaN).
class SimulationError : public Error {
 public:
  using Error::Error;
};

/// Reading or writing a file failed (missing, truncated, wrong format).
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace myelin
