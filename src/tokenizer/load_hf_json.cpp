// HF `tokenizers` tokenizer.json: a byte-level BPE model with merges, a pre_tokenizer made of Split (regex,
// "Isolated"), ByteLevel and Digits steps (alone or in a Sequence), added_tokens and the post_processor
// that adds BOS. Anything else is rejected with the field named, rather than tokenized differently.
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/check.h"
#include "io/json_depth.h"
#include "tokenizer/model.h"
#include "tokenizer/pretokenizer.h"

namespace llamba::tokenizer {

namespace {

using nlohmann::json;

struct Ctx {
  const std::string& path;
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    LLAMBA_THROW("{}: {}: {}", path, field, what);
  }
};

std::string str_or(const json& j, const char* key, const std::string& def) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : def;
}
bool bool_or(const json& j, const char* key, bool def) {
  const auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}

// Appends the regex steps of one pre_tokenizer node; sets *byte_level when a ByteLevel step is present.
void parse_pre(const Ctx& c, const json& pre, const std::string& field, std::vector<std::string>& out,
               bool* byte_level) {
  const std::string type = str_or(pre, "type", "");
  if (type == "Sequence") {
    const auto& list = pre.value("pretokenizers", json::array());
    for (size_t i = 0; i < list.size(); ++i)
      parse_pre(c, list[i], field + ".pretokenizers[" + std::to_string(i) + "]", out, byte_level);
  } else if (type == "Split") {
    if (str_or(pre, "behavior", "") != "Isolated") c.fail(field + ".behavior", "only \"Isolated\" is supported");
    if (bool_or(pre, "invert", false)) c.fail(field + ".invert", "inverted splits are not supported");
    const json& pat = pre.value("pattern", json::object());
    if (pat.contains("Regex") && pat["Regex"].is_string()) {
      out.push_back(pat["Regex"].get<std::string>());
    } else if (pat.contains("String") && pat["String"].is_string()) {
      out.push_back("\\Q" + pat["String"].get<std::string>() + "\\E");
    } else {
      c.fail(field + ".pattern", "expected {\"Regex\": …} or {\"String\": …}");
    }
  } else if (type == "ByteLevel") {
    if (bool_or(pre, "add_prefix_space", false)) c.fail(field + ".add_prefix_space", "true is not supported");
    if (bool_or(pre, "use_regex", true)) out.push_back(kGpt2Pattern);
    *byte_level = true;
  } else if (type == "Digits") {
    out.push_back(bool_or(pre, "individual_digits", false) ? kDigitsPattern : "\\p{N}+");
  } else {
    c.fail(field + ".type", "unsupported pre-tokenizer '" + type + "' (supported: Sequence, Split, ByteLevel, Digits)");
  }
}

// The GGUF name of a pattern chain, "" if it has none.
std::string pre_name_of(const std::vector<std::string>& p) {
  for (const char* name : {"llama-bpe", "gpt-2", "smollm"})
    if (pre_patterns_for(name) == p) return name;
  return "";
}

// Reads the BOS that a TemplateProcessing post-processor puts before $A.
void parse_post(const Ctx& c, const json& post, const std::string& field, TokenizerModel& m,
                const std::unordered_map<std::string, int32_t>& added) {
  if (post.is_null()) return;
  const std::string type = str_or(post, "type", "");
  if (type == "Sequence") {
    const auto& list = post.value("processors", json::array());
    for (size_t i = 0; i < list.size(); ++i)
      parse_post(c, list[i], field + ".processors[" + std::to_string(i) + "]", m, added);
  } else if (type == "TemplateProcessing") {
    const auto& single = post.value("single", json::array());
    if (!single.empty() && single[0].contains("SpecialToken")) {
      const std::string name = str_or(single[0]["SpecialToken"], "id", "");
      const auto& st = post.value("special_tokens", json::object());
      int32_t id = -1;
      if (st.contains(name) && st[name].contains("ids") && !st[name]["ids"].empty())
        id = st[name]["ids"][0].get<int32_t>();
      else if (added.count(name))
        id = added.at(name);
      if (id < 0) c.fail(field + ".single", "unknown special token '" + name + "'");
      m.bos = id;
      m.add_bos = true;
    }
  } else if (type != "ByteLevel") {
    c.fail(field + ".type", "unsupported post-processor '" + type + "' (supported: TemplateProcessing, ByteLevel)");
  }
}

// A token in tokenizer_config.json: a string or {"content": …}.
std::string config_token(const json& cfg, const char* key) {
  const auto it = cfg.find(key);
  if (it == cfg.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) return str_or(*it, "content", "");
  return "";
}

TokenizerModel read_hf_json(std::string_view text, const std::string& path, std::string_view config_text) {
  const Ctx c{path};
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    LLAMBA_THROW("{}: not valid JSON: {}", path, e.what());
  }
  LLAMBA_ENSURE(io::json_depth(j) <= io::kMaxJsonDepth, "{}: JSON nested deeper than {} levels", path,
                io::kMaxJsonDepth);
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    c.fail("model", "missing (not a tokenizer.json?)");
  const json& model = j["model"];
  if (str_or(model, "type", "BPE") != "BPE")
    c.fail("model.type", "is '" + str_or(model, "type", "") + "'; only BPE is supported");
  if (!model.contains("vocab") || !model["vocab"].is_object()) c.fail("model.vocab", "missing");
  if (!model.contains("merges") || !model["merges"].is_array()) c.fail("model.merges", "missing");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!str_or(model, k, "").empty()) c.fail(std::string("model.") + k, "not supported");
  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    const json& n = j["normalizer"];
    if (!(str_or(n, "type", "") == "Sequence" && n.value("normalizers", json::array()).empty()))
      c.fail("normalizer", "normalizers are not supported (byte-level BPE models have none)");
  }

  TokenizerModel m;
  m.path = path;
  m.format = "tokenizer.json";
  bool byte_level = false;
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
    parse_pre(c, j["pre_tokenizer"], "pre_tokenizer", m.pre_patterns, &byte_level);
  if (!byte_level) c.fail("pre_tokenizer", "no ByteLevel step: only byte-level BPE is supported");
  m.pre_name = pre_name_of(m.pre_patterns);
  m.ignore_merges = bool_or(model, "ignore_merges", false);

  for (const auto& [tok, idv] : model["vocab"].items()) {
    if (!idv.is_number_integer() || idv.get<int64_t>() < 0 || idv.get<int64_t>() >= (1 << 24))
      c.fail("model.vocab", "bad id for token '" + tok + "'");
    const auto bytes = byte_level_decode(tok);
    m.vocab.set(idv.get<int32_t>(), bytes ? *bytes : tok, TokenType::kNormal, true);
  }
  std::unordered_map<std::string, int32_t> added;
  const json& added_list = j.value("added_tokens", json::array());
  for (size_t i = 0; i < added_list.size(); ++i) {
    const json& a = added_list[i];
    const std::string field = "added_tokens[" + std::to_string(i) + "]";
    if (!a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") || !a["content"].is_string())
      c.fail(field, "expected id and content");
    for (const char* k : {"lstrip", "rstrip", "single_word"})
      if (bool_or(a, k, false)) c.fail(field + "." + k, "true is not supported");
    const int32_t id = a["id"].get<int32_t>();
    const std::string content = a["content"].get<std::string>();
    if (id < 0 || id >= (1 << 24)) c.fail(field + ".id", "out of range");
    m.vocab.set(id, content, bool_or(a, "special", false) ? TokenType::kControl : TokenType::kUserDefined, false);
    added[content] = id;
  }
  const json& merges = model["merges"];
  m.merges.reserve(merges.size());
  auto id_of = [&](const std::string& s) {
    const auto b = byte_level_decode(s);
    return m.vocab.find(b ? *b : s);
  };
  for (size_t i = 0; i < merges.size(); ++i) {
    std::string a, b;
    if (merges[i].is_string()) {
      const std::string s = merges[i].get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos) c.fail("model.merges[" + std::to_string(i) + "]", "expected 'left right'");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (merges[i].is_array() && merges[i].size() == 2 && merges[i][0].is_string() && merges[i][1].is_string()) {
      a = merges[i][0].get<std::string>();
      b = merges[i][1].get<std::string>();
    } else {
      c.fail("model.merges[" + std::to_string(i) + "]", "expected a string or a pair of strings");
    }
    m.merges.emplace_back(id_of(a), id_of(b));  // a missing token (-1) is skipped when building
  }
  const std::string unk = str_or(model, "unk_token", "");
  if (!unk.empty()) {
    const auto b = byte_level_decode(unk);
    m.unk = m.vocab.find(b ? *b : unk);
    if (m.unk < 0 && added.count(unk)) m.unk = added[unk];
    if (m.unk < 0) c.fail("model.unk_token", "'" + unk + "' is not in the vocabulary");
  }
  m.fuse_unk = bool_or(model, "fuse_unk", false);
  if (j.contains("post_processor")) parse_post(c, j["post_processor"], "post_processor", m, added);

  if (!config_text.empty()) {
    // The sibling tokenizer_config.json: bos/eos names and the chat template.
    json cfg;
    try {
      cfg = json::parse(config_text);
    } catch (const std::exception& e) {
      LLAMBA_THROW("{}: sibling tokenizer_config.json is not valid JSON: {}", path, e.what());
    }
    LLAMBA_ENSURE(io::json_depth(cfg) <= io::kMaxJsonDepth,
                  "{}: sibling tokenizer_config.json is nested deeper than {} levels", path, io::kMaxJsonDepth);
    const std::string bos = config_token(cfg, "bos_token"), eos = config_token(cfg, "eos_token");
    if (m.bos < 0 && added.count(bos)) m.bos = added[bos];
    if (added.count(eos)) m.eos = added[eos];
    const auto tpl = cfg.find("chat_template");
    if (tpl != cfg.end() && tpl->is_string()) m.chat_template = tpl->get<std::string>();
    if (tpl != cfg.end() && tpl->is_array())
      for (const auto& t : *tpl)
        if (str_or(t, "name", "") == "default") m.chat_template = str_or(t, "template", "");
  }
  for (const char* name : {"<|eot_id|>", "<|im_end|>"})
    if (added.count(name)) m.eot = added[name];
  if (added.count("<|eom_id|>")) m.eom = added["<|eom_id|>"];
  if (m.eos < 0)
    for (const char* name : {"<|end_of_text|>", "<|endoftext|>", "</s>"})
      if (added.count(name)) m.eos = added[name];
  collect_eog(m);
  return m;
}

}  // namespace

TokenizerModel load_hf_json(std::string_view text, const std::string& path, std::string_view config_text) {
  try {
    return read_hf_json(text, path, config_text);
  } catch (const json::exception& e) {
    // A value of an unexpected type where the walk above indexes or converts it (e.g. "single": 5).
    LLAMBA_THROW("{}: unexpected JSON structure: {}", path, e.what());
  }
}

}  // namespace llamba::tokenizer
