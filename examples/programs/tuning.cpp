// Stand-alone program for the chapter demo: writes figures and metrics under ./out.
#include <cstdio>

#include "demos.hpp"

int main(int argc, char** argv) {
  myelin::examples::DemoOptions o;
  if (argc > 1) o.out_dir = argv[1];
  std::printf("%s\n", myelin::examples::demo_tuning(o).dump(2).c_str());
  return 0;
}
