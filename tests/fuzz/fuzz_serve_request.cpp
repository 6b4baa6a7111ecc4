// `llamba serve` request bodies (serve/request.cpp parse_completion_request): one body parsed as a completion
// and as a chat request. Every bad body must become an ApiError (status 4xx, a message, the JSON error body);
// any other exception would reach the client as a 500.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "serve/request.h"

using namespace llamba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (const bool chat : {false, true}) {
    try {
      const serve::CompletionRequest r = serve::parse_completion_request(body, chat);
      FUZZ_ASSERT(r.chat == chat, "chat flag lost");
      FUZZ_ASSERT(chat ? !r.messages.empty() : r.messages.empty(), "messages for a {} request",
                  chat ? "chat" : "completion");
      FUZZ_ASSERT(r.stop.size() <= 16 && r.top_logprobs >= -1 && r.top_logprobs <= 20 && r.max_tokens >= -1,
                  "a field outside its documented range");
    } catch (const serve::ApiError& e) {
      FUZZ_ASSERT(e.status >= 400 && e.status < 500 && *e.what() != '\0', "ApiError {} '{}'", e.status, e.what());
      (void)e.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // as the server sends it
    } catch (const std::exception& e) {
      fuzz::fail(fmt::format("an exception other than ApiError escaped (a 500 for the client): {}", e.what()));
    }
  }
  return 0;
}
