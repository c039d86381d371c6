// .npy / .npz reading and writing (see include/myelin/npz.hpp for the format notes).
#include "myelin/npz.hpp"

#include <zip.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "myelin/errors.hpp"

namespace myelin {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kAlign = 64;  // numpy's ARRAY_ALIGN: data starts at a multiple of 64 bytes

std::string shape_repr(const std::vector<size_t>& shape) {
  // Python's repr of a tuple: (), (5,), (2, 3)
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

size_t shape_product(const std::vector<size_t>& shape, const std::string& what) {
  size_t n = 1;
  for (size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<size_t>::max() / d) {
      throw IoError(what + ": shape " + shape_repr(shape) + " overflows the element count");
    }
    n *= d;
  }
  return n;
}

// Copies `n` elements of type T to little-endian bytes (a no-op copy on little-endian hosts).
template <typename T>
std::string to_le_bytes(const T* data, size_t n) {
  std::string out(n * sizeof(T), '\0');
  if (n == 0) return out;
  std::memcpy(out.data(), data, n * sizeof(T));
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    for (size_t i = 0; i < n; ++i) std::reverse(&out[i * sizeof(T)], &out[(i + 1) * sizeof(T)]);
  }
  return out;
}

template <typename T>
std::string typed_npy(const std::string& dtype, const std::vector<size_t>& shape, const T* data,
                      size_t n) {
  const std::string bytes = to_le_bytes(data, n);
  return detail::encode_npy(dtype, shape, bytes.data(), bytes.size());
}

template <typename Derived>
std::string matrix_npy(const std::string& dtype, const Eigen::MatrixBase<Derived>& m) {
  using Scalar = typename Derived::Scalar;
  // Eigen is column-major by default; numpy's default (and what we promise) is C order.
  const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = m;
  return typed_npy(dtype, {static_cast<size_t>(m.rows()), static_cast<size_t>(m.cols())}, rm.data(),
                   static_cast<size_t>(rm.size()));
}

// ---- header parsing: a Python dict literal such as
//      {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  void parse(std::string& descr, bool& fortran, std::vector<size_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') fail("unsupported (structured) dtype in 'descr'");
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = parse_bool();
        have_fortran = true;
      } else if (key == "shape") {
        shape = parse_tuple();
        have_shape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_ws();
      if (peek() != '}') fail("expected ',' or '}'");
    }
    expect('}');
    if (!have_descr || !have_fortran || !have_shape) {
      fail("header lacks one of 'descr', 'fortran_order', 'shape'");
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    const std::string shown = s_.size() > 200 ? s_.substr(0, 200) + "..." : s_;
    throw IoError(what_ + ": garbled npy header (" + msg + " at offset " + std::to_string(pos_) +
                  "): " + shown);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    skip_ws();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    ++pos_;
    const size_t end = s_.find(q, pos_);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  std::vector<size_t> parse_tuple() {
    std::vector<size_t> out;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a dimension");
      size_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const size_t digit = static_cast<size_t>(peek() - '0');
        if (v > (std::numeric_limits<size_t>::max() - digit) / 10) fail("dimension too large");
        v = v * 10 + digit;
        ++pos_;
      }
      // Python 2 numpy wrote longs as "3L".
      if (peek() == 'L') ++pos_;
      out.push_back(v);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')'");
    }
    expect(')');
    return out;
  }

  const std::string& s_;
  const std::string& what_;
  size_t pos_ = 0;
};

template <typename T>
void convert(const unsigned char* src, size_t n, bool swap, std::vector<double>& out) {
  out.resize(n);
  unsigned char buf[sizeof(T)];
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(buf, src + i * sizeof(T), sizeof(T));
    if (swap) std::reverse(buf, buf + sizeof(T));
    T v;
    std::memcpy(&v, buf, sizeof(T));
    out[i] = static_cast<double>(v);
  }
}

// Reorders Fortran-order (first index fastest) data into C order (last index fastest).
std::vector<double> fortran_to_c(const std::vector<double>& f, const std::vector<size_t>& shape) {
  const size_t nd = shape.size();
  if (nd < 2 || f.empty()) return f;
  std::vector<size_t> fstride(nd);
  size_t s = 1;
  for (size_t k = 0; k < nd; ++k) {
    fstride[k] = s;
    s *= shape[k];
  }
  std::vector<double> c(f.size());
  std::vector<size_t> idx(nd, 0);
  size_t off = 0;  // Fortran offset of idx
  for (size_t i = 0; i < c.size(); ++i) {
    c[i] = f[off];
    // Odometer increment in C order, keeping `off` in step.
    for (size_t k = nd; k-- > 0;) {
      if (++idx[k] < shape[k]) {
        off += fstride[k];
        break;
      }
      off -= fstride[k] * (shape[k] - 1);
      idx[k] = 0;
    }
  }
  return c;
}

std::string zip_error_text(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string msg = zip_error_strerror(&err);
  zip_error_fini(&err);
  return msg;
}

std::string archive_error_text(zip_t* za) {
  return zip_error_strerror(zip_get_error(za));
}

void check_name(const std::string& path, const std::string& name) {
  if (name.empty()) throw ValidationError("npz '" + path + "': array name must not be empty");
  if (name.find('\0') != std::string::npos) {
    throw ValidationError("npz '" + path + "': array name contains a NUL byte");
  }
}

void check_shape(const std::string& path, const std::string& name, size_t n,
                 const std::vector<size_t>& shape) {
  size_t prod = 1;
  for (size_t d : shape) prod *= d;
  if (prod != n) {
    throw ValidationError("npz '" + path + "': array '" + name + "' has " + std::to_string(n) +
                          " elements but shape " + shape_repr(shape) + " needs " +
                          std::to_string(prod));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// encode / decode

std::string detail::encode_npy(const std::string& dtype, const std::vector<size_t>& shape,
                               const void* data, size_t nbytes) {
  std::string dict =
      "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shape_repr(shape) + ", }";
  // Version 1.0 has a 2-byte header length; fall back to 2.0 (4 bytes) only if needed.
  size_t prefix = kMagicLen + 2 + 2;
  unsigned char major = 1;
  auto padded_len = [&](size_t pre) {
    const size_t total = pre + dict.size() + 1;  // +1 for the terminating '\n'
    return dict.size() + 1 + (kAlign - total % kAlign) % kAlign;
  };
  size_t hlen = padded_len(prefix);
  if (hlen > 0xffff) {
    major = 2;
    prefix = kMagicLen + 2 + 4;
    hlen = padded_len(prefix);
  }
  std::string out;
  out.reserve(prefix + hlen + nbytes);
  out.append(kMagic, kMagicLen);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  const int len_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < len_bytes; ++i) out.push_back(static_cast<char>((hlen >> (8 * i)) & 0xff));
  out += dict;
  out.append(hlen - dict.size() - 1, ' ');
  out.push_back('\n');
  if (nbytes > 0) out.append(static_cast<const char*>(data), nbytes);
  return out;
}

NpyArray detail::decode_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < kMagicLen + 4 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0) {
    throw IoError(what + ": not an npy array (missing \\x93NUMPY magic; " +
                  std::to_string(bytes.size()) + " bytes)");
  }
  const auto u8 = [&](size_t i) {
    return static_cast<size_t>(static_cast<unsigned char>(bytes[i]));
  };
  const size_t major = u8(6);
  size_t hlen = 0, prefix = 0;
  if (major == 1) {
    hlen = u8(8) | (u8(9) << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw IoError(what + ": truncated npy header");
    hlen = u8(8) | (u8(9) << 8) | (u8(10) << 16) | (u8(11) << 24);
    prefix = 12;
  } else {
    throw IoError(what + ": unsupported npy format version " + std::to_string(major) + "." +
                  std::to_string(u8(7)));
  }
  if (bytes.size() < prefix + hlen) {
    throw IoError(what + ": truncated npy header (header length " + std::to_string(hlen) +
                  ", only " + std::to_string(bytes.size() - prefix) + " bytes follow)");
  }
  const std::string header = bytes.substr(prefix, hlen);

  NpyArray a;
  HeaderParser(header, what).parse(a.dtype, a.fortran_order, a.shape);

  // dtype: byte-order char, kind, item size (e.g. "<f8", "|u1", ">i4", "|b1").
  const std::string& d = a.dtype;
  if (d.size() < 3 || std::string("<>|=").find(d[0]) == std::string::npos) {
    throw IoError(what + ": unsupported dtype '" + d + "'");
  }
  const char order = d[0];
  const char kind = d[1];
  size_t item = 0;
  for (size_t i = 2; i < d.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(d[i]))) {
      throw IoError(what + ": unsupported dtype '" + d + "'");
    }
    item = item * 10 + static_cast<size_t>(d[i] - '0');
    if (item > 16) throw IoError(what + ": unsupported dtype '" + d + "'");
  }
  const bool file_big = order == '>' || (order == '=' && std::endian::native == std::endian::big);
  const bool swap =
      item > 1 && order != '|' && file_big != (std::endian::native == std::endian::big);

  const size_t n = shape_product(a.shape, what);
  const size_t data_bytes_avail = bytes.size() - prefix - hlen;
  if (item != 0 && n > std::numeric_limits<size_t>::max() / item) {
    throw IoError(what + ": shape " + shape_repr(a.shape) + " is too large");
  }
  const size_t need = n * item;
  if (data_bytes_avail != need) {
    throw IoError(what + ": expected " + std::to_string(need) + " bytes of data for dtype " + d +
                  " shape " + shape_repr(a.shape) + ", found " + std::to_string(data_bytes_avail));
  }
  const auto* src = reinterpret_cast<const unsigned char*>(bytes.data() + prefix + hlen);
  std::vector<double> raw;
  const auto bad = [&]() -> IoError { return IoError(what + ": unsupported dtype '" + d + "'"); };
  switch (kind) {
    case 'f':
      if (item == 8)
        convert<double>(src, n, swap, raw);
      else if (item == 4)
        convert<float>(src, n, swap, raw);
      else
        throw bad();
      break;
    case 'i':
      if (item == 1)
        convert<int8_t>(src, n, swap, raw);
      else if (item == 2)
        convert<int16_t>(src, n, swap, raw);
      else if (item == 4)
        convert<int32_t>(src, n, swap, raw);
      else if (item == 8)
        convert<int64_t>(src, n, swap, raw);
      else
        throw bad();
      break;
    case 'u':
      if (item == 1)
        convert<uint8_t>(src, n, swap, raw);
      else if (item == 2)
        convert<uint16_t>(src, n, swap, raw);
      else if (item == 4)
        convert<uint32_t>(src, n, swap, raw);
      else if (item == 8)
        convert<uint64_t>(src, n, swap, raw);
      else
        throw bad();
      break;
    case 'b':
      if (item != 1) throw bad();
      convert<uint8_t>(src, n, false, raw);
      for (double& v : raw) v = v != 0.0 ? 1.0 : 0.0;
      break;
    default:
      throw bad();
  }
  a.data = a.fortran_order ? fortran_to_c(raw, a.shape) : std::move(raw);
  return a;
}

// ---------------------------------------------------------------------------------------------
// NpyArray

size_t NpyArray::size() const {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return n;
}

Eigen::MatrixXd NpyArray::matrix() const {
  if (shape.size() > 2) {
    throw ValidationError("NpyArray::matrix: array of dtype " + dtype + " has shape " +
                          shape_repr(shape) + "; only 0-, 1- or 2-D arrays convert to a matrix");
  }
  const Eigen::Index rows = shape.empty() ? 1 : static_cast<Eigen::Index>(shape[0]);
  const Eigen::Index cols = shape.size() == 2 ? static_cast<Eigen::Index>(shape[1]) : 1;
  if (static_cast<size_t>(rows * cols) != data.size()) {
    throw ValidationError("NpyArray::matrix: shape " + shape_repr(shape) + " does not match " +
                          std::to_string(data.size()) + " elements");
  }
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(data.data(), rows, cols);
}

// ---------------------------------------------------------------------------------------------
// NpzWriter

struct NpzWriter::Impl {
  zip_t* za = nullptr;
  bool compress = true;
  std::set<std::string> names;
};

NpzWriter::NpzWriter(std::string path, bool compress)
    : path_(std::move(path)), impl_(std::make_unique<Impl>()) {
  impl_->compress = compress;
  namespace fs = std::filesystem;
  const fs::path p(path_);
  const fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    throw IoError("cannot write npz '" + path_ + "': directory '" + parent.string() +
                  "' does not exist");
  }
  if (fs::is_directory(p, ec)) {
    throw IoError("cannot write npz '" + path_ + "': it is a directory");
  }
  int err = 0;
  impl_->za = zip_open(path_.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (impl_->za == nullptr) {
    throw IoError("cannot create npz '" + path_ + "': " + zip_error_text(err));
  }
}

NpzWriter::~NpzWriter() {
  try {
    close();
  } catch (const std::exception& e) {
    // Destructors must not throw; close() explicitly to get the exception.
    std::cerr << "myelin: " << e.what() << '\n';
  }
}

NpzWriter::NpzWriter(NpzWriter&&) noexcept = default;

NpzWriter& NpzWriter::operator=(NpzWriter&& other) noexcept {
  if (this != &other) {
    try {
      close();
    } catch (const std::exception& e) {
      std::cerr << "myelin: " << e.what() << '\n';
    }
    path_ = std::move(other.path_);
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void NpzWriter::add_entry(const std::string& name, std::string npy) {
  if (!impl_ || impl_->za == nullptr) {
    throw IoError("npz '" + path_ + "': cannot add '" + name + "' after close()");
  }
  check_name(path_, name);
  const std::string entry = name + ".npy";
  if (!impl_->names.insert(entry).second) {
    throw ValidationError("npz '" + path_ + "': duplicate array name '" + name + "'");
  }
  // libzip reads the buffer at zip_close(); give it its own malloc'd copy to free.
  void* buf = std::malloc(std::max<size_t>(npy.size(), 1));
  if (buf == nullptr) throw IoError("npz '" + path_ + "': out of memory adding '" + name + "'");
  std::memcpy(buf, npy.data(), npy.size());
  zip_source_t* src = zip_source_buffer(impl_->za, buf, npy.size(), 1);
  if (src == nullptr) {
    std::free(buf);
    throw IoError("npz '" + path_ + "': cannot add '" + name +
                  "': " + archive_error_text(impl_->za));
  }
  const zip_int64_t idx = zip_file_add(impl_->za, entry.c_str(), src, ZIP_FL_ENC_UTF_8);
  if (idx < 0) {
    zip_source_free(src);
    throw IoError("npz '" + path_ + "': cannot add '" + name +
                  "': " + archive_error_text(impl_->za));
  }
  const zip_int32_t method = impl_->compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
  if (zip_set_file_compression(impl_->za, static_cast<zip_uint64_t>(idx), method, 0) != 0) {
    throw IoError("npz '" + path_ + "': cannot set compression of '" + name +
                  "': " + archive_error_text(impl_->za));
  }
}

void NpzWriter::add(const std::string& name, const Eigen::MatrixXd& m) {
  add_entry(name, matrix_npy("<f8", m));
}
void NpzWriter::add(const std::string& name, const Eigen::MatrixXf& m) {
  add_entry(name, matrix_npy("<f4", m));
}
void NpzWriter::add(const std::string& name, const Eigen::VectorXd& v) {
  add_entry(name, typed_npy("<f8", {static_cast<size_t>(v.size())}, v.data(),
                            static_cast<size_t>(v.size())));
}
void NpzWriter::add(const std::string& name, const Eigen::VectorXf& v) {
  add_entry(name, typed_npy("<f4", {static_cast<size_t>(v.size())}, v.data(),
                            static_cast<size_t>(v.size())));
}
void NpzWriter::add(const std::string& name, const std::vector<double>& data,
                    std::vector<size_t> shape) {
  check_shape(path_, name, data.size(), shape);
  add_entry(name, typed_npy("<f8", shape, data.data(), data.size()));
}
void NpzWriter::add(const std::string& name, const std::vector<float>& data,
                    std::vector<size_t> shape) {
  check_shape(path_, name, data.size(), shape);
  add_entry(name, typed_npy("<f4", shape, data.data(), data.size()));
}
void NpzWriter::add(const std::string& name, const std::vector<int32_t>& data,
                    std::vector<size_t> shape) {
  check_shape(path_, name, data.size(), shape);
  add_entry(name, typed_npy("<i4", shape, data.data(), data.size()));
}
void NpzWriter::add(const std::string& name, const std::vector<int64_t>& data,
                    std::vector<size_t> shape) {
  check_shape(path_, name, data.size(), shape);
  add_entry(name, typed_npy("<i8", shape, data.data(), data.size()));
}
void NpzWriter::add(const std::string& name, const std::vector<uint8_t>& data,
                    std::vector<size_t> shape) {
  check_shape(path_, name, data.size(), shape);
  add_entry(name, typed_npy("|u1", shape, data.data(), data.size()));
}
void NpzWriter::add(const std::string& name, double scalar) {
  add_entry(name, typed_npy("<f8", {}, &scalar, 1));
}

void NpzWriter::close() {
  if (!impl_ || impl_->za == nullptr) return;
  zip_t* za = std::exchange(impl_->za, nullptr);
  const bool empty = impl_->names.empty();
  if (zip_close(za) != 0) {
    const std::string msg = archive_error_text(za);
    zip_discard(za);
    throw IoError("cannot write npz '" + path_ + "': " + msg);
  }
  if (empty) {
    // libzip writes no file for an empty archive; numpy.savez() writes a valid empty zip
    // (just the end-of-central-directory record), so do the same.
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    const char eocd[22] = {'P', 'K', 5, 6};
    f.write(eocd, sizeof eocd);
    if (!f) throw IoError("cannot write npz '" + path_ + "'");
  }
}

// ---------------------------------------------------------------------------------------------
// NpzReader

struct NpzReader::Impl {
  zip_t* za = nullptr;
  std::vector<std::string> entries;  // raw entry names, archive order
  ~Impl() {
    if (za != nullptr) zip_discard(za);
  }
};

NpzReader::NpzReader(std::string path) : path_(std::move(path)), impl_(std::make_unique<Impl>()) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path_, ec)) throw IoError("cannot read npz '" + path_ + "': no such file");
  if (!fs::is_regular_file(path_, ec)) {
    throw IoError("cannot read npz '" + path_ + "': not a regular file");
  }
  int err = 0;
  impl_->za = zip_open(path_.c_str(), ZIP_RDONLY, &err);
  if (impl_->za == nullptr) {
    const std::string why = err == ZIP_ER_NOZIP ? "not a zip archive" : zip_error_text(err);
    throw IoError("cannot read npz '" + path_ + "': " + why);
  }
  const zip_int64_t n = zip_get_num_entries(impl_->za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* nm = zip_get_name(impl_->za, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_GUESS);
    if (nm == nullptr) {
      throw IoError("cannot read npz '" + path_ + "': entry " + std::to_string(i) + ": " +
                    archive_error_text(impl_->za));
    }
    impl_->entries.emplace_back(nm);
  }
}

NpzReader::~NpzReader() = default;
NpzReader::NpzReader(NpzReader&&) noexcept = default;
NpzReader& NpzReader::operator=(NpzReader&&) noexcept = default;

std::vector<std::string> NpzReader::names() const {
  std::vector<std::string> out;
  out.reserve(impl_->entries.size());
  for (const std::string& e : impl_->entries) {
    const bool npy = e.size() > 4 && e.compare(e.size() - 4, 4, ".npy") == 0;
    out.push_back(npy ? e.substr(0, e.size() - 4) : e);
  }
  return out;
}

bool NpzReader::contains(const std::string& name) const {
  const auto& es = impl_->entries;
  return std::find(es.begin(), es.end(), name + ".npy") != es.end() ||
         std::find(es.begin(), es.end(), name) != es.end();
}

NpyArray NpzReader::get(const std::string& name) const {
  const auto& es = impl_->entries;
  auto it = std::find(es.begin(), es.end(), name + ".npy");
  if (it == es.end()) it = std::find(es.begin(), es.end(), name);
  if (it == es.end()) {
    std::string have;
    for (const std::string& n : names()) have += (have.empty() ? "" : ", ") + n;
    throw IoError("npz '" + path_ + "': no array '" + name +
                  "' (has: " + (have.empty() ? "nothing" : have) + ")");
  }
  const auto idx = static_cast<zip_uint64_t>(it - es.begin());
  const std::string what = "npz '" + path_ + "' entry '" + *it + "'";

  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(impl_->za, idx, 0, &st) != 0) {
    throw IoError(what + ": " + archive_error_text(impl_->za));
  }
  zip_file_t* zf = zip_fopen_index(impl_->za, idx, 0);
  if (zf == nullptr) throw IoError(what + ": " + archive_error_text(impl_->za));
  std::string bytes;
  if ((st.valid & ZIP_STAT_SIZE) != 0) {
    bytes.reserve(static_cast<size_t>(std::min<zip_uint64_t>(st.size, zip_uint64_t{1} << 30)));
  }
  char buf[1 << 16];
  while (true) {
    const zip_int64_t got = zip_fread(zf, buf, sizeof buf);
    if (got < 0) {
      const std::string msg = zip_error_strerror(zip_file_get_error(zf));
      zip_fclose(zf);
      throw IoError(what + ": " + msg);
    }
    if (got == 0) break;
    bytes.append(buf, static_cast<size_t>(got));
  }
  zip_fclose(zf);
  return detail::decode_npy(bytes, what);
}

// ---------------------------------------------------------------------------------------------
// single .npy files

void save_npy(const std::string& path, const Eigen::MatrixXd& m) {
  const std::string bytes = matrix_npy("<f8", m);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw IoError("cannot write npy '" + path + "': cannot open for writing");
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw IoError("cannot write npy '" + path + "': write failed");
}

NpyArray load_npy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw IoError("cannot read npy '" + path + "': no such file");
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("cannot read npy '" + path + "': cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw IoError("cannot read npy '" + path + "': read failed");
  return detail::decode_npy(ss.str(), "npy '" + path + "'");
}

}  // namespace myelin
