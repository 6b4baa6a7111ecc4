// The chat page served at /: one static HTML file with inline script and style, no external requests. It
// streams /v1/chat/completions, shows tokens/s and can stop a reply; /?q=TEXT sends TEXT on load.
#pragma once

namespace llamba::serve {

const char* chat_page_html();

}  // namespace llamba::serve
