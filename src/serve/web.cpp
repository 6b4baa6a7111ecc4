#include "serve/web.h"

namespace llamba::serve {

const char* chat_page_html() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>llamba</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#222}
#log{min-height:50vh}.msg{white-space:pre-wrap;padding:.5rem .7rem;margin:.4rem 0;border-radius:.4rem}
.user{background:#e8f0fe}.assistant{background:#f3f3f3}#bar{display:flex;gap:.4rem}
textarea{flex:1;font:inherit;padding:.4rem}button{font:inherit;padding:.4rem .9rem}#stats{color:#666;font-size:13px}
</style></head><body>
<h3>llamba <span id="model"></span></h3>
<div id="log"></div>
<div id="bar"><textarea id="input" rows="2" placeholder="Message (Enter sends, Shift+Enter: new line)"></textarea>
<button id="send">Send</button><button id="stop" disabled>Stop</button></div>
<p id="stats"></p>
<p><label>API key <input id="key" type="password" size="20"></label>
<label>max tokens <input id="max" type="number" value="256" min="1" style="width:5rem"></label>
<label>temperature <input id="temp" type="number" value="0.7" step="0.1" min="0" max="2" style="width:4rem"></label></p>
<script>
const $ = id => document.getElementById(id);
const turns = [];
let controller = null;
function add(role, text) {
  const d = document.createElement('div'); d.className = 'msg ' + role; d.textContent = text;
  $('log').appendChild(d); return d;
}
function headers() {
  const h = {'Content-Type': 'application/json'};
  if ($('key').value) h['Authorization'] = 'Bearer ' + $('key').value;
  return h;
}
fetch('/v1/models', {headers: headers()}).then(r => r.json()).then(j => { $('model').textContent = '· ' + j.data[0].id; }).catch(() => {});
async function send() {
  const text = $('input').value.trim();
  if (!text || controller) return;
  $('input').value = '';
  turns.push({role: 'user', content: text});
  add('user', text);
  const out = add('assistant', '');
  controller = new AbortController();
  $('send').disabled = true; $('stop').disabled = false; document.body.dataset.state = 'streaming';
  let n = 0, first = 0, reply = '';
  try {
    const r = await fetch('/v1/chat/completions', {method: 'POST', headers: headers(), signal: controller.signal,
      body: JSON.stringify({messages: turns, stream: true, max_tokens: +$('max').value, temperature: +$('temp').value})});
    if (!r.ok) { out.textContent = 'error: ' + ((await r.json()).error || {}).message; turns.pop(); return; }
    const reader = r.body.getReader(), dec = new TextDecoder(); let buf = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buf += dec.decode(value, {stream: true});
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 2);
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        const j = JSON.parse(line.slice(6));
        if (j.error) { out.textContent += '\n[error: ' + j.error.message + ']'; continue; }
        const piece = (j.choices[0] && j.choices[0].delta.content) || '';
        if (piece) { if (!n) first = performance.now(); n++; reply += piece; out.textContent = reply; }
        const s = (performance.now() - first) / 1000;  // rate after the first piece: decode speed
        if (n > 1) $('stats').textContent = n + ' pieces · ' + ((n - 1) / s).toFixed(1) + ' tokens/s';
      }
    }
  } catch (e) { if (e.name !== 'AbortError') out.textContent += '\n[error: ' + e + ']'; }
  finally {
    turns.push({role: 'assistant', content: reply});
    controller = null; $('send').disabled = false; $('stop').disabled = true; document.body.dataset.state = 'idle';
  }
}
$('send').onclick = send;
$('stop').onclick = () => controller && controller.abort();
$('input').addEventListener('keydown', e => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send(); } });
// /?q=TEXT sends TEXT on load (a link to a question; also how the headless-browser test drives the page).
const q = new URLSearchParams(location.search).get('q');
if (q) { $('input').value = q; send(); }
</script></body></html>
)HTML";
}

}  // namespace llamba::serve
