#include <filesystem>
#include <fstream>

#include "demos.hpp"
#include "myelin/errors.hpp"

namespace myelin::examples {

std::string prepare_dir(const std::string& out_dir, const std::string& name) {
  std::filesystem::path p = std::filesystem::path(out_dir) / name;
  std::error_code ec;
  std::filesystem::create_directories(p, ec);
  if (ec) throw IoError("cannot create output directory '" + p.string() + "': " + ec.message());
  return p.string();
}

void write_metrics(const std::string& dir, const nlohmann::json& metrics) {
  const std::string path = dir + "/metrics.json";
  std::ofstream f(path);
  if (!f) throw IoError("cannot write '" + path + "'");
  f << metrics.dump(2) << "\n";
}

}  // namespace myelin::examples
