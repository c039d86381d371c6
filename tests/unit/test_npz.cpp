// .npy / .npz: round trips of every dtype, byte-exact headers, numpy-written files (crafted by
// hand exactly as numpy writes them), and corrupt inputs.
#include <gtest/gtest.h>
#include <zip.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "myelin/errors.hpp"
#include "myelin/npz.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using myelin::IoError;
using myelin::NpyArray;
using myelin::NpzReader;
using myelin::NpzWriter;
using myelin::ValidationError;

namespace {

using myelin::test::error_of;
using myelin::test::read_bytes;
using myelin::test::TmpDir;
using myelin::test::write_bytes;

// The header numpy 1.x writes: the dict, spaces up to a 64-byte boundary, '\n'.
std::string numpy_header(const std::string& dict) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h;
}

template <typename T>
std::string le_bytes(const std::vector<T>& v) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(s.data(), v.data(), s.size());  // the test machine is little-endian
  return s;
}

// An archive with raw entries written directly through libzip, as numpy's zipfile would.
void write_zip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& es,
               bool deflate) {
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(za, nullptr);
  for (const auto& [name, bytes] : es) {
    zip_source_t* src = zip_source_buffer(za, bytes.data(), bytes.size(), 0);
    const zip_int64_t idx = zip_file_add(za, name.c_str(), src, 0);
    ASSERT_GE(idx, 0);
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx),
                             deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  ASSERT_EQ(zip_close(za), 0);
}

}  // namespace

class NpzRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(NpzRoundTrip, EveryDtype) {
  TmpDir tmp;
  const std::string path = tmp.file("all.npz");
  Eigen::MatrixXd md(2, 3);
  md << 1.5, -2.25, 3, 4, 5e-300, -6e300;
  Eigen::MatrixXf mf(3, 2);
  mf << 1.5f, 2, 3, -4, 5, 6.125f;
  Eigen::VectorXd vd(4);
  vd << 0.1, 0.2, 0.3, -0.4;
  Eigen::VectorXf vf(2);
  vf << 7.5f, -8.25f;
  const std::vector<double> d = {1, 2, 3, 4, 5, 6};
  const std::vector<float> f = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};
  const std::vector<int32_t> i4 = {-2147483647 - 1, -1, 0, 2147483647};
  const std::vector<int64_t> i8 = {-(int64_t{1} << 52), 1, int64_t{1} << 40, 42};
  const std::vector<uint8_t> u1 = {0, 1, 127, 128, 255};
  {
    NpzWriter w(path, GetParam());
    w.add("md", md);
    w.add("mf", mf);
    w.add("vd", vd);
    w.add("vf", vf);
    w.add("d", d, {2, 3});
    w.add("f", f, {3, 1, 2});
    w.add("i4", i4, {4});
    w.add("i8", i8, {2, 2});
    w.add("u1", u1, {5});
    w.add("scalar", 3.25);
    w.add("empty", Eigen::MatrixXd(0, 3));
    w.close();
    w.close();  // idempotent
  }
  NpzReader r(path);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"md", "mf", "vd", "vf", "d", "f", "i4", "i8", "u1",
                                                 "scalar", "empty"}));
  EXPECT_TRUE(r.contains("md"));
  EXPECT_TRUE(r.contains("md.npy"));
  EXPECT_FALSE(r.contains("nope"));

  NpyArray a = r.get("md");
  EXPECT_EQ(a.dtype, "<f8");
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_FALSE(a.fortran_order);
  // C order: the second element is row 0, column 1.
  EXPECT_EQ(a.data, (std::vector<double>{1.5, -2.25, 3, 4, 5e-300, -6e300}));
  EXPECT_EQ(a.matrix(), md);

  a = r.get("mf");
  EXPECT_EQ(a.dtype, "<f4");
  EXPECT_EQ(a.shape, (std::vector<size_t>{3, 2}));
  EXPECT_EQ(a.matrix(), mf.cast<double>());

  a = r.get("vd");
  EXPECT_EQ(a.dtype, "<f8");
  EXPECT_EQ(a.shape, (std::vector<size_t>{4}));
  EXPECT_EQ(a.matrix(), Eigen::MatrixXd(vd));

  a = r.get("vf");
  EXPECT_EQ(a.dtype, "<f4");
  EXPECT_EQ(a.shape, (std::vector<size_t>{2}));
  EXPECT_EQ(a.data, (std::vector<double>{7.5, -8.25}));

  a = r.get("d");
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.data, d);
  EXPECT_EQ(a.matrix()(1, 0), 4.0);

  a = r.get("f");
  EXPECT_EQ(a.dtype, "<f4");
  EXPECT_EQ(a.shape, (std::vector<size_t>{3, 1, 2}));
  EXPECT_EQ(a.data, (std::vector<double>{0.5, 1.5, 2.5, 3.5, 4.5, 5.5}));
  EXPECT_THROW(a.matrix(), ValidationError);

  a = r.get("i4");
  EXPECT_EQ(a.dtype, "<i4");
  EXPECT_EQ(a.data, (std::vector<double>{-2147483648.0, -1, 0, 2147483647.0}));

  a = r.get("i8");
  EXPECT_EQ(a.dtype, "<i8");
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 2}));
  EXPECT_EQ(a.data, (std::vector<double>{-4503599627370496.0, 1, 1099511627776.0, 42}));

  a = r.get("u1");
  EXPECT_EQ(a.dtype, "|u1");
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 127, 128, 255}));

  a = r.get("scalar");
  EXPECT_EQ(a.dtype, "<f8");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.matrix(), Eigen::MatrixXd::Constant(1, 1, 3.25));

  a = r.get("empty");
  EXPECT_EQ(a.shape, (std::vector<size_t>{0, 3}));
  EXPECT_TRUE(a.data.empty());
  EXPECT_EQ(a.matrix().rows(), 0);
  EXPECT_EQ(a.matrix().cols(), 3);
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, NpzRoundTrip, ::testing::Values(false, true));

TEST(Npz, CompressionShrinksRepetitiveData) {
  TmpDir tmp;
  const Eigen::MatrixXd z = Eigen::MatrixXd::Zero(200, 200);
  {
    NpzWriter w(tmp.file("c.npz"), true);
    w.add("z", z);
  }  // destructor closes
  {
    NpzWriter w(tmp.file("s.npz"), false);
    w.add("z", z);
  }
  EXPECT_LT(fs::file_size(tmp.file("c.npz")), 20000u);
  EXPECT_GT(fs::file_size(tmp.file("s.npz")), 320000u);
  EXPECT_EQ(NpzReader(tmp.file("c.npz")).get("z").matrix(), z);
}

TEST(Npz, EmptyArchiveIsAValidZip) {
  TmpDir tmp;
  NpzWriter(tmp.file("e.npz")).close();
  ASSERT_TRUE(fs::exists(tmp.file("e.npz")));
  EXPECT_TRUE(NpzReader(tmp.file("e.npz")).names().empty());
}

TEST(Npy, HeaderIsByteExactAndAligned) {
  TmpDir tmp;
  Eigen::MatrixXd m(2, 3);
  m << 0, 1, 2, 3, 4, 5;
  myelin::save_npy(tmp.file("m.npy"), m);
  const std::string b = read_bytes(tmp.file("m.npy"));
  // Exactly what numpy.save(np.arange(6.).reshape(2, 3)) writes.
  const std::string expected_header =
      numpy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }");
  ASSERT_EQ(b.size(), 128u + 48u);
  EXPECT_EQ(b.substr(0, 128), expected_header);
  EXPECT_EQ(b[8], 'v');  // header length 118
  EXPECT_EQ(b[127], '\n');
  EXPECT_EQ(b.substr(128), le_bytes(std::vector<double>{0, 1, 2, 3, 4, 5}));

  const NpyArray a = myelin::load_npy(tmp.file("m.npy"));
  EXPECT_EQ(a.matrix(), m);
}

TEST(Npy, EncodeShapesLikePythonRepr) {
  const std::string one = myelin::detail::encode_npy("<f8", {5}, std::string(40, '\0').data(), 40);
  EXPECT_NE(one.find("'shape': (5,), }"), std::string::npos);
  EXPECT_EQ(one.size() % 64, 40u);  // data starts at a multiple of 64
  const std::string zero = myelin::detail::encode_npy("<f8", {}, std::string(8, '\0').data(), 8);
  EXPECT_NE(zero.find("'shape': (), }"), std::string::npos);
  EXPECT_EQ((zero.size() - 8) % 64, 0u);
}

TEST(Npy, ReadsHandCraftedNumpyFiles) {
  TmpDir tmp;
  // np.arange(6, dtype='<i8').reshape(2, 3)
  write_bytes(tmp.file("i8.npy"),
              numpy_header("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }") +
                  le_bytes(std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  NpyArray a = myelin::load_npy(tmp.file("i8.npy"));
  EXPECT_EQ(a.dtype, "<i8");
  EXPECT_EQ(a.matrix()(1, 2), 5.0);

  // np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)): stored column by column.
  write_bytes(tmp.file("f4f.npy"),
              numpy_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }") +
                  le_bytes(std::vector<float>{0, 3, 1, 4, 2, 5}));
  a = myelin::load_npy(tmp.file("f4f.npy"));
  EXPECT_TRUE(a.fortran_order);
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 2, 3, 4, 5}));  // returned in C order
  Eigen::MatrixXd expect(2, 3);
  expect << 0, 1, 2, 3, 4, 5;
  EXPECT_EQ(a.matrix(), expect);

  // 3-D Fortran order: element (i, j, k) at i + 2j + 4k.
  std::vector<int32_t> f3(2 * 2 * 3);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 3; ++k) f3[static_cast<size_t>(i + 2 * j + 4 * k)] = 100 * i + 10 * j + k;
  write_bytes(
      tmp.file("f3.npy"),
      numpy_header("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2, 3), }") + le_bytes(f3));
  a = myelin::load_npy(tmp.file("f3.npy"));
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112}));

  // Big-endian doubles and bools also decode.
  std::string be = numpy_header("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }");
  be += std::string("\x40\x09\x21\xfb\x54\x44\x2d\x18", 8);  // pi
  write_bytes(tmp.file("be.npy"), be);
  EXPECT_DOUBLE_EQ(myelin::load_npy(tmp.file("be.npy")).data[0], 3.141592653589793);
  write_bytes(tmp.file("b1.npy"),
              numpy_header("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }") +
                  std::string("\x01\x00\x01", 3));
  EXPECT_EQ(myelin::load_npy(tmp.file("b1.npy")).data, (std::vector<double>{1, 0, 1}));

  // A numpy.savez archive (stored) and savez_compressed (deflated) of such entries.
  for (bool deflate : {false, true}) {
    const std::string zpath = tmp.file(deflate ? "np_c.npz" : "np_s.npz");
    write_zip(
        zpath,
        {{"weights.npy", numpy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }") +
                             le_bytes(std::vector<double>{0.25, -0.5})},
         {"labels.npy", numpy_header("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }") +
                            std::string("\x07\x00\x09", 3)}},
        deflate);
    NpzReader r(zpath);
    EXPECT_EQ(r.names(), (std::vector<std::string>{"weights", "labels"}));
    EXPECT_EQ(r.get("weights").data, (std::vector<double>{0.25, -0.5}));
    EXPECT_EQ(r.get("labels").data, (std::vector<double>{7, 0, 9}));
  }
}

TEST(Npz, WriterValidatesInputs) {
  TmpDir tmp;
  NpzWriter w(tmp.file("v.npz"));
  EXPECT_THROW(w.add("x", std::vector<double>{1, 2, 3}, {2, 2}), ValidationError);
  try {
    w.add("x", std::vector<int32_t>{1, 2, 3}, {2, 2});
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("'x' has 3 elements but shape (2, 2) needs 4"),
              std::string::npos)
        << e.what();
  }
  w.add("a", 1.0);
  EXPECT_THROW(w.add("a", 2.0), ValidationError);
  EXPECT_THROW(w.add("", 2.0), ValidationError);
  w.close();
  EXPECT_THROW(w.add("b", 2.0), IoError);
  EXPECT_THROW(NpzWriter(tmp.file("no/such/dir/x.npz")), IoError);
}

TEST(Npz, CorruptInputsNameThePathAndEntry) {
  TmpDir tmp;
  // Missing file.
  std::string msg = error_of([&] { NpzReader r(tmp.file("missing.npz")); });
  EXPECT_NE(msg.find("missing.npz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
  msg = error_of([&] { myelin::load_npy(tmp.file("missing.npy")); });
  EXPECT_NE(msg.find("missing.npy"), std::string::npos) << msg;

  // Not a zip.
  write_bytes(tmp.file("text.npz"), "this is not a zip archive at all, just some text\n");
  msg = error_of([&] { NpzReader r(tmp.file("text.npz")); });
  EXPECT_NE(msg.find("text.npz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a zip"), std::string::npos) << msg;

  // Missing entry.
  {
    NpzWriter w(tmp.file("ok.npz"));
    w.add("present", 1.0);
  }
  msg = error_of([&] { NpzReader(tmp.file("ok.npz")).get("absent"); });
  EXPECT_NE(msg.find("ok.npz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'absent'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("present"), std::string::npos) << msg;

  // Entries with bad npy content: truncated header, garbled header, short data, no magic.
  const std::string good =
      numpy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }") +
      le_bytes(std::vector<double>{0, 1, 2, 3, 4, 5});
  std::string garbled = good;
  garbled.replace(garbled.find("(2, 3)"), 6, "(2, x)");
  std::string bad_dtype = good;
  bad_dtype.replace(bad_dtype.find("<f8"), 3, "<c8");
  write_zip(tmp.file("bad.npz"),
            {{"trunc_header.npy", good.substr(0, 40)},
             {"garbled.npy", garbled},
             {"short_data.npy", good.substr(0, good.size() - 8)},
             {"no_magic.npy", "hello world, definitely not npy"},
             {"bad_dtype.npy", bad_dtype}},
            true);
  NpzReader r(tmp.file("bad.npz"));
  const auto check = [&](const std::string& entry, const std::string& needle) {
    const std::string m = error_of([&] { r.get(entry); });
    EXPECT_NE(m.find("bad.npz"), std::string::npos) << m;
    EXPECT_NE(m.find(entry + ".npy"), std::string::npos) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m;
  };
  check("trunc_header", "truncated npy header");
  check("garbled", "garbled npy header");
  check("short_data", "expected 48 bytes of data");
  check("no_magic", "magic");
  check("bad_dtype", "unsupported dtype '<c8'");

  // A deflated archive whose compressed bytes were damaged.
  {
    Eigen::MatrixXd m = Eigen::MatrixXd::Random(100, 100);
    NpzWriter w(tmp.file("damaged.npz"), true);
    w.add("m", m);
  }
  std::string z = read_bytes(tmp.file("damaged.npz"));
  for (size_t i = 200; i < 400; ++i) z[i] = static_cast<char>(z[i] ^ 0x5a);
  write_bytes(tmp.file("damaged.npz"), z);
  msg = error_of([&] { NpzReader(tmp.file("damaged.npz")).get("m"); });
  EXPECT_NE(msg.find("damaged.npz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("m.npy"), std::string::npos) << msg;
}
