// Writing a file atomically: data goes to "<path>.tmp.<pid>", is fsynced, then renamed over <path>, so
// readers (and a crash at any moment) see either the old file or the complete new one.
// Not thread-safe; one writer per object.
#pragma once

#include <cstdio>
#include <string>

namespace llamba::io {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // throws llamba::Error if the temp file cannot be created
  ~AtomicFile();                          // removes the temp file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void commit();  // flush, fsync, close, rename, fsync the directory

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  bool done_ = false;
};

}  // namespace llamba::io
