"""Parallel sampling for the llamacpp backend: the n samples of one prompt decoded together.

Promptagator samples several queries per passage (8 in the recipes). One at a time, each
sample's tokens are decoded alone, and on a CPU a decode step of a 1.5B model reads all its
weights to produce one token. Here the prompt is evaluated once into sequence 0 of the KV
cache, its cells are shared with sequences 1..m-1 (`llama_memory_seq_cp`: in a unified
cache the cells are tagged, not copied), and each step decodes the next token of every
unfinished sample in one batch: the weights are read once per step for all of them.

Each sample has its own native sampler chain, the one llama-cpp-python builds for
`create_completion` with our parameters: logit bias (the copy penalty) -> top-p -> min-p
(0.05, its default) -> temperature -> dist(seed of sample k) (greedy: temperature 0). The
bias is llama.cpp's native sampler instead of a Python logits processor over the whole
vocabulary. Structured output checks the drawn token against the grammar, and only when the
grammar rejects it draws again from a second chain with the grammar first (llama.cpp's own
`common_sampler` does the same): checking the grammar on all 152k tokens of the 1.5B's
vocabulary took 25 ms a token, more than the batched decode step shared by 8 samples.
The draw is then the unconstrained choice when it is valid, else the constrained one:
exactly the constrained distribution without top-p / min-p, close to it with them.

Reproducible: a prompt is evaluated from the KV cache's whole shared blocks only
(`aligned_prefix`, as in the one-at-a-time path), the samples of one prompt always decode
in the same batches, and sample k's seed is `sample_seed(seed, k, prompt)`; so a prompt's
samples do not depend on which prompt ran before it. They are not the one-at-a-time path's
samples (other batches, other float sums): `llm.parallel_samples: 1` gives those.

Inputs: a `Llama` built by `synthir.llm.llamacpp_backend` (its context made with
`n_seq_max >= parallel_samples` and a unified KV cache: `widen_context`), the prompt's tokens,
the sampling parameters. Output: per sample (text, finish_reason, completion tokens).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Sequence

from synthir.llm.base import SamplingParams

MIN_P = 0.05  # llama-cpp-python's create_completion default, which the one-at-a-time path uses


def widen_context(llm: Any, n_seq: int) -> None:
    """Replace `llm`'s llama.cpp context by one that holds `n_seq` sequences in one unified
    KV cache of the same size (n_ctx cells shared by all sequences)."""
    from llama_cpp import _internals as internals

    if n_seq <= 1 or llm.context_params.n_seq_max >= n_seq:
        return
    params = llm.context_params
    params.n_seq_max = n_seq
    params.kv_unified = True
    llm._ctx.close()  # free the first context's KV cache before allocating the new one
    llm._ctx = llm._stack.enter_context(contextlib.closing(
        internals.LlamaContext(model=llm._model, params=params, verbose=False)))
    llm.n_tokens = 0


def sampler_chain(llm: Any, params: SamplingParams, seed: int | None, grammar: Any,
                  bias: dict[int, float]) -> Any:
    """A native sampler chain (see the module doc), the grammar first when given; returns a
    LlamaSampler."""
    from llama_cpp import _internals as internals

    chain = internals.LlamaSampler()
    if grammar is not None:
        chain.add_grammar(llm._model, grammar)
    if bias:
        chain.add_logit_bias(llm.n_vocab(), bias)
    if params.temperature <= 0:
        chain.add_greedy()
        return chain
    chain.add_top_p(params.top_p, 1)
    chain.add_min_p(MIN_P, 1)
    chain.add_temp(params.temperature)
    chain.add_dist(seed if seed is not None else 0)
    return chain


@dataclass
class Sample:
    """One sample being decoded: its sequence id, its free chain, its grammar-first chain
    (None without structured output), tokens so far, and why it ended (None: not yet)."""

    seq: int
    chain: Any
    checked: Any = None
    tokens: list[int] = field(default_factory=list)
    finish: str | None = None

    def close(self) -> None:
        for c in (self.chain, self.checked):
            if c is not None:
                c.close()


def make_sample(llm: Any, seq: int, params: SamplingParams, seed: int | None, grammar: Any,
                bias: dict[int, float]) -> Sample:
    """Sample `seq`'s chains; the grammar-first chain draws with another seed."""
    checked = None
    if grammar is not None:
        checked = sampler_chain(llm, params, None if seed is None else (seed + 1) % 2**31, grammar, bias)
    return Sample(seq=seq, chain=sampler_chain(llm, params, seed, None, bias), checked=checked)


def allowed(sample: Sample, token: int) -> bool:
    """Whether the grammar of `sample` (in its current state) accepts `token` next."""
    import ctypes

    import llama_cpp

    data = llama_cpp.llama_token_data(id=token, logit=0.0, p=0.0)
    arr = llama_cpp.llama_token_data_array(data=ctypes.pointer(data), size=1, selected=-1, sorted=False)
    llama_cpp.llama_sampler_apply(llama_cpp.llama_sampler_chain_get(sample.checked.sampler, 0), ctypes.byref(arr))
    return bool(data.logit > float("-inf"))


def draw(llm: Any, sample: Sample, idx: int) -> int:
    """The next token of `sample` from output `idx` of the last decode (see the module doc)."""
    import llama_cpp

    token = int(llama_cpp.llama_sampler_sample(sample.chain.sampler, llm.ctx, idx))
    if sample.checked is None:
        return token
    if allowed(sample, token):
        llama_cpp.llama_sampler_accept(sample.checked.sampler, token)
        return token
    return int(llama_cpp.llama_sampler_sample(sample.checked.sampler, llm.ctx, idx))


def step(llm: Any, sample: Sample, token: int, max_tokens: int, stop: Sequence[str]) -> None:
    """Take `token` for `sample`: end it on an end-of-generation token ("stop"), a stop
    string in its text ("stop") or `max_tokens` tokens ("length")."""
    import llama_cpp

    if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
        sample.finish = "stop"
        return
    sample.tokens.append(token)
    if stop and any(s in text_of(llm, sample.tokens) for s in stop):
        sample.finish = "stop"
    elif len(sample.tokens) >= max_tokens:
        sample.finish = "length"


def text_of(llm: Any, tokens: list[int]) -> str:
    """The text of generated `tokens` (a split multi-byte character is dropped)."""
    return llm.detokenize(tokens).decode("utf-8", errors="ignore")


def evaluate_prompt(llm: Any, tokens: list[int], keep: int) -> None:
    """Make sequence 0 of the KV cache hold exactly `tokens` (the first `keep` already there)
    and the logits of the last token ready. The other sequences hold no cells here:
    `decode_group` drops theirs when it ends, and nothing else writes them; `Llama.eval` drops
    sequence 0's cells from `keep` on."""
    llm.n_tokens = keep
    llm.eval(tokens[keep:])


def decode_group(llm: Any, group: list[Sample], n_prompt: int, max_tokens: int,
                 stop: Sequence[str]) -> None:
    """Decode the samples of `group` together from the prompt in sequence 0 (its last
    token's logits current) until each ends; then drop their cells."""
    import llama_cpp

    mem = llama_cpp.llama_get_memory(llm.ctx)
    for s in group:
        if s.seq:
            llama_cpp.llama_memory_seq_cp(mem, 0, s.seq, -1, -1)
        step(llm, s, draw(llm, s, -1), max_tokens, stop)
    batch = llama_cpp.llama_batch_init(len(group), 0, 1)
    try:
        while active := [s for s in group if s.finish is None]:
            batch.n_tokens = len(active)
            for i, s in enumerate(active):
                batch.token[i] = s.tokens[-1]
                batch.pos[i] = n_prompt + len(s.tokens) - 1
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = s.seq
                batch.logits[i] = True
            rc = llama_cpp.llama_decode(llm.ctx, batch)
            if rc != 0:
                raise RuntimeError(f"llama_decode returned {rc}")
            for i, s in enumerate(active):
                step(llm, s, draw(llm, s, i), max_tokens, stop)
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_memory_seq_rm(mem, -1, n_prompt, -1)
        for s in group:
            if s.seq:
                llama_cpp.llama_memory_seq_rm(mem, s.seq, -1, -1)


def group_size(parallel: int, n: int, n_ctx: int, n_prompt: int, max_tokens: int) -> int:
    """How many samples decode together (pure function): at most `parallel` and `n`, and
    few enough that their tokens fit in the cache beside the prompt's (at least 1)."""
    room = max(0, n_ctx - n_prompt)
    return max(1, min(parallel, n, room // max(1, max_tokens)))


def generate(llm: Any, tokens: list[int], keep: int, params: SamplingParams, seeds: list[int | None],
             grammar: Any, bias: dict[int, float], parallel: int) -> list[tuple[str, str, int]]:
    """The len(seeds) samples of the prompt `tokens`, `parallel` at a time; returns
    (text, finish_reason, completion tokens) per sample. `keep`: prompt tokens reused from
    the cache (whole blocks: `aligned_prefix`). A group after the first re-evaluates the
    prompt's last token. A prompt that does not fit in the context never gets here: the
    backend takes `tokens` from llama-cpp-python's completion call, which refuses it first."""
    n_ctx = llm.n_ctx()
    max_tokens = max(1, min(params.max_tokens, n_ctx - len(tokens)))
    size = group_size(parallel, len(seeds), n_ctx, len(tokens), max_tokens)
    out: list[tuple[str, str, int]] = []
    for start in range(0, len(seeds), size):
        evaluate_prompt(llm, tokens, keep if start == 0 else len(tokens) - 1)
        group = [make_sample(llm, j, params, seed, grammar, bias) for j, seed in enumerate(seeds[start:start + size])]
        try:
            decode_group(llm, group, len(tokens), max_tokens, params.stop)
        finally:
            for s in group:
                s.close()
        out += [(text_of(llm, s.tokens), s.finish or "length", len(s.tokens)) for s in group]
    return out
