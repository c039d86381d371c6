// numpy-compatible array files: `.npy` (one array) and `.npz` (a zip archive of `.npy` entries,
// what `numpy.savez` / `numpy.savez_compressed` write and `numpy.load` reads).
//
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// Writing always produces `.npy` version 1.0 (2.0 only when the header would not fit in 64 KiB),
// C (row-major) order, little-endian dtypes, header padded so the data starts at a multiple of
// 64 bytes. Eigen matrices are column-major by default, so they are transposed on the way out.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace myelin {

/// One array read from a `.npy` file or `.npz` entry.
struct NpyArray {
  std::string dtype;           ///< numpy descr as stored, e.g. "<f8", "<i4", "|u1"
  std::vector<size_t> shape;   ///< empty for a 0-d (scalar) array
  bool fortran_order = false;  ///< how the file stored the data (informational)
  /// All elements converted to double, always in C (row-major) order whatever the file used.
  std::vector<double> data;

  /// Number of elements (product of shape; 1 for a 0-d array).
  size_t size() const;
  /// 2-D → rows × cols; 1-D → a column (n × 1); 0-d → 1 × 1. More dimensions → ValidationError.
  Eigen::MatrixXd matrix() const;
};

/// Writes a `.npz` archive. Entries are named `name + ".npy"` so `numpy.load(path)[name]` works.
/// With `compress` the entries are deflated (like `numpy.savez_compressed`), otherwise stored
/// (like `numpy.savez`). The file is written by close(); the destructor closes too but can only
/// report failure on stderr, so call close() yourself when you care about errors.
class NpzWriter {
 public:
  explicit NpzWriter(std::string path, bool compress = true);
  ~NpzWriter();
  NpzWriter(const NpzWriter&) = delete;
  NpzWriter& operator=(const NpzWriter&) = delete;
  NpzWriter(NpzWriter&&) noexcept;
  NpzWriter& operator=(NpzWriter&&) noexcept;

  void add(const std::string& name, const Eigen::MatrixXd& m);  ///< '<f8', shape (rows, cols)
  void add(const std::string& name, const Eigen::MatrixXf& m);  ///< '<f4', shape (rows, cols)
  void add(const std::string& name, const Eigen::VectorXd& v);  ///< '<f8', shape (n,)
  void add(const std::string& name, const Eigen::VectorXf& v);  ///< '<f4', shape (n,)
  /// Flat data in C order with an explicit shape (product must equal data.size(); an empty
  /// shape means a 0-d array holding exactly one element).
  void add(const std::string& name, const std::vector<double>& data, std::vector<size_t> shape);
  void add(const std::string& name, const std::vector<float>& data, std::vector<size_t> shape);
  void add(const std::string& name, const std::vector<int32_t>& data, std::vector<size_t> shape);
  void add(const std::string& name, const std::vector<int64_t>& data, std::vector<size_t> shape);
  void add(const std::string& name, const std::vector<uint8_t>& data, std::vector<size_t> shape);
  void add(const std::string& name, double scalar);  ///< 0-d '<f8'

  /// Writes the archive. Idempotent. Throws IoError if the file cannot be written.
  void close();
  const std::string& path() const { return path_; }

 private:
  void add_entry(const std::string& name, std::string npy_bytes);

  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

/// Reads a `.npz` archive (numpy's, or NpzWriter's). Entries may be stored or deflated.
class NpzReader {
 public:
  explicit NpzReader(std::string path);
  ~NpzReader();
  NpzReader(NpzReader&&) noexcept;
  NpzReader& operator=(NpzReader&&) noexcept;
  NpzReader(const NpzReader&) = delete;
  NpzReader& operator=(const NpzReader&) = delete;

  /// Array names, without the ".npy" suffix (like `numpy.load(path).files`), in archive order.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  /// Reads and decodes one entry; IoError naming the path and entry if missing or corrupt.
  /// Not safe to call concurrently on the same reader.
  NpyArray get(const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

/// Writes one matrix as a `.npy` file ('<f8', C order, shape (rows, cols)).
void save_npy(const std::string& path, const Eigen::MatrixXd& m);
/// Reads a `.npy` file.
NpyArray load_npy(const std::string& path);

namespace detail {
/// Encodes a `.npy` byte string from raw little-endian element bytes in C order.
std::string encode_npy(const std::string& dtype, const std::vector<size_t>& shape, const void* data,
                       size_t nbytes);
/// Decodes a `.npy` byte string; `what` names the source in error messages.
NpyArray decode_npy(const std::string& bytes, const std::string& what);
}  // namespace detail

}  // namespace myelin
