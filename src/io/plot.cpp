// A small raster plotter: lines by Bresenham, text from a 5x7 font (digits, letters, a few symbols).
#include "io/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "io/png.h"

namespace llamba::io {

namespace {

// 5x7 glyphs, one byte per row (low 5 bits, MSB = left column).
const uint8_t* glyph(char c) {
  static const uint8_t digits[10][7] = {
      {14, 17, 19, 21, 25, 17, 14}, {4, 12, 4, 4, 4, 4, 14},     {14, 17, 1, 2, 4, 8, 31},
      {31, 2, 4, 2, 1, 17, 14},     {2, 6, 10, 18, 31, 2, 2},    {31, 16, 30, 1, 1, 17, 14},
      {6, 8, 16, 30, 17, 17, 14},   {31, 1, 2, 4, 8, 8, 8},      {14, 17, 17, 14, 17, 17, 14},
      {14, 17, 17, 15, 1, 2, 12}};
  static const uint8_t letters[26][7] = {
      {14, 17, 17, 31, 17, 17, 17}, {30, 17, 17, 30, 17, 17, 30}, {14, 17, 16, 16, 16, 17, 14},
      {30, 17, 17, 17, 17, 17, 30}, {31, 16, 16, 30, 16, 16, 31}, {31, 16, 16, 30, 16, 16, 16},
      {14, 17, 16, 23, 17, 17, 15}, {17, 17, 17, 31, 17, 17, 17}, {14, 4, 4, 4, 4, 4, 14},
      {7, 2, 2, 2, 2, 18, 12},      {17, 18, 20, 24, 20, 18, 17}, {16, 16, 16, 16, 16, 16, 31},
      {17, 27, 21, 21, 17, 17, 17}, {17, 17, 25, 21, 19, 17, 17}, {14, 17, 17, 17, 17, 17, 14},
      {30, 17, 17, 30, 16, 16, 16}, {14, 17, 17, 17, 21, 18, 13}, {30, 17, 17, 30, 20, 18, 17},
      {15, 16, 16, 14, 1, 1, 30},   {31, 4, 4, 4, 4, 4, 4},       {17, 17, 17, 17, 17, 17, 14},
      {17, 17, 17, 17, 17, 10, 4},  {17, 17, 17, 21, 21, 21, 10}, {17, 17, 10, 4, 10, 17, 17},
      {17, 17, 10, 4, 4, 4, 4},     {31, 1, 2, 4, 8, 16, 31}};
  static const uint8_t dot[7] = {0, 0, 0, 0, 0, 12, 12}, minus[7] = {0, 0, 0, 31, 0, 0, 0},
                       plus[7] = {0, 4, 4, 31, 4, 4, 0}, under[7] = {0, 0, 0, 0, 0, 0, 31},
                       slash[7] = {1, 1, 2, 4, 8, 16, 16}, colon[7] = {0, 12, 12, 0, 12, 12, 0},
                       lpar[7] = {2, 4, 8, 8, 8, 4, 2}, rpar[7] = {8, 4, 2, 2, 2, 4, 8}, blank[7] = {};
  if (c >= '0' && c <= '9') return digits[c - '0'];
  if (std::isalpha((unsigned char)c)) return letters[std::toupper((unsigned char)c) - 'A'];
  switch (c) {
    case '.': return dot;
    case '-': return minus;
    case '+': return plus;
    case '_': return under;
    case '/': return slash;
    case ':': return colon;
    case '(': return lpar;
    case ')': return rpar;
    default: return blank;
  }
}

struct Canvas {
  int w, h;
  std::vector<uint8_t> px;
  Canvas(int w_, int h_) : w(w_), h(h_), px((size_t)w_ * h_ * 3, 255) {}
  void set(int x, int y, const uint8_t* c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    std::copy(c, c + 3, px.begin() + ((size_t)y * w + x) * 3);
  }
  void line(int x0, int y0, int x1, int y1, const uint8_t* c) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    for (int err = dx + dy;;) {
      set(x0, y0, c);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
  void text(int x, int y, const std::string& s, const uint8_t* c) {
    for (char ch : s) {
      const uint8_t* g = glyph(ch);
      for (int r = 0; r < 7; ++r)
        for (int k = 0; k < 5; ++k)
          if (g[r] & (16 >> k)) set(x + k, y + r, c);
      x += 6;
    }
  }
};

std::string tick(double v) {
  if (v == 0) return "0";
  const double a = std::fabs(v);
  return a >= 1e4 || a < 1e-2 ? fmt::format("{:.1e}", v) : fmt::format("{:.3g}", v);
}

}  // namespace

void plot_png(const std::string& path, const std::string& title, const std::vector<Series>& series, bool log_y,
              int width, int height) {
  static const uint8_t colors[][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                      {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};
  const uint8_t black[3] = {0, 0, 0}, grid[3] = {225, 225, 225};
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  auto fy = [&](double y) { return log_y ? std::log10(std::max(y, 1e-30)) : y; };
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, fy(s.y[i])), y1 = std::max(y1, fy(s.y[i]));
    }
  if (!(x0 < x1)) x0 = 0, x1 = std::max(1.0, x1);
  if (!(y0 < y1)) y0 = y0 - 1, y1 = y0 + 2;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;
  Canvas c(width, height);
  const int L = 70, R = width - 20, T = 30, B = height - 40;
  auto px = [&](double x) { return L + (int)std::lround((x - x0) / (x1 - x0) * (R - L)); };
  auto py = [&](double y) { return B - (int)std::lround((fy(y) - y0) / (y1 - y0) * (B - T)); };
  for (int i = 0; i <= 5; ++i) {
    const int gx = L + (R - L) * i / 5, gy = B - (B - T) * i / 5;
    c.line(gx, T, gx, B, grid);
    c.line(L, gy, R, gy, grid);
    const double xv = x0 + (x1 - x0) * i / 5, yv = y0 + (y1 - y0) * i / 5;
    const std::string xs = tick(xv), ys = tick(log_y ? std::pow(10.0, yv) : yv);
    c.text(gx - 3 * (int)xs.size(), B + 8, xs, black);
    c.text(L - 6 * (int)ys.size() - 4, gy - 3, ys, black);
  }
  c.line(L, B, R, B, black);
  c.line(L, T, L, B, black);
  c.text(L, 10, title, black);
  for (size_t k = 0; k < series.size(); ++k) {
    const uint8_t* col = colors[k % 8];
    const auto& s = series[k];
    for (size_t i = 1; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i - 1]) && std::isfinite(s.y[i]))
        c.line(px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), col);
    if (s.x.size() == 1) c.line(px(s.x[0]) - 2, py(s.y[0]), px(s.x[0]) + 2, py(s.y[0]), col);
    const int ly = T + 6 + 12 * (int)k;
    for (int d = 0; d < 3; ++d) c.line(R - 150, ly + 3 + d - 1, R - 130, ly + 3 + d - 1, col);
    c.text(R - 125, ly, s.name, black);
  }
  write_png(path, width, height, c.px);
}

}  // namespace llamba::io
