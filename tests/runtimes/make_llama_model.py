"""Writes a complete, tiny llama-architecture GGUF model that llama.cpp
loads and runs (every tensor a llama block needs, an SPM vocabulary with
token types, BOS/EOS), with the `gguf` package. Deterministic. Used by
tests/llama-cpp.sh, which runs it through the real libllama both from the
plain file and from the AVA3 file through the decoder's FILE*.

    python tests/runtimes/make_llama_model.py OUT.gguf
    python tests/runtimes/make_llama_model.py OUT.gguf --embd 1024 --ff 4096 --layers 10 --f16

The second form is the load benchmark's model (tests/bench/llama-load.sh):
336 MB of f16 weights, the same vocabulary.
"""

import argparse

import gguf
import numpy as np

N_VOCAB, N_EMBD, N_FF, N_HEAD, N_LAYER, N_CTX = 260, 64, 128, 4, 2, 128


def main(path, N_EMBD=N_EMBD, N_FF=N_FF, N_LAYER=N_LAYER, f16=False):
    rng = np.random.default_rng(20261129)
    wtype = np.float16 if f16 else np.float32
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("ava3-tiny-llama-complete")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    tokens = [b"<unk>", b"<s>", b"</s>"] + [f"<0x{i:02X}>".encode() for i in range(256)] + [b"\xe2\x96\x81"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL]
    assert len(tokens) == N_VOCAB
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * N_VOCAB)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    def t(name, *shape):
        w.add_tensor(name, (rng.standard_normal(shape) * 0.1).astype(wtype))

    t("token_embd.weight", N_VOCAB, N_EMBD)
    for i in range(N_LAYER):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        t(p + "attn_q.weight", N_EMBD, N_EMBD)
        t(p + "attn_k.weight", N_EMBD, N_EMBD)
        t(p + "attn_v.weight", N_EMBD, N_EMBD)
        t(p + "attn_output.weight", N_EMBD, N_EMBD)
        w.add_tensor(p + "ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        t(p + "ffn_gate.weight", N_FF, N_EMBD)
        t(p + "ffn_up.weight", N_FF, N_EMBD)
        t(p + "ffn_down.weight", N_EMBD, N_FF)
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    t("output.weight", N_VOCAB, N_EMBD)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("out")
    a.add_argument("--embd", type=int, default=N_EMBD)
    a.add_argument("--ff", type=int, default=N_FF)
    a.add_argument("--layers", type=int, default=N_LAYER)
    a.add_argument("--f16", action="store_true", help="f16 weights (norms stay f32)")
    o = a.parse_args()
    main(o.out, o.embd, o.ff, o.layers, o.f16)
