// Figures as PNG files, with a matplotlib-like API, drawn by gnuplot (pngcairo terminal).
//
//   myelin::Figure fig(12, 4);
//   auto& ax = fig.axes();
//   ax.plot(t, x, {.color = "k", .label = "Input"});
//   ax.plot(t, y, {.color = "b", .label = "Pre"});
//   ax.set_ylabel("Value");
//   ax.legend("upper right");
//   fig.save("out.png");
//
// Figure::save writes the data as binary files to a temporary directory, generates a gnuplot
// script and runs `gnuplot -d script`. Colours, default colour cycle, line widths (points),
// font sizes, subplot placement and tick choice follow matplotlib's defaults. Set the
// environment variable MYELIN_KEEP_PLOT_SCRIPTS to keep the script next to the PNG (as
// `<name>.gp`, with its data files in `<name>.plotdata/`, so `gnuplot <name>.gp` redraws it);
// MYELIN_GNUPLOT overrides which gnuplot executable is run.
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace myelin {

/// How a line is drawn (matplotlib's keyword arguments of the same names).
struct LineStyle {
  /// "k", "b", "r", "g", "c", "m", "y", "w", CSS names ("black", "blue", "red", "orange", ...),
  /// "C0".."C9", "tab:blue"..., or "#rrggbb". Empty → the next colour of matplotlib's default
  /// cycle (C0 #1f77b4, C1 #ff7f0e, ...), advanced only by lines without an explicit colour.
  std::string color = "";
  std::string label = "";       ///< legend entry; empty → not in the legend
  std::string linestyle = "-";  ///< "-", "--", ":", "-." (or solid/dashed/dotted/dashdot)
  double linewidth = 1.5;       ///< in points, like matplotlib
};

class Figure;

/// One set of axes (a panel) in a Figure. Obtained from Figure::axes() or Figure::subplot().
class Axes {
 public:
  /// Adds a line. x and y must have the same length (ValidationError naming both sizes).
  /// Non-finite values leave a gap, as in matplotlib.
  void plot(const std::vector<double>& x, const std::vector<double>& y, LineStyle style = {});
  /// Any Eigen vector or vector expression (VectorXd, RowVectorXd, m.col(0), ArrayXf, ...).
  template <typename DX, typename DY>
  void plot(const Eigen::DenseBase<DX>& x, const Eigen::DenseBase<DY>& y, LineStyle style = {}) {
    plot(to_vector(x, "x"), to_vector(y, "y"), std::move(style));
  }

  void set_xlabel(std::string label);
  void set_ylabel(std::string label);
  void set_title(std::string title);
  /// Axis limits (hi < lo flips the axis); without them the range is the data range plus 5 %.
  void set_xlim(double lo, double hi);
  void set_ylim(double lo, double hi);
  /// Shows a legend of the labelled lines. loc: "best" (0), "upper right" (1), "upper left" (2),
  /// "lower left" (3), "lower right" (4), "right" (5), "center left" (6), "center right" (7),
  /// "lower center" (8), "upper center" (9), "center" (10); the numbers as strings work too.
  void legend(std::string loc = "best");
  /// Shows an image, row 0 at the top, square pixels, colour range = data min..max.
  /// cmap: "gray", "gray_r", "viridis", "hot", "bwr", "coolwarm", "jet".
  void imshow(const Eigen::MatrixXd& img, std::string cmap = "gray");
  /// Light grey grid lines at the major ticks (matplotlib's ax.grid(True)).
  void grid(bool on = true);

 private:
  friend class Figure;
  template <typename D>
  static std::vector<double> to_vector(const Eigen::DenseBase<D>& v, const char* which) {
    if (v.rows() != 1 && v.cols() != 1) throw_not_vector(which, v.rows(), v.cols());
    std::vector<double> out(static_cast<size_t>(v.size()));
    for (Eigen::Index i = 0; i < v.size(); ++i) {
      out[static_cast<size_t>(i)] = static_cast<double>(v(i));
    }
    return out;
  }
  [[noreturn]] static void throw_not_vector(const char* which, Eigen::Index rows,
                                            Eigen::Index cols);
  struct Line {
    std::vector<double> x, y;
    std::string color;  // resolved "#rrggbb"
    std::string label;
    std::string linestyle;  // normalised: "-", "--", ":", "-."
    double linewidth = 1.5;
  };
  struct Limits {
    bool set = false;
    double lo = 0, hi = 1;
  };
  std::vector<Line> lines_;
  std::string xlabel_, ylabel_, title_;
  Limits xlim_, ylim_;
  bool legend_ = false;
  int legend_loc_ = 0;
  bool grid_ = false;
  bool has_image_ = false;
  Eigen::MatrixXd image_;
  std::string cmap_;
  int cycle_ = 0;
};

/// A figure of width × height inches at `dpi` pixels per inch (matplotlib's figsize and dpi).
class Figure {
 public:
  explicit Figure(double width_in = 12, double height_in = 4, int dpi = 100);
  ~Figure();
  Figure(Figure&&) noexcept;
  Figure& operator=(Figure&&) noexcept;

  /// The single axes filling the figure (same as subplot(1, 1, 1)).
  Axes& axes();
  /// Axes at position `index` (1-based, row-major) of a rows × cols grid, like
  /// plt.subplot(rows, cols, index); asking again for the same position returns the same axes.
  Axes& subplot(int rows, int cols, int index);
  /// Renders to a PNG. IoError if gnuplot is missing or fails, or the file cannot be written.
  void save(const std::string& png_path) const;

 private:
  struct Slot {
    int rows, cols, index;
    std::unique_ptr<Axes> axes;
  };
  double width_in_, height_in_;
  int dpi_;
  std::vector<Slot> slots_;
};

}  // namespace myelin
