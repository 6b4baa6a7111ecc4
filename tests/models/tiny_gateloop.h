// Small random GateLoop GGUF files for mode-equivalence and state tests: models::gateloop::write_random_init,
// then the transition biases steered (in place, in the in-memory file) so |a| spreads over about (0.3, 0.999)
// and phases are O(1): the PyTorch default init alone gives |a| ≈ 0.5..0.8, which forgets too fast to test
// long-range state handling.
#pragma once

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/gguf.h"
#include "models/blocks/weights_util.h"
#include "models/gateloop/gateloop.h"
#include "test_util.h"

namespace llamba::test {

inline models::gateloop::Config tiny_gateloop_config(models::gateloop::Transition t, bool complex,
                                                      ops::GateKind gk, int64_t heads) {
  models::gateloop::Config c;
  c.n_vocab = 96;
  c.d_model = 32;
  c.n_layers = 2;
  c.ffn_dim = 64;
  c.d_inner = 32;
  c.n_heads = heads;
  c.head_dim = c.d_inner / heads;
  c.transition = t;
  c.complex = complex;
  c.gate_kind = gk;
  c.chunk_size = 16;
  return c;
}

inline std::string write_tiny_gateloop(const models::gateloop::Config& c, uint64_t seed, const std::string& name,
                                       bool tied = false) {
  using models::gateloop::Transition;
  io::GgufWriter w;
  models::gateloop::write_random_init(c, seed, w, tied);
  w.set("general.name", io::GgufValue::string(name));
  const auto buf = w.write_to_memory();
  const io::GgufFile f = io::GgufFile::parse(buf, name);
  const int64_t Hg = c.n_gates();
  for (int64_t l = 0; l < c.n_layers && c.transition != Transition::kFixed; ++l) {
    float* b = f.tensor(models::blk(l, "gl_a.bias")).f32();
    for (int64_t j = 0; j < Hg; ++j) {
      const double s = Hg > 1 ? (double)j / (double)(Hg - 1) : 0.5;
      if (c.transition == Transition::kPolar) {  // |z| from 0 to 7 at angle 2.4·j
        b[j] = (float)(7.0 * s * std::cos(2.4 * j));
        if (c.two_components()) b[Hg + j] = (float)(7.0 * s * std::sin(2.4 * j));
      } else {  // magnitude logit from −1 to 7, phase bias O(1)
        b[j] = (float)(-1.0 + 8.0 * s);
        if (c.two_components()) b[Hg + j] = (float)std::sin(1.7 * j);
      }
    }
  }
  const std::string path = test::temp_path("gateloop_" + name + ".gguf").string();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(buf->data()), (std::streamsize)buf->size());
  return path;
}

}  // namespace llamba::test
