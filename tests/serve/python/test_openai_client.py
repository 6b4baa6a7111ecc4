"""`llamba serve` through the real `openai` Python client, on the default model (SmolLM2-135M-Instruct).

Run by scripts/test.sh:  build/venv-serve/bin/python tests/serve/python/test_openai_client.py BUILD/bin/llamba MODEL
Starts the server on 127.0.0.1 (a free port) and stops it with SIGTERM at the end (it must exit 0).
"""
import concurrent.futures as cf
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import openai

BIN, MODEL = sys.argv[1], sys.argv[2]
MODEL_ID = os.path.splitext(os.path.basename(MODEL))[0]


class Server:
    def __init__(self, *extra):
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.proc = subprocess.Popen([BIN, "serve", "-m", MODEL, "--port", "0", "--parallel", "64", *extra],
                                     stderr=self.log, stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        self.port = None
        while self.port is None and time.time() < deadline:
            with open(self.log.name) as f:
                m = re.search(r"on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
            else:
                if self.proc.poll() is not None:
                    with open(self.log.name) as f:
                        raise RuntimeError("server exited: " + f.read())
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = openai.OpenAI(base_url=self.url + "/v1", api_key="none", max_retries=0, timeout=300)

    def metrics(self):
        text = urllib.request.urlopen(self.url + "/metrics").read().decode()
        return {k: float(v) for k, v in re.findall(r"^(llamba_\w+) (\S+)$", text, re.M)}

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.log.close()
        os.unlink(self.log.name)
        return code


def complete(c, prompt, n=12, **kw):
    return c.completions.create(model=MODEL_ID, prompt=prompt, max_tokens=n, temperature=0, **kw)


def stream_text(stream):
    return "".join(ch.choices[0].text for ch in stream if ch.choices)


class OpenAiClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server()
        cls.c = cls.s.client

    @classmethod
    def tearDownClass(cls):
        assert cls.s.stop() == 0, "the server must exit 0 on SIGTERM"

    def test_completions_streamed_equal_not_streamed_equal_llamba_run(self):
        prompt = "The capital of France is"
        r = complete(self.c, prompt)
        text = r.choices[0].text
        self.assertEqual(r.choices[0].finish_reason, "length")
        self.assertEqual(r.usage.completion_tokens, 12)
        self.assertEqual(r.usage.prompt_tokens, 5)
        self.assertEqual(stream_text(complete(self.c, prompt, stream=True)), text)
        run = subprocess.run([BIN, "run", "-m", MODEL, "-p", prompt, "-n", "12", "--temp", "0", "--no-display-prompt"],
                             capture_output=True, text=True, check=True)
        self.assertEqual(run.stdout.rstrip("\n"), text)

    def test_chat_streamed_equals_not_streamed(self):
        msgs = [{"role": "user", "content": "Name three colors."}]
        r = self.c.chat.completions.create(model=MODEL_ID, messages=msgs, max_tokens=16, temperature=0)
        text = r.choices[0].message.content
        self.assertEqual(r.choices[0].message.role, "assistant")
        chunks = list(self.c.chat.completions.create(model=MODEL_ID, messages=msgs, max_tokens=16, temperature=0,
                                                     stream=True, stream_options={"include_usage": True}))
        self.assertEqual("".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices), text)
        self.assertEqual(chunks[-1].usage.completion_tokens, r.usage.completion_tokens)
        self.assertEqual(chunks[-1].usage.prompt_tokens, r.usage.prompt_tokens)

    def test_stop_strings_and_max_tokens(self):
        full = complete(self.c, "1, 2, 3, 4,", n=16).choices[0].text
        stop = full.strip().split(",")[1] if "," in full else full[2:4]
        r = complete(self.c, "1, 2, 3, 4,", n=16, stop=[stop, "zzz"])
        self.assertEqual(r.choices[0].text, full[:full.index(stop)])
        self.assertEqual(r.choices[0].finish_reason, "stop")
        self.assertEqual(complete(self.c, "Hello", n=3).usage.completion_tokens, 3)

    def test_seed_reproducibility(self):
        def sample(seed):
            return self.c.completions.create(model=MODEL_ID, prompt="Once upon a time", max_tokens=16, temperature=1.0,
                                             seed=seed).choices[0].text
        self.assertEqual(sample(7), sample(7))
        self.assertNotEqual({sample(s) for s in range(1, 5)}, {sample(1)})

    def test_logprobs(self):
        r = self.c.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "Hi"}], max_tokens=4,
                                           temperature=0, logprobs=True, top_logprobs=3)
        content = r.choices[0].logprobs.content
        self.assertEqual(len(content), r.usage.completion_tokens)
        for t in content:
            self.assertEqual(len(t.top_logprobs), 3)
            self.assertAlmostEqual(t.top_logprobs[0].logprob, t.logprob, places=5)

    def test_errors(self):
        with self.assertRaises(openai.NotFoundError):
            self.c.completions.create(model="gpt-4", prompt="x", max_tokens=1)
        with self.assertRaises(openai.BadRequestError) as e:
            self.c.completions.create(model=MODEL_ID, prompt="x", max_tokens=1, temperature=5)
        self.assertEqual(e.exception.body["param"], "temperature")
        self.assertEqual(complete(self.c, "still serving", n=1).usage.completion_tokens, 1)

    def test_second_turn_resumes_from_the_state_cache_and_equals_a_cold_run(self):
        msgs = [{"role": "user", "content": "Tell me about the moon."}]
        first = self.c.chat.completions.create(model=MODEL_ID, messages=msgs, max_tokens=24, temperature=0)
        msgs += [{"role": "assistant", "content": first.choices[0].message.content},
                 {"role": "user", "content": "And the sun?"}]
        second = self.c.chat.completions.create(model=MODEL_ID, messages=msgs, max_tokens=12, temperature=0)
        cached = second.usage.prompt_tokens_details.cached_tokens
        self.assertGreaterEqual(cached, first.usage.prompt_tokens, "the second turn must skip the first turn's prompt")
        cold = Server("--state-cache-mb", "0")
        try:
            again = cold.client.chat.completions.create(model=MODEL_ID, messages=msgs, max_tokens=12, temperature=0)
            self.assertEqual(again.usage.prompt_tokens_details.cached_tokens, 0)
            self.assertEqual(again.choices[0].message.content, second.choices[0].message.content)
        finally:
            self.assertEqual(cold.stop(), 0)

    def test_64_concurrent_streams_equal_their_outputs_alone(self):
        prompts = [f"Fact {i} about the ocean:" for i in range(64)]
        alone = [complete(self.c, p, n=8).choices[0].text for p in prompts]
        with cf.ThreadPoolExecutor(64) as ex:
            together = list(ex.map(lambda p: stream_text(complete(self.c, p, n=8, stream=True)), prompts))
        self.assertEqual(together, alone)

    def test_disconnected_streams_free_their_slots(self):
        def abandon(i):
            stream = complete(self.c, f"Story {i}:", n=100000, stream=True)
            for k, _ in enumerate(stream):
                if k == 2:
                    break
            stream.close()
        with cf.ThreadPoolExecutor(8) as ex:
            list(ex.map(abandon, range(8)))
        deadline = time.time() + 30
        while time.time() < deadline and (self.s.metrics()["llamba_active_sequences"] > 0):
            time.sleep(0.05)
        self.assertEqual(self.s.metrics()["llamba_active_sequences"], 0)

    def test_load_1000_requests_from_32_workers(self):
        raw = self.c.with_options(timeout=120)
        complete(raw, "warm up", n=2)
        idle = self.s.rss_kib()
        errors = []

        def one(i):
            try:
                r = complete(raw, f"Request {i % 50}: hello", n=1 + i % 3, stream=(i % 2 == 0))
                if i % 2 == 0:
                    stream_text(r)
            except Exception as e:  # noqa: BLE001 - every failure is counted
                errors.append(repr(e))

        t0 = time.time()
        with cf.ThreadPoolExecutor(32) as ex:
            list(ex.map(one, range(1000)))
        took = time.time() - t0
        self.assertEqual(errors, [])
        self.assertLess(took, 600)
        grown = self.s.rss_kib() - idle
        # The state cache may hold up to its 256 MiB budget of KV snapshots; beyond that memory must not grow.
        self.assertLess(grown, 300 * 1024, f"RSS grew by {grown} KiB")
        print(f"\n  1000 requests from 32 workers in {took:.1f} s; RSS {idle} -> {self.s.rss_kib()} KiB", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
