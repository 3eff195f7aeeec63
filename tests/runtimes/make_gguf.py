"""Writes testdata/samples/tiny-llama.amg: a small but real GGUF file made with
the `gguf` package (llama.cpp's own writer): llama-style metadata, a
tokenizer vocabulary and a few tensors of several types and shapes, ~600 KiB.
Deterministic: run it again and the bytes are the same.

    python tests/runtimes/make_gguf.py testdata/samples/tiny-llama.amg
"""

import sys

import gguf
import numpy as np


def main(path):
    rng = np.random.default_rng(20261126)
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("ava3-tiny-llama")
    w.add_context_length(128)
    w.add_embedding_length(64)
    w.add_block_count(2)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list([f"tok{i}".encode() for i in range(256)])
    w.add_token_scores([float(-i) for i in range(256)])
    w.add_uint32("ava3.test.marker", 0xA5A5)
    w.add_tensor("token_embd.weight", rng.standard_normal((256, 64), dtype=np.float32))
    for layer in range(2):
        p = f"blk.{layer}."
        w.add_tensor(p + "attn_q.weight", rng.standard_normal((64, 64)).astype(np.float16))
        w.add_tensor(p + "attn_k.weight", rng.standard_normal((64, 64)).astype(np.float16))
        w.add_tensor(p + "attn_norm.weight", np.ones(64, dtype=np.float32))
        w.add_tensor(p + "ffn_up.weight", rng.standard_normal((128, 64), dtype=np.float32))
    w.add_tensor("output.weight", rng.standard_normal((256, 64), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(sys.argv[1])
