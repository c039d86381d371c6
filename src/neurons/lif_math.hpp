// Float polynomial approximations shared by the LIF kernels of the simulator
// (src/neurons/lif.cpp) and the deep-SNN trainer (src/train/): both must agree to float
// rounding. Generic over the lane type T: float or a GCC vector of floats. Private header.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace myelin::lif_math {

template <class T>
inline T splat(float x) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    return T{} + x;
  }
}

/// -expm1(-x) for 0 <= x <= 0.5 by its Taylor series (truncation error < 6e-9, i.e. below float
/// resolution of the result). Only differs from the constant for neurons leaving their
/// refractory period mid-step, but is cheap enough to evaluate for every lane.
template <class T>
inline T neg_expm1_small(T x) {
  T p = 1.0f - x * (1.0f / 8.0f);
  p = 1.0f - x * (1.0f / 7.0f) * p;
  p = 1.0f - x * (1.0f / 6.0f) * p;
  p = 1.0f - x * (1.0f / 5.0f) * p;
  p = 1.0f - x * (1.0f / 4.0f) * p;
  p = 1.0f - x * (1.0f / 3.0f) * p;
  p = 1.0f - x * (1.0f / 2.0f) * p;
  return x * p;
}

/// log1p(x) for -0.3935 <= x <= 0 (i.e. x >= expm1(-0.5)) via log1p(x) = 2 atanh(x / (2 + x)),
/// |y| <= 0.245, series to y^13 (truncation error < 1e-10 relative).
template <class T>
inline T log1p_small(T x) {
  const T y = x / (2.0f + x);
  const T y2 = y * y;
  T p = splat<T>(1.0f / 13.0f);
  p = 1.0f / 11.0f + y2 * p;
  p = 1.0f / 9.0f + y2 * p;
  p = 1.0f / 7.0f + y2 * p;
  p = 1.0f / 5.0f + y2 * p;
  p = 1.0f / 3.0f + y2 * p;
  p = 1.0f + y2 * p;
  return 2.0f * y * p;
}

/// Natural log for finite x > 0, branch-free so loops over it vectorise: x = 2^e·m with
/// m in [√½, √2), log m = 2 atanh(s), s = (m − 1)/(m + 1) ≤ 0.172, odd series to s¹¹
/// (relative error < 1e-9 before float rounding).
inline float log_pos(float x) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  float e = static_cast<float>(static_cast<int>(bits >> 23) - 127);
  float m = std::bit_cast<float>((bits & 0x007fffffu) | 0x3f800000u);
  const bool big = m > 1.41421356f;
  m = big ? 0.5f * m : m;
  e = big ? e + 1.0f : e;
  const float s = (m - 1.0f) / (m + 1.0f);
  const float s2 = s * s;
  const float p =
      1.0f +
      s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11)))));
  return e * 0.693147180559945f + 2.0f * s * p;
}

}  // namespace myelin::lif_math
