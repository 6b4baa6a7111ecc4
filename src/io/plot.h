// Renders line plots (several named series, e.g. loss against the step) to a PNG: axes, grid, numeric tick labels and a
// colour legend, with a tiny built-in bitmap font. For `llamba train`, `distill` and `bench`.
#pragma once

#include <string>
#include <vector>

namespace llamba::io {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

void plot_png(const std::string& path, const std::string& title, const std::vector<Series>& series,
              bool log_y = false, int width = 800, int height = 500);

}  // namespace llamba::io
