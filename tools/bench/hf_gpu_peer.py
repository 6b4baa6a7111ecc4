#!/usr/bin/env python3
"""The Transformer peer of issue 15 on the GPU machine: Hugging Face transformers' Llama with the Llama-3.2-1B
shape (d_model 2048, 16 layers, ffn 8192, 32 heads / 8 KV heads of 64, vocabulary 128,256, tied embeddings) and
random weights in bf16, timed like tests/cuda/test_cuda_models_timing.cpp times llamba's Llamba-1B shape:

- batch 1: prefill 512 tokens, then 64 decode steps with the KV cache (the model's default cache);
- prefill of 8 × 2048 tokens;
- decode throughput of B sequences at once after a 128-token prompt each, for B in --seqs, until out of memory;
- decode of one sequence at 4K context (a 4,096-token prompt, then 32 steps).

It uses whatever torch and transformers the machine has (the device machines here have no network); it prints
their versions and markdown rows. Only the forwards are inside the clock (torch.cuda.synchronize around them).

    python3 tools/bench/hf_gpu_peer.py --seqs 1,16,64,256,1024,4096
Never run by CI.
"""
import argparse
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seqs", default="1,16,64,256,1024,4096")
    ap.add_argument("--steps", type=int, default=8, help="timed decode steps per batch size")
    args = ap.parse_args()
    try:
        import torch
        import transformers
    except ImportError as e:
        print(f"hf_gpu_peer: cannot run: {e}")
        return 2
    if not torch.cuda.is_available():
        print("hf_gpu_peer: no CUDA device for torch")
        return 2
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.cuda.get_device_name(0)}")
    cfg = transformers.LlamaConfig(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                                   num_attention_heads=32, num_key_value_heads=8, head_dim=64,
                                   max_position_embeddings=131072, tie_word_embeddings=True, rope_theta=500000.0)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = transformers.LlamaForCausalLM(cfg).to(torch.bfloat16).eval()
    V = cfg.vocab_size
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())

    def ids(b, t, salt):
        g = torch.Generator(device="cpu").manual_seed(salt)
        return torch.randint(0, V, (b, t), generator=g).cuda()

    def timed(fn):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        return time.perf_counter() - t0, out

    @torch.inference_mode()
    def prefill(x):
        return model(input_ids=x, use_cache=True, logits_to_keep=1)

    @torch.inference_mode()
    def decode(past, b, steps, salt):
        for s in range(steps):
            out = model(input_ids=ids(b, 1, salt + s), past_key_values=past, use_cache=True)
            past = out.past_key_values
        return past

    prefill(ids(1, 64, 9))  # warm-up: kernels, allocator
    t, out = timed(lambda: prefill(ids(1, 512, 1)))
    d, _ = timed(lambda: decode(out.past_key_values, 1, 64, 100))
    print(f"| HF Llama-3.2-1B shape bf16, batch 1 | prefill 512: {512 / t:.0f} tok/s | decode: {64 / d:.1f} tok/s "
          f"({d / 64 * 1e3:.3f} ms/token) | weights {weight_bytes / 1e9:.2f} GB |")
    t, _ = timed(lambda: prefill(ids(8, 2048, 2)))
    print(f"| HF prefill 8 × 2048 | {8 * 2048 / t:.0f} tok/s ({t:.3f} s) | | |")
    for b in [int(s) for s in args.seqs.split(",")]:
        try:
            out = prefill(ids(b, 128, 3))
            past = decode(out.past_key_values, b, 2, 200)
            d, _ = timed(lambda: decode(past, b, args.steps, 300))
            print(f"| HF decode, {b} sequences (context 128) | {b * args.steps / d:.0f} tok/s "
                  f"({d / args.steps * 1e3:.2f} ms/step) | | |")
        except torch.OutOfMemoryError:
            print(f"| HF decode, {b} sequences (context 128) | out of memory | | |")
            break
        finally:
            out = past = None
            torch.cuda.empty_cache()
    try:
        out = prefill(ids(1, 4096, 4))
        d, _ = timed(lambda: decode(out.past_key_values, 1, 32, 400))
        print(f"| HF decode at 4K context, batch 1 | {32 / d:.1f} tok/s | | |")
    except torch.OutOfMemoryError:
        print("| HF decode at 4K context | out of memory | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
