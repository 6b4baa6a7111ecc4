// Training checkpoints: one GGUF file holding the model (its metadata and every parameter under its model name,
// so the file also runs as a model), the AdamW moments (opt.m.<name>, opt.v.<name>, opt.step), the training
// progress (train.step, train.data_epoch, train.data_cursor) and the run's config (train.config, JSON).
// Written atomically (temp file + fsync + rename): a kill at any moment leaves the previous checkpoint intact.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "io/gguf.h"
#include "train/data/token_shards.h"
#include "train/optim/adamw.h"
#include "train/params.h"

namespace llamba::train {

struct TrainProgress {
  int64_t step = 0;  // optimizer steps done
  TokenLoader::Position data;
  std::string config_json;
};

// `image` is the model's GGUF (its metadata is copied; tensors come from `params`, which alias it or not).
// `extra` metadata is written too (keys of a distillation run, "distill.*"); such keys of `image` are not copied.
void save_checkpoint(const std::string& path, const io::GgufFile& image, const ParameterSet& params,
                     const AdamW& opt, const TrainProgress& progress,
                     const std::vector<std::pair<std::string, io::GgufValue>>& extra = {});
// The model alone (metadata without training keys, the parameters' current values): a plain inference file.
void save_model(const std::string& path, const io::GgufFile& image, const ParameterSet& params);

// A GGUF file read into owned, writable memory: models loaded from `file` have parameters that training may
// update in place.
struct WritableModelFile {
  std::shared_ptr<core::Buffer> buffer;
  std::unique_ptr<io::GgufFile> file;
};
WritableModelFile read_writable(const std::string& path);
WritableModelFile from_writer(const io::GgufWriter& w, const std::string& name);

// Progress stored in a checkpoint (throws naming the file when it is not a checkpoint).
TrainProgress read_progress(const io::GgufFile& f);

}  // namespace llamba::train
