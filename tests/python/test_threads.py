"""The GIL is released while C++ computes: Python threads run meanwhile, and two generations in two threads
finish sooner than one after the other."""

import os
import threading
import time

import pytest

import llamba

KW = dict(max_tokens=48, temperature=0, ignore_eos=True)


def test_python_runs_while_cpp_generates(model):
    done = threading.Event()
    ticks = 0

    def gen():
        model.generate("Tell me a story", **KW)
        done.set()

    t = threading.Thread(target=gen)
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    assert ticks > 20  # a held GIL would allow at most a few ticks between callbacks


def cpu_ticks():
    """(idle, total) jiffies of the whole machine (Linux /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)


def timed_pair(m, prompts):
    """Times the two generations one after the other, then in two threads; returns (concurrent / sequential,
    the machine's idle fraction during the sequential run)."""
    i0 = cpu_ticks()
    t0 = time.perf_counter()
    alone = [m.generate(p, **KW) for p in prompts]
    sequential = time.perf_counter() - t0
    i1 = cpu_ticks()
    idle = (i1[0] - i0[0]) / max(1, i1[1] - i0[1])
    out = [None, None]

    def gen(i):
        out[i] = m.generate(prompts[i], **KW)

    threads = [threading.Thread(target=gen, args=(i,)) for i in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    concurrent = time.perf_counter() - t0
    assert out == alone  # each thread borrows its own context: same results
    return concurrent / sequential, idle


def test_two_threads_generate_faster_than_one_after_the_other():
    m = llamba.Model(threads=1)  # one thread each: the two generations can use both cores
    m.generate("warm up", max_tokens=4, temperature=0)
    prompts = ["Tell me a story about a dragon", "Write a poem about the sea"]
    # Two free cores: ~0.5; a held GIL would give >= 1. Best of three rounds, so that another process taking
    # a core for a moment does not decide the result.
    rounds = []
    for _ in range(3):
        rounds.append(timed_pair(m, prompts))
        if rounds[-1][0] < 0.85:
            break
    if min(r[0] for r in rounds) >= 0.85 and os.cpu_count() >= 2 and max(r[1] for r in rounds) < 0.3:
        # One generation on a free 2-core machine leaves ~50 % idle; below 30 % another process holds the
        # second core, so no speed-up is possible (test_python_runs_while_cpp_generates still shows that the GIL is released).
        pytest.skip(f"the machine's second core is busy (idle {max(r[1] for r in rounds):.0%}): "
                    f"ratios {[round(r[0], 2) for r in rounds]}")
    assert min(r[0] for r in rounds) < 0.85, f"concurrent / sequential time: {rounds}"
