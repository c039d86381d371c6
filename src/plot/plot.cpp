// Figure / Axes → gnuplot script + binary data files → pngcairo PNG. See include/myelin/plot.hpp.
//
// matplotlib defaults mirrored here (matplotlibrc of matplotlib 3.x):
//   figure.subplot.{left,right,bottom,top,wspace,hspace} = .125, .9, .11, .88, .2, .2
//   axes.linewidth .8pt, xtick.major.size 3.5pt, width .8pt, pad 3.5pt, font 10pt, title 12pt
//   axes.xmargin = axes.ymargin = .05, MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10])
//   grid: #b0b0b0 .8pt; legend: edge #cccccc (0.8 grey), handlelength 2em, borderaxespad .5em
#include "myelin/plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <utility>

#include "myelin/errors.hpp"

extern char** environ;

namespace myelin {

namespace {

namespace fs = std::filesystem;

// ---- colours ---------------------------------------------------------------------------------

constexpr std::array<const char*, 10> kCycle = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                "#bcbd22", "#17becf"};

struct NamedColor {
  const char* name;
  const char* hex;
};

// matplotlib's base colours, tableau colours and the CSS names people actually use.
constexpr NamedColor kNamed[] = {
    {"b", "#0000ff"},          {"g", "#008000"},         {"r", "#ff0000"},
    {"c", "#00bfbf"},          {"m", "#bf00bf"},         {"y", "#bfbf00"},
    {"k", "#000000"},          {"w", "#ffffff"},         {"tab:blue", "#1f77b4"},
    {"tab:orange", "#ff7f0e"}, {"tab:green", "#2ca02c"}, {"tab:red", "#d62728"},
    {"tab:purple", "#9467bd"}, {"tab:brown", "#8c564b"}, {"tab:pink", "#e377c2"},
    {"tab:gray", "#7f7f7f"},   {"tab:grey", "#7f7f7f"},  {"tab:olive", "#bcbd22"},
    {"tab:cyan", "#17becf"},   {"black", "#000000"},     {"white", "#ffffff"},
    {"blue", "#0000ff"},       {"red", "#ff0000"},       {"green", "#008000"},
    {"lime", "#00ff00"},       {"yellow", "#ffff00"},    {"cyan", "#00ffff"},
    {"magenta", "#ff00ff"},    {"orange", "#ffa500"},    {"purple", "#800080"},
    {"brown", "#a52a2a"},      {"pink", "#ffc0cb"},      {"gray", "#808080"},
    {"grey", "#808080"},       {"darkgray", "#a9a9a9"},  {"darkgrey", "#a9a9a9"},
    {"lightgray", "#d3d3d3"},  {"lightgrey", "#d3d3d3"}, {"navy", "#000080"},
    {"darkblue", "#00008b"},   {"darkred", "#8b0000"},   {"darkgreen", "#006400"},
    {"olive", "#808000"},      {"teal", "#008080"},      {"gold", "#ffd700"},
    {"violet", "#ee82ee"},     {"indigo", "#4b0082"},    {"crimson", "#dc143c"},
    {"orchid", "#da70d6"},     {"salmon", "#fa8072"},    {"steelblue", "#4682b4"},
    {"skyblue", "#87ceeb"},    {"lightblue", "#add8e6"}, {"darkorange", "#ff8c00"},
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string resolve_color(const std::string& spec, int& cycle) {
  if (spec.empty()) return kCycle[static_cast<size_t>(cycle++) % kCycle.size()];
  const std::string s = lower(spec);
  if (s.size() == 2 && s[0] == 'c' && std::isdigit(static_cast<unsigned char>(s[1]))) {
    return kCycle[static_cast<size_t>(s[1] - '0')];
  }
  if (s.size() == 7 && s[0] == '#' &&
      std::all_of(s.begin() + 1, s.end(), [](char c) { return std::isxdigit(c) != 0; })) {
    return s;
  }
  for (const NamedColor& nc : kNamed) {
    if (s == nc.name) return nc.hex;
  }
  throw ValidationError("Axes::plot: unknown color '" + spec +
                        "' (use \"k\", \"b\", \"r\", a name like \"blue\", \"C0\".. \"C9\", "
                        "\"tab:orange\" or \"#rrggbb\")");
}

std::string normalise_linestyle(const std::string& ls) {
  if (ls == "-" || ls == "solid") return "-";
  if (ls == "--" || ls == "dashed") return "--";
  if (ls == ":" || ls == "dotted") return ":";
  if (ls == "-." || ls == "dashdot") return "-.";
  throw ValidationError("Axes::plot: unknown linestyle '" + ls +
                        "' (use \"-\", \"--\", \":\" or \"-.\")");
}

// ---- colour maps: gnuplot `set palette defined` points --------------------------------------

std::string palette(const std::string& cmap) {
  if (cmap == "gray" || cmap == "grey" || cmap == "Greys_r") {
    return "(0 '#000000', 1 '#ffffff')";
  }
  if (cmap == "gray_r" || cmap == "grey_r" || cmap == "Greys") {
    return "(0 '#ffffff', 1 '#000000')";
  }
  if (cmap == "viridis") {
    return "(0 '#440154', 0.125 '#472d7b', 0.25 '#3b528b', 0.375 '#2c728e', 0.5 '#21918c', "
           "0.625 '#28ae80', 0.75 '#5ec962', 0.875 '#addc30', 1 '#fde725')";
  }
  if (cmap == "hot") {
    return "(0 '#0b0000', 0.365 '#ff0000', 0.746 '#ffff00', 1 '#ffffff')";
  }
  if (cmap == "bwr") return "(0 '#0000ff', 0.5 '#ffffff', 1 '#ff0000')";
  if (cmap == "coolwarm") {
    return "(0 '#3b4cc0', 0.25 '#8db0fe', 0.5 '#dddddd', 0.75 '#f49a7b', 1 '#b40426')";
  }
  if (cmap == "jet") {
    return "(0 '#00007f', 0.125 '#0000ff', 0.375 '#00ffff', 0.625 '#ffff00', 0.875 '#ff0000', "
           "1 '#7f0000')";
  }
  return "";
}

// ---- legend locations -----------------------------------------------------------------------

constexpr std::array<const char*, 11> kLocNames = {
    "best",        "upper right",  "upper left",   "lower left",   "lower right", "right",
    "center left", "center right", "lower center", "upper center", "center"};

int parse_loc(const std::string& loc) {
  const std::string s = lower(loc);
  for (size_t i = 0; i < kLocNames.size(); ++i) {
    if (s == kLocNames[i] || s == std::to_string(i)) return static_cast<int>(i);
  }
  std::string all;
  for (const char* n : kLocNames) all += std::string(all.empty() ? "" : ", ") + "\"" + n + "\"";
  throw ValidationError("Axes::legend: unknown loc '" + loc + "' (use " + all + ")");
}

// Anchor of a legend location in axes fractions (x, y) and which key corner sits there.
struct LocAnchor {
  double fx, fy;      // 0..1 across the axes
  const char* hjust;  // gnuplot: left | right | center
  const char* vjust;  // gnuplot: top | bottom | center
  int sx, sy;         // direction of the inset pad from the anchor (+1, -1 or 0)
};

LocAnchor anchor_of(int loc) {
  switch (loc) {
    case 2:
      return {0, 1, "left", "top", +1, -1};
    case 3:
      return {0, 0, "left", "bottom", +1, +1};
    case 4:
      return {1, 0, "right", "bottom", -1, +1};
    case 5:
    case 7:
      return {1, 0.5, "right", "center", -1, 0};
    case 6:
      return {0, 0.5, "left", "center", +1, 0};
    case 8:
      return {0.5, 0, "center", "bottom", 0, +1};
    case 9:
      return {0.5, 1, "center", "top", 0, -1};
    case 10:
      return {0.5, 0.5, "center", "center", 0, 0};
    default:
      return {1, 1, "right", "top", -1, -1};  // 1 = upper right
  }
}

// ---- ticks ----------------------------------------------------------------------------------

struct Range {
  double lo, hi;
};

// matplotlib's autoscale: data limits, widened when singular, plus 5 % margins.
Range auto_range(double mn, double mx) {
  if (!(mn <= mx)) return {0, 1};
  if (mx - mn <= std::abs(mx) * 1e-12 + 1e-300) {
    const double v = mn;
    if (v == 0) {
      mn = -0.05;
      mx = 0.05;
    } else {
      mn = v - 0.05 * std::abs(v);
      mx = v + 0.05 * std::abs(v);
    }
  }
  const double m = 0.05 * (mx - mn);
  return {mn - m, mx + m};
}

std::string unicode_minus(std::string s) {
  if (!s.empty() && s[0] == '-') s = "\u2212" + s.substr(1);
  return s;
}

// MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10]) and ScalarFormatter with a common number of
// decimals, so labels read "0.0 0.5 1.0" and "−1.00 −0.75 ..." as in matplotlib.
std::vector<std::pair<double, std::string>> nice_ticks(Range r, int nbins) {
  const double lo = std::min(r.lo, r.hi), hi = std::max(r.lo, r.hi);
  std::vector<std::pair<double, std::string>> out;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  nbins = std::clamp(nbins, 1, 9);
  const double raw = (hi - lo) / nbins;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double s : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (s * mag >= raw * (1 - 1e-9)) {
      step = s * mag;
      break;
    }
  }
  const double eps = step * 1e-9;
  const double first = std::ceil((lo - eps) / step) * step;
  std::vector<double> vals;
  for (double v = first; v <= hi + eps && vals.size() < 100; v += step) {
    vals.push_back(std::abs(v) < eps ? 0.0 : v);
  }
  const double amax = std::max(std::abs(lo), std::abs(hi));
  const bool sci = amax >= 1e6 || step < 1e-5;
  int decimals = 0;
  while (decimals < 10) {
    const double scaled = step * std::pow(10.0, decimals);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * scaled) break;
    ++decimals;
  }
  for (double v : vals) {
    char buf[64];
    if (sci) {
      std::snprintf(buf, sizeof buf, "%.3g", v);
    } else {
      std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    }
    std::string s = buf;
    if (s.find_first_not_of("-0.") == std::string::npos) s = s.substr(s[0] == '-' ? 1 : 0);
    out.emplace_back(v, unicode_minus(s));
  }
  return out;
}

// ---- gnuplot text -----------------------------------------------------------------------------

// A gnuplot string expression for arbitrary text: single-quoted pieces (no backquote or macro
// substitution inside them; ' doubled) joined with "\n" for line breaks.
std::string gp_str(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n') {
      out += "'.\"\\n\".'";
    } else if (c == '\r' || c == '\t') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// ---- running gnuplot ------------------------------------------------------------------------

std::string find_gnuplot() {
  if (const char* env = std::getenv("MYELIN_GNUPLOT"); env != nullptr && *env != '\0') {
    if (::access(env, X_OK) == 0) return env;
    throw IoError(std::string("gnuplot not found: MYELIN_GNUPLOT='") + env +
                  "' is not executable; install gnuplot-nox (scripts/setup.sh)");
  }
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::stringstream ss(p);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) dir = ".";
    const fs::path cand = fs::path(dir) / "gnuplot";
    std::error_code ec;
    if (fs::is_regular_file(cand, ec) && ::access(cand.c_str(), X_OK) == 0) return cand.string();
  }
  throw IoError("gnuplot not found: install gnuplot-nox (scripts/setup.sh)");
}

// Runs `gnuplot -d script` without a shell, stdout/stderr to `log`; returns the exit status.
int run_gnuplot(const std::string& gnuplot, const std::string& script, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  std::string a0 = gnuplot, a1 = "-d", a2 = script;  // -d: ignore the user's ~/.gnuplot
  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, gnuplot.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    throw IoError("cannot run gnuplot '" + gnuplot + "': " + std::strerror(rc) +
                  " (install gnuplot-nox, scripts/setup.sh)");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw IoError(std::string("waiting for gnuplot: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string read_text(const fs::path& p, size_t max_chars) {
  std::ifstream f(p);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (s.size() > max_chars) s = s.substr(s.size() - max_chars);
  return s;
}

// A temporary directory removed on scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "myelin-plot-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw IoError("cannot create a temporary directory '" + tmpl + "': " + std::strerror(errno));
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_binary(const fs::path& p, const std::vector<double>& v) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(double)));
  f.close();
  if (!f) throw IoError("cannot write plot data '" + p.string() + "'");
}

// ---- layout ---------------------------------------------------------------------------------

struct Box {
  double l, r, b, t;  // screen fractions
};

double max_label_chars(const std::vector<std::pair<double, std::string>>& ticks) {
  size_t n = 0;
  for (const auto& t : ticks) {
    // Count UTF-8 code points (the minus sign is 3 bytes, one glyph).
    size_t c = 0;
    for (unsigned char ch : t.second) c += (ch & 0xc0) != 0x80;
    n = std::max(n, c);
  }
  return static_cast<double>(n);
}

// Pixel-column min/max decimation for long monotonic series (what matplotlib's path
// simplification achieves): per run of points falling in one pixel column keep the first, the
// lowest, the highest and the last, in their original order. The drawn polyline covers the same
// pixels, but gnuplot strokes a few thousand segments instead of tens of thousands.
void decimate(const std::vector<double>& x, const std::vector<double>& y, Range xr, double px,
              std::vector<double>& xy) {
  const size_t n = x.size();
  bool simple = n > 4 * static_cast<size_t>(px) + 16;
  for (size_t i = 0; simple && i < n; ++i) {
    simple = std::isfinite(x[i]) && std::isfinite(y[i]) && (i == 0 || x[i] >= x[i - 1]);
  }
  xy.clear();
  if (!simple) {
    xy.resize(2 * n);
    for (size_t i = 0; i < n; ++i) {
      // Non-finite points become NaN, which gnuplot treats as a gap like matplotlib does.
      const bool ok = std::isfinite(x[i]) && std::isfinite(y[i]);
      xy[2 * i] = ok ? x[i] : std::nan("");
      xy[2 * i + 1] = ok ? y[i] : std::nan("");
    }
    return;
  }
  const double scale = px / (xr.hi - xr.lo);
  const auto column = [&](double v) { return std::floor((v - xr.lo) * scale); };
  const auto emit = [&](size_t i) {
    xy.push_back(x[i]);
    xy.push_back(y[i]);
  };
  size_t start = 0;
  while (start < n) {
    const double col = column(x[start]);
    size_t end = start + 1, lo = start, hi = start;
    while (end < n && column(x[end]) == col) {
      if (y[end] < y[lo]) lo = end;
      if (y[end] > y[hi]) hi = end;
      ++end;
    }
    const size_t last = end - 1;
    std::array<size_t, 4> keep = {start, std::min(lo, hi), std::max(lo, hi), last};
    for (size_t k = 0; k < keep.size(); ++k) {
      if (k == 0 || keep[k] != keep[k - 1]) emit(keep[k]);
    }
    start = end;
  }
}

}  // namespace

// =============================================================================================
// Axes

void Axes::plot(const std::vector<double>& x, const std::vector<double>& y, LineStyle style) {
  if (x.size() != y.size()) {
    throw ValidationError("Axes::plot: x and y must have the same size, got x of size " +
                          std::to_string(x.size()) + " and y of size " + std::to_string(y.size()) +
                          (style.label.empty() ? "" : " (line '" + style.label + "')"));
  }
  if (!(style.linewidth > 0) || !std::isfinite(style.linewidth)) {
    throw ValidationError("Axes::plot: linewidth must be positive and finite, got " +
                          num(style.linewidth));
  }
  Line line;
  line.linestyle = normalise_linestyle(style.linestyle);
  int cycle = cycle_;
  line.color = resolve_color(style.color, cycle);
  cycle_ = cycle;
  line.x = x;
  line.y = y;
  line.label = std::move(style.label);
  line.linewidth = style.linewidth;
  lines_.push_back(std::move(line));
}

void Axes::throw_not_vector(const char* which, Eigen::Index rows, Eigen::Index cols) {
  throw ValidationError(std::string("Axes::plot: ") + which + " must be a vector, got a " +
                        std::to_string(rows) + " x " + std::to_string(cols) + " matrix");
}

void Axes::set_xlabel(std::string label) {
  xlabel_ = std::move(label);
}
void Axes::set_ylabel(std::string label) {
  ylabel_ = std::move(label);
}
void Axes::set_title(std::string title) {
  title_ = std::move(title);
}

void Axes::set_xlim(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo == hi) {
    throw ValidationError("Axes::set_xlim: limits must be finite and different, got (" + num(lo) +
                          ", " + num(hi) + ")");
  }
  xlim_ = {true, lo, hi};
}

void Axes::set_ylim(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo == hi) {
    throw ValidationError("Axes::set_ylim: limits must be finite and different, got (" + num(lo) +
                          ", " + num(hi) + ")");
  }
  ylim_ = {true, lo, hi};
}

void Axes::legend(std::string loc) {
  legend_loc_ = parse_loc(loc);
  legend_ = true;
}

void Axes::imshow(const Eigen::MatrixXd& img, std::string cmap) {
  if (img.rows() == 0 || img.cols() == 0) {
    throw ValidationError("Axes::imshow: image is empty (" + std::to_string(img.rows()) + " x " +
                          std::to_string(img.cols()) + ")");
  }
  if (palette(cmap).empty()) {
    throw ValidationError("Axes::imshow: unknown cmap '" + cmap +
                          "' (use gray, gray_r, viridis, hot, bwr, coolwarm, jet)");
  }
  image_ = img;
  cmap_ = std::move(cmap);
  has_image_ = true;
}

void Axes::grid(bool on) {
  grid_ = on;
}

// =============================================================================================
// Figure

Figure::Figure(double width_in, double height_in, int dpi)
    : width_in_(width_in), height_in_(height_in), dpi_(dpi) {
  if (!(width_in > 0) || !(height_in > 0) || dpi <= 0 || width_in * dpi > 32768 ||
      height_in * dpi > 32768) {
    throw ValidationError("Figure: size must be positive and at most 32768 pixels a side, got " +
                          num(width_in) + " x " + num(height_in) + " in at dpi " +
                          std::to_string(dpi));
  }
}

Figure::~Figure() = default;
Figure::Figure(Figure&&) noexcept = default;
Figure& Figure::operator=(Figure&&) noexcept = default;

Axes& Figure::axes() {
  return subplot(1, 1, 1);
}

Axes& Figure::subplot(int rows, int cols, int index) {
  if (rows < 1 || cols < 1 || index < 1 || index > rows * cols) {
    throw ValidationError(
        "Figure::subplot: need rows >= 1, cols >= 1 and 1 <= index <= rows*cols, "
        "got (" +
        std::to_string(rows) + ", " + std::to_string(cols) + ", " + std::to_string(index) + ")");
  }
  for (Slot& s : slots_) {
    if (s.rows == rows && s.cols == cols && s.index == index) return *s.axes;
  }
  slots_.push_back({rows, cols, index, std::make_unique<Axes>()});
  return *slots_.back().axes;
}

void Figure::save(const std::string& png_path) const {
  const fs::path out_path(png_path);
  {
    const fs::path parent = out_path.parent_path().empty() ? fs::path(".") : out_path.parent_path();
    std::error_code ec;
    if (!fs::is_directory(parent, ec)) {
      throw IoError("cannot save figure '" + png_path + "': directory '" + parent.string() +
                    "' does not exist");
    }
  }
  const std::string gnuplot = find_gnuplot();
  TempDir tmp;
  const bool keep = std::getenv("MYELIN_KEEP_PLOT_SCRIPTS") != nullptr;
  // Kept scripts get their data next to them (<name>.plotdata/) so they can be rerun later.
  fs::path data_dir = tmp.path();
  if (keep) {
    std::error_code ec;
    data_dir = fs::absolute(out_path, ec);
    data_dir.replace_extension(".plotdata");
    fs::create_directories(data_dir, ec);
    if (ec) {
      throw IoError("cannot create plot data directory '" + data_dir.string() +
                    "': " + ec.message());
    }
  }

  const int W = static_cast<int>(std::lround(width_in_ * dpi_));
  const int H = static_cast<int>(std::lround(height_in_ * dpi_));
  const double px_per_pt = dpi_ / 72.0;
  // gnuplot's cairo terminals render font sizes at 96 px per inch (measured): convert points.
  const auto font_size = [&](double pt) { return pt * dpi_ / 96.0; };
  const double font_px = 10 * px_per_pt;  // 10 pt text height in pixels

  // ---- per-axes ranges and ticks, then margins (matplotlib's subplot params, widened only
  //      where labels would otherwise fall off the figure or overlap the neighbour).
  struct Prepared {
    const Axes* ax;
    int rows, cols, row, col;
    Range xr, yr;
    std::vector<std::pair<double, std::string>> xt, yt;
    double need_left, need_bottom, need_top;  // pixels outside the axes box
  };
  std::vector<Prepared> prep;
  for (const Slot& s : slots_) {
    const Axes& a = *s.axes;
    Prepared p{&a, s.rows, s.cols, (s.index - 1) / s.cols, (s.index - 1) % s.cols, {}, {}, {}, {},
               0,  0,      0};
    double xmn = std::numeric_limits<double>::infinity(), xmx = -xmn, ymn = xmn, ymx = -xmn;
    for (const Axes::Line& l : a.lines_) {
      for (size_t i = 0; i < l.x.size(); ++i) {
        if (!std::isfinite(l.x[i]) || !std::isfinite(l.y[i])) continue;
        xmn = std::min(xmn, l.x[i]);
        xmx = std::max(xmx, l.x[i]);
        ymn = std::min(ymn, l.y[i]);
        ymx = std::max(ymx, l.y[i]);
      }
    }
    p.xr = auto_range(xmn, xmx);
    p.yr = auto_range(ymn, ymx);
    if (a.has_image_) {
      // Image extent, no margins, row 0 at the top (y axis inverted).
      p.xr = {-0.5, static_cast<double>(a.image_.cols()) - 0.5};
      p.yr = {static_cast<double>(a.image_.rows()) - 0.5, -0.5};
    }
    if (a.xlim_.set) p.xr = {a.xlim_.lo, a.xlim_.hi};
    if (a.ylim_.set) p.yr = {a.ylim_.lo, a.ylim_.hi};
    prep.push_back(std::move(p));
  }

  constexpr double kLeft = 0.125, kRight = 0.9, kBottom = 0.11, kTop = 0.88, kWspace = 0.2,
                   kHspace = 0.2;
  const double tick_len = 3.5 * px_per_pt, tick_pad = 3.5 * px_per_pt, label_pad = 4 * px_per_pt;
  const double title_px = 12 * px_per_pt;
  double left = kLeft, right = kRight, bottom = kBottom, top = kTop;
  double wspace = kWspace, hspace = kHspace;
  for (Prepared& p : prep) {
    // Tick density from the nominal axes size, as matplotlib's get_tick_space() does.
    const double aw_pt = (kRight - kLeft) / (p.cols + kWspace * (p.cols - 1)) * width_in_ * 72;
    const double ah_pt = (kTop - kBottom) / (p.rows + kHspace * (p.rows - 1)) * height_in_ * 72;
    p.xt = nice_ticks(p.xr, static_cast<int>(aw_pt / 30));
    p.yt = nice_ticks(p.yr, static_cast<int>(ah_pt / 20));
    p.need_left = tick_len + tick_pad + max_label_chars(p.yt) * 0.64 * font_px +
                  (p.ax->ylabel_.empty() ? 0 : label_pad + 1.3 * font_px) + 4;
    p.need_bottom = tick_len + tick_pad + 1.2 * font_px +
                    (p.ax->xlabel_.empty() ? 0 : label_pad + 1.3 * font_px) + 4;
    p.need_top = p.ax->title_.empty() ? 4 : 6 * px_per_pt + 1.4 * title_px + 4;
    if (p.col == 0) left = std::max(left, p.need_left / W);
    if (p.row == 0) top = std::min(top, 1 - p.need_top / H);
    if (p.row == p.rows - 1) bottom = std::max(bottom, p.need_bottom / H);
  }
  for (Prepared& p : prep) {
    // Gaps between panels must hold the neighbours' labels; widen wspace/hspace if not.
    const double cw = (right - left) / (p.cols + wspace * (p.cols - 1));
    const double ch = (top - bottom) / (p.rows + hspace * (p.rows - 1));
    if (p.cols > 1 && p.col > 0) wspace = std::max(wspace, p.need_left / W / cw);
    if (p.rows > 1 && p.row < p.rows - 1) {
      hspace = std::max(hspace, (p.need_bottom + 4 + (p.need_top)) / H / ch);
    }
  }

  // ---- script
  std::ostringstream gp;
  const fs::path tmp_png = tmp.path() / "figure.png";
  gp << "# generated by myelin::Figure::save\n";
  gp << "set encoding utf8\n";
  gp << "set terminal pngcairo size " << W << "," << H << " font 'DejaVu Sans,"
     << fmt(font_size(10)) << "' noenhanced butt background '#ffffff'\n";
  gp << "set output __OUTPUT__\n";
  gp << "set multiplot\n";
  const double border_lw = 0.8 * px_per_pt;

  int file_no = 0;
  for (const Prepared& p : prep) {
    const Axes& a = *p.ax;
    const double cw = (right - left) / (p.cols + wspace * (p.cols - 1));
    const double ch = (top - bottom) / (p.rows + hspace * (p.rows - 1));
    Box box{left + p.col * cw * (1 + wspace), 0, 0, top - p.row * ch * (1 + hspace)};
    box.r = box.l + cw;
    box.b = box.t - ch;
    if (a.has_image_) {
      // Square pixels (matplotlib's aspect="equal"): shrink the box, keep it centred.
      const double bw = (box.r - box.l) * W, bh = (box.t - box.b) * H;
      const double iw = std::abs(p.xr.hi - p.xr.lo), ih = std::abs(p.yr.hi - p.yr.lo);
      const double scale = std::min(bw / iw, bh / ih);
      const double nw = iw * scale / W, nh = ih * scale / H;
      const double cx = (box.l + box.r) / 2, cy = (box.b + box.t) / 2;
      box = {cx - nw / 2, cx + nw / 2, cy - nh / 2, cy + nh / 2};
    }
    gp << "\n# ---- axes (" << p.rows << "," << p.cols << "," << p.row * p.cols + p.col + 1
       << ")\n";
    gp << "unset key; unset title; unset xlabel; unset ylabel; unset grid; unset label\n";
    gp << "unset colorbox; unset logscale\n";
    gp << "set lmargin at screen " << num(box.l) << "; set rmargin at screen " << num(box.r)
       << "\n";
    gp << "set bmargin at screen " << num(box.b) << "; set tmargin at screen " << num(box.t)
       << "\n";
    gp << "set border 15 front lw " << fmt(border_lw) << " lc rgb '#000000'\n";
    // Tick marks: outward, on the left and bottom only.
    gp << "set tics out nomirror front\n";
    const auto ticks = [&](const char* axis, const std::vector<std::pair<double, std::string>>& t) {
      gp << "set " << axis << "tics (";
      for (size_t i = 0; i < t.size(); ++i) {
        gp << (i ? ", " : "") << gp_str(t[i].second) << " " << num(t[i].first);
      }
      gp << ") font '," << fmt(font_size(10)) << "'\n";
    };
    if (p.xt.empty()) {
      gp << "unset xtics\n";
    } else {
      ticks("x", p.xt);
    }
    if (p.yt.empty()) {
      gp << "unset ytics\n";
    } else {
      ticks("y", p.yt);
    }
    gp << "set xrange [" << num(p.xr.lo) << ":" << num(p.xr.hi) << "]\n";
    gp << "set yrange [" << num(p.yr.lo) << ":" << num(p.yr.hi) << "]\n";
    if (!a.xlabel_.empty()) {
      gp << "set xlabel " << gp_str(a.xlabel_) << " font '," << fmt(font_size(10)) << "'\n";
    }
    if (!a.ylabel_.empty()) {
      gp << "set ylabel " << gp_str(a.ylabel_) << " rotate by 90 font '," << fmt(font_size(10))
         << "'\n";
    }
    if (!a.title_.empty()) {
      gp << "set title " << gp_str(a.title_) << " font '," << fmt(font_size(12)) << "'\n";
    }
    if (a.grid_) {
      // `lt 1`: gnuplot's default grid line type 0 is always dotted.
      gp << "set grid xtics ytics back lt 1 lw " << fmt(0.8 * px_per_pt)
         << " lc rgb '#b0b0b0' dt solid\n";
    }

    // Legend.
    std::vector<const Axes::Line*> labelled;
    for (const Axes::Line& l : a.lines_) {
      if (!l.label.empty() && !l.x.empty()) labelled.push_back(&l);
    }
    if (a.legend_ && !labelled.empty()) {
      int loc = a.legend_loc_;
      const double bw_px = (box.r - box.l) * W, bh_px = (box.t - box.b) * H;
      size_t chars = 0;
      for (const Axes::Line* l : labelled) chars = std::max(chars, l->label.size());
      const double key_w = (0.4 * 2 + 2.0 + 0.8) * font_px + 0.62 * font_px * chars;
      const double key_h = (0.4 * 2 + 1.0) * font_px + labelled.size() * 1.25 * font_px;
      if (loc == 0) {
        // matplotlib's "best": the first location (in code order 1..10) whose legend box
        // covers the fewest data points.
        const double fw = std::min(1.0, key_w / bw_px), fh = std::min(1.0, key_h / bh_px);
        const double pad_x = 0.5 * font_px / bw_px, pad_y = 0.5 * font_px / bh_px;
        size_t best = std::numeric_limits<size_t>::max();
        for (int cand = 1; cand <= 10; ++cand) {
          const LocAnchor an = anchor_of(cand);
          double x0 = an.fx + an.sx * pad_x, y0 = an.fy + an.sy * pad_y;
          x0 -= std::string_view(an.hjust) == "right"    ? fw
                : std::string_view(an.hjust) == "center" ? fw / 2
                                                         : 0;
          y0 -= std::string_view(an.vjust) == "top"      ? fh
                : std::string_view(an.vjust) == "center" ? fh / 2
                                                         : 0;
          size_t count = 0;
          for (const Axes::Line& l : a.lines_) {
            for (size_t i = 0; i < l.x.size(); ++i) {
              const double fx = (l.x[i] - p.xr.lo) / (p.xr.hi - p.xr.lo);
              const double fy = (l.y[i] - p.yr.lo) / (p.yr.hi - p.yr.lo);
              count += fx >= x0 && fx <= x0 + fw && fy >= y0 && fy <= y0 + fh;
            }
          }
          if (count < best) {
            best = count;
            loc = cand;
          }
          if (count == 0) break;
        }
      }
      const LocAnchor an = anchor_of(loc);
      const double pad = 0.5 * font_px;  // borderaxespad
      const double kx = box.l + an.fx * (box.r - box.l) + an.sx * pad / W;
      const double ky = box.b + an.fy * (box.t - box.b) + an.sy * pad / H;
      gp << "set key at screen " << num(kx) << ", screen " << num(ky) << " " << an.hjust << " "
         << an.vjust << " vertical Left reverse samplen 2 spacing 1.15 width 1 height 0.6 "
         << "box lc rgb '#cccccc' lw " << fmt(0.8 * px_per_pt) << " opaque font ',"
         << fmt(font_size(10)) << "'\n";
    }

    // Plot elements.
    std::vector<std::string> items;
    if (a.has_image_) {
      const fs::path f = data_dir / ("image" + std::to_string(file_no++) + ".bin");
      // Row-major doubles: gnuplot's array=(cols,rows) puts record row r at y = r.
      std::vector<double> v(static_cast<size_t>(a.image_.size()));
      double mn = std::numeric_limits<double>::infinity(), mx = -mn;
      for (Eigen::Index r = 0; r < a.image_.rows(); ++r) {
        for (Eigen::Index c = 0; c < a.image_.cols(); ++c) {
          const double val = a.image_(r, c);
          v[static_cast<size_t>(r * a.image_.cols() + c)] = val;
          if (std::isfinite(val)) {
            mn = std::min(mn, val);
            mx = std::max(mx, val);
          }
        }
      }
      write_binary(f, v);
      if (!(mn <= mx)) mn = 0, mx = 1;
      if (mx == mn) mx = mn + 1;
      gp << "set palette defined " << palette(a.cmap_) << "\n";
      gp << "set cbrange [" << num(mn) << ":" << num(mx) << "]\n";
      items.push_back(gp_str(f.string()) + " binary array=(" + std::to_string(a.image_.cols()) +
                      "," + std::to_string(a.image_.rows()) +
                      ") format='%float64' with image notitle");
    }
    for (const Axes::Line& l : a.lines_) {
      if (l.x.empty()) continue;
      const fs::path f = data_dir / ("line" + std::to_string(file_no++) + ".bin");
      std::vector<double> xy;
      decimate(l.x, l.y, p.xr, (box.r - box.l) * W, xy);
      write_binary(f, xy);
      const double lw = l.linewidth * px_per_pt;
      // gnuplot's custom dash lengths are in units of lw/4 pixels; matplotlib's dash patterns
      // (lines.dashed_pattern etc.) are in units of the line width: multiply by 4.
      std::string dt = "solid";
      if (l.linestyle == "--") dt = "(14.8, 6.4)";
      if (l.linestyle == ":") dt = "(4, 6.6)";
      if (l.linestyle == "-.") dt = "(25.6, 6.4, 4, 6.4)";
      std::string item = gp_str(f.string()) +
                         " binary format='%float64%float64' using 1:2 with lines lw " + fmt(lw) +
                         " lc rgb '" + l.color + "' dt " + dt;
      item += l.label.empty() ? " notitle" : " title " + gp_str(l.label);
      items.push_back(item);
    }
    if (items.empty()) {
      // Empty axes still get their box and ticks: plot a point far outside the range.
      items.push_back("-1e308 notitle");
    }
    gp << "plot ";
    for (size_t i = 0; i < items.size(); ++i) gp << (i ? ", \\\n     " : "") << items[i];
    gp << "\n";
  }
  if (prep.empty()) {
    // A figure without axes is a blank canvas, as in matplotlib.
    gp << "unset border; unset tics; unset key\nset xrange [0:1]; set yrange [0:1]\n"
       << "plot -1e308 notitle\n";
  }
  gp << "unset multiplot\nunset output\n";

  std::string script = gp.str();
  const auto with_output = [&](const std::string& out) {
    std::string s = script;
    const std::string token = "__OUTPUT__";
    s.replace(s.find(token), token.size(), gp_str(out));
    return s;
  };
  const fs::path script_path = tmp.path() / "figure.gp";
  {
    std::ofstream f(script_path);
    f << with_output(tmp_png.string());
    f.close();
    if (!f) throw IoError("cannot write gnuplot script '" + script_path.string() + "'");
  }
  const fs::path log_path = tmp.path() / "gnuplot.log";
  const int status = run_gnuplot(gnuplot, script_path.string(), log_path.string());
  if (keep) {
    fs::path kept = out_path;
    kept.replace_extension(".gp");
    std::ofstream f(kept);
    std::error_code ec;
    f << with_output(fs::absolute(out_path, ec).string());
  }
  if (status != 0) {
    throw IoError("gnuplot failed (exit status " + std::to_string(status) + ") saving '" +
                  png_path + "': " + read_text(log_path, 2000));
  }
  // Check the result really is a PNG before putting it in place.
  {
    std::ifstream f(tmp_png, std::ios::binary);
    char magic[8] = {};
    f.read(magic, 8);
    if (!f || std::memcmp(magic, "\x89PNG\r\n\x1a\n", 8) != 0) {
      throw IoError("gnuplot produced no valid PNG for '" + png_path +
                    "': " + read_text(log_path, 2000));
    }
  }
  std::error_code ec;
  fs::copy_file(tmp_png, out_path, fs::copy_options::overwrite_existing, ec);
  if (ec) throw IoError("cannot write figure '" + png_path + "': " + ec.message());
}

}  // namespace myelin
