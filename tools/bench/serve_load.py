#!/usr/bin/env python3
"""Throughput of an OpenAI-compatible server against the number of concurrent streams, side by side.

Starts `llamba serve` (and, with --llama-server, llama.cpp's llama-server on the same GGUF file), then for each
concurrency C sends C streaming /v1/completions at once (distinct prompts, greedy, --tokens each, end of text
ignored) and reports the generated tokens per second over the wall time of the round, and the median and worst
time to the first token. Rounds alternate between the servers. Standard library only.

  python3 tools/bench/serve_load.py --llamba build/bin/llamba -m models/SmolLM2-135M-Instruct.Q4_1.gguf \
      [--llama-server /work/llamacpp/build/bin/llama-server] [--streams 1,4,16,64,256] [--tokens 32] [-t 2]
"""
import argparse
import concurrent.futures as cf
import http.client
import json
import re
import statistics
import subprocess
import tempfile
import time


def start(cmd, ready_pattern, log):
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        with open(log.name) as f:
            m = re.search(ready_pattern, f.read())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    with open(log.name) as f:
        raise RuntimeError(f"{cmd[0]} did not start:\n{f.read()[-2000:]}")


def wait_healthy(port):
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no healthy server on port {port}")


def stream(port, prompt, tokens):
    """One streaming completion: (seconds to the first text, seconds in all, text pieces received)."""
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = {"prompt": prompt, "max_tokens": tokens, "temperature": 0, "stream": True, "ignore_eos": True}
    c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200, r.read()
    first, pieces = None, 0
    for line in r:
        line = line.strip()
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        j = json.loads(line[6:])
        if j.get("choices") and j["choices"][0].get("text"):
            pieces += 1
            first = first or time.perf_counter() - t0
    return first or 0.0, time.perf_counter() - t0, pieces


def round_(port, n, tokens):
    prompts = [f"Story {i}: once upon a time, in a land far away," for i in range(n)]
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(n) as ex:
        res = list(ex.map(lambda p: stream(port, p, tokens), prompts))
    wall = time.perf_counter() - t0
    ttft = [r[0] for r in res]
    return {"tok_s": n * tokens / wall, "ttft_med": statistics.median(ttft), "ttft_max": max(ttft), "wall": wall}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llamba", required=True)
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("--llama-server")
    ap.add_argument("--streams", default="1,4,16,64,256")
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("-t", "--threads", type=int, default=2)
    a = ap.parse_args()
    streams = [int(s) for s in a.streams.split(",")]
    top = max(streams)
    servers = {}
    logs = []
    log = tempfile.NamedTemporaryFile("w+", suffix=".log")
    logs.append(log)
    servers["llamba"] = start([a.llamba, "serve", "-m", a.model, "--port", "0", "-t", str(a.threads),
                               "--parallel", str(top)], r"on http://127\.0\.0\.1:(\d+)", log)
    if a.llama_server:
        log = tempfile.NamedTemporaryFile("w+", suffix=".log")
        logs.append(log)
        port = 18000 + (int(time.time()) % 1000)
        # One KV slot per stream; the context is split evenly over the slots.
        ctx = top * (a.tokens + 64)
        proc = subprocess.Popen([a.llama_server, "-m", a.model, "--port", str(port), "-t", str(a.threads),
                                 "-np", str(top), "-c", str(ctx), "--no-webui"], stdout=log, stderr=subprocess.STDOUT)
        servers["llama.cpp"] = (proc, port)
    try:
        for _, port in servers.values():
            wait_healthy(port)
            round_(port, 2, 4)  # warm up
        print(f"| streams | " + " | ".join(f"{k}: tok/s, TTFT median / max" for k in servers) + " |")
        print("|---|" + "---|" * len(servers))
        for n in streams:
            cells = []
            for name, (_, port) in servers.items():
                r = round_(port, n, a.tokens)
                cells.append(f"{r['tok_s']:.1f}, {r['ttft_med']:.2f} / {r['ttft_max']:.2f} s")
            print(f"| {n} | " + " | ".join(cells) + " |", flush=True)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
