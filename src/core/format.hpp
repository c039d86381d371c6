// Private formatting helpers shared by the library's translation units (not public API).
#pragma once

#include <charconv>
#include <cmath>
#include <string>

namespace myelin::detail {

/// Shortest round-trip decimal form of a double, like Python's repr ("-1", "0.005", "1e-07"),
/// with "nan", "inf" and "-inf" for the non-finite values.
inline std::string fmt(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

/// "(r, c)", a matrix shape as numpy prints it.
inline std::string shape_str(long r, long c) {
  std::string s = "(";  // (built in steps: GCC 12 -Wrestrict false positive on "(" + str)
  s += std::to_string(r);
  s += ", ";
  s += std::to_string(c);
  s += ")";
  return s;
}

}  // namespace myelin::detail
