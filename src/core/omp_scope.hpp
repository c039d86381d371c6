// Sets the OpenMP thread count for a scope and restores it after (private helper).
#pragma once

#include <omp.h>

namespace myelin::detail {

class OmpThreadScope {
 public:
  explicit OmpThreadScope(int n) : old_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~OmpThreadScope() { omp_set_num_threads(old_); }
  OmpThreadScope(const OmpThreadScope&) = delete;
  OmpThreadScope& operator=(const OmpThreadScope&) = delete;

 private:
  int old_;
};

}  // namespace myelin::detail
