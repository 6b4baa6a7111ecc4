// Checkpoint writing and reading.
#include "train/checkpoint.h"

#include <cstring>
#include <fstream>

namespace llamba::train {

namespace {
bool is_training_key(const std::string& k) {
  return k.rfind("train.", 0) == 0 || k.rfind("opt.", 0) == 0 || k.rfind("distill.", 0) == 0;
}

void add_model(io::GgufWriter& w, const io::GgufFile& image, const ParameterSet& params) {
  for (const auto& [k, v] : image.metadata())
    if (!is_training_key(k) && k != "general.alignment") w.set(k, v);
  for (const auto& p : params.params()) w.add_tensor(p.name, p.value);
}
}  // namespace

void save_model(const std::string& path, const io::GgufFile& image, const ParameterSet& params) {
  io::GgufWriter w;
  add_model(w, image, params);
  w.write(path);
}

void save_checkpoint(const std::string& path, const io::GgufFile& image, const ParameterSet& params,
                     const AdamW& opt, const TrainProgress& progress,
                     const std::vector<std::pair<std::string, io::GgufValue>>& extra) {
  io::GgufWriter w;
  add_model(w, image, params);
  opt.save(w);
  for (const auto& [k, v] : extra) w.set(k, v);
  w.set("train.step", io::GgufValue::i64(progress.step));
  w.set("train.data_epoch", io::GgufValue::i64(progress.data.epoch));
  w.set("train.data_cursor", io::GgufValue::i64(progress.data.cursor));
  w.set("train.config", io::GgufValue::string(progress.config_json));
  w.write(path);
}

WritableModelFile read_writable(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  LLAMBA_ENSURE(in.good(), "{}: cannot open", path);
  const std::streamsize n = in.tellg();
  in.seekg(0);
  WritableModelFile m;
  m.buffer = core::Buffer::allocate((size_t)n);
  LLAMBA_ENSURE(in.read(reinterpret_cast<char*>(m.buffer->data()), n).good() || n == 0, "{}: read failed", path);
  m.file = std::make_unique<io::GgufFile>(io::GgufFile::parse(m.buffer, path));
  return m;
}

WritableModelFile from_writer(const io::GgufWriter& w, const std::string& name) {
  WritableModelFile m;
  m.buffer = w.write_to_memory();
  m.file = std::make_unique<io::GgufFile>(io::GgufFile::parse(m.buffer, name));
  return m;
}

TrainProgress read_progress(const io::GgufFile& f) {
  LLAMBA_ENSURE(f.has("train.step"), "{}: not a training checkpoint (no train.step)", f.path());
  TrainProgress p;
  p.step = f.get_int("train.step");
  p.data.epoch = f.get_int("train.data_epoch");
  p.data.cursor = f.get_int("train.data_cursor");
  p.config_json = f.get_string("train.config", "{}");
  LLAMBA_ENSURE(p.step >= 0 && p.data.epoch >= 0 && p.data.cursor >= 0, "{}: negative training progress", f.path());
  return p;
}

}  // namespace llamba::train
