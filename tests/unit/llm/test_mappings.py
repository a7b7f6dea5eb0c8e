from synthir.llm.base import SamplingParams, sample_seed
from synthir.llm.registry import backend_names
from synthir.llm.base import cut_at_stop
from synthir.llm.transformers_backend import batch_seed, to_generate_kwargs


def test_greedy_mapping():
    kw = to_generate_kwargs(SamplingParams(max_tokens=12, stop=("\n",)))
    assert kw == {"max_new_tokens": 12, "do_sample": False, "temperature": None, "top_p": None,
                  "top_k": None, "stop_strings": ["\n"]}


def test_sampling_mapping():
    kw = to_generate_kwargs(SamplingParams(temperature=0.8, top_p=0.9, max_tokens=5, seed=1))
    assert kw == {"max_new_tokens": 5, "do_sample": True, "temperature": 0.8, "top_p": 0.9, "top_k": 0}


def test_cut_at_earliest_stop():
    assert cut_at_stop(" query one\nPassage: x", ("\n",)) == (" query one", True)
    assert cut_at_stop("a;b\nc", ("\n", ";")) == ("a", True)
    assert cut_at_stop("no stop", ("\n",)) == ("no stop", False)




def test_transformers_n_samples():
    kw = to_generate_kwargs(SamplingParams(temperature=0.7, n=3))
    assert kw["num_return_sequences"] == 3 and kw["do_sample"] is True
    # greedy n>1: decoded once, the backend repeats it (transformers refuses greedy n>1)
    assert "num_return_sequences" not in to_generate_kwargs(SamplingParams(n=3))


def test_registry_names_every_backend():
    assert backend_names() == ["llamacpp", "openai", "transformers", "vllm"]


# --- vLLM ---------------------------------------------------------------------------------
from types import SimpleNamespace  # noqa: E402

from data_schemas.config import LLMConfig  # noqa: E402
from synthir.llm.base import schema_json  # noqa: E402
from synthir.llm.vllm_backend import read_outputs, to_engine_kwargs, to_vllm_kwargs  # noqa: E402

SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}


def test_vllm_greedy_mapping():
    assert to_vllm_kwargs(SamplingParams(max_tokens=12, stop=("\n",))) == {
        "n": 1, "max_tokens": 12, "temperature": 0.0, "top_p": 1.0, "stop": ["\n"]}


def test_vllm_sampling_seed_n_and_structured_output():
    params = SamplingParams(temperature=0.8, top_p=0.9, max_tokens=5, seed=3, n=4, json_schema=schema_json(SCHEMA))
    kw = to_vllm_kwargs(params, "P")
    assert kw == {"n": 4, "max_tokens": 5, "temperature": 0.8, "top_p": 0.9, "seed": sample_seed(3, 0, "P"),
                  "structured_outputs": {"json": SCHEMA}}
    assert to_vllm_kwargs(params, "Q")["seed"] != kw["seed"]  # each prompt its own random stream


def test_vllm_engine_kwargs():
    cfg = LLMConfig(backend="vllm", model="/models/qwen", dtype="bfloat16", context_length=2048,
                    gpu_memory_utilization=0.5, tensor_parallel_size=2)
    assert to_engine_kwargs(cfg, cfg.model, None) == {
        "model": "/models/qwen", "dtype": "bfloat16", "max_model_len": 2048,
        "gpu_memory_utilization": 0.5, "tensor_parallel_size": 2, "pipeline_parallel_size": 1,
        "seed": 0}
    kw = to_engine_kwargs(LLMConfig(backend="vllm"), "/c/m.gguf", "/c/tok")
    assert kw["dtype"] == "auto" and kw["tokenizer"] == "/c/tok"  # float32 is a CPU default
    assert "data_parallel_size" not in kw
    par = LLMConfig(backend="vllm", tensor_parallel_size=4, pipeline_parallel_size=2, data_parallel_size=2)
    kw = to_engine_kwargs(par, "m", None)
    assert (kw["tensor_parallel_size"], kw["pipeline_parallel_size"], kw["data_parallel_size"]) == (4, 2, 2)


def test_vllm_outputs_grouped_by_prompt():
    def out(ptoks, *samples):
        return SimpleNamespace(prompt_token_ids=list(range(ptoks)), outputs=[
            SimpleNamespace(text=t, finish_reason=f, token_ids=[0] * k) for t, f, k in samples])
    gens = read_outputs([out(5, ("a", "stop", 2), ("b", "length", 8)), out(3, ("c", "stop", 1))], n=2)
    assert [(g.text, g.finish_reason) for g in gens] == [
        ("a", "stop"), ("b", "length"), ("c", "stop"), ("", "error")]
    assert [g.prompt_tokens for g in gens] == [5, 0, 3, 0]
    assert gens[3].error == "vLLM returned fewer samples than n"


# --- llama.cpp (in-process) ---------------------------------------------------------------
from synthir.llm.llamacpp_backend import to_llamacpp_kwargs  # noqa: E402


def test_llamacpp_mapping():
    assert to_llamacpp_kwargs(SamplingParams(max_tokens=9, stop=("\n",))) == {
        "max_tokens": 9, "temperature": 0.0, "top_p": 1.0, "top_k": 1, "stop": ["\n"]}
    kw = to_llamacpp_kwargs(SamplingParams(temperature=0.5, top_p=0.8, seed=10, n=3), sample=2, prompt="P")
    assert kw == {"max_tokens": 64, "temperature": 0.5, "top_p": 0.8, "top_k": 0, "seed": sample_seed(10, 2, "P")}


def test_transformers_batches_get_their_own_seed():
    assert batch_seed(0, ["a", "b"]) == batch_seed(0, ["a", "b"]) == sample_seed(0, 0, "a\x00b")
    assert len({batch_seed(0, ["a", "b"]), batch_seed(0, ["c", "d"]), batch_seed(1, ["a", "b"])}) == 3


def test_sample_seeds_differ_across_run_seeds_samples_and_prompts():
    """Another sample.seed is a fresh draw, and no two prompts replay the same random streams
    (with seed + k for every prompt, seed 1 repeated seed 0's samples 1..7, and samples 2 and 7
    gave the same query for 42 of 94 passages)."""
    seeds = [sample_seed(s, k, p) for s in range(4) for k in range(16) for p in ("P", "Q", "a longer prompt")]
    assert len(set(seeds)) == len(seeds) and all(0 <= x < 2**31 for x in seeds)
    assert sample_seed(0, 1, "P") == sample_seed(0, 1, "P")  # reproducible
    assert sample_seed(-(2**40), 5, "P") >= 0


# --- OpenAI-compatible HTTP -----------------------------------------------------------------
import random  # noqa: E402

from synthir.llm.openai_backend import backoff_delay, from_response, structured_fields, to_request  # noqa: E402

OPENAI = LLMConfig(backend="openai", model="served", base_url="http://127.0.0.1:1/v1")


def test_openai_completions_request():
    body = to_request("P", SamplingParams(max_tokens=7, stop=("\n",), seed=5), OPENAI, sample=1)
    assert body == {"model": "served", "max_tokens": 7, "temperature": 0.0, "top_p": 1.0, "n": 1,
                    "prompt": "P", "stop": ["\n"], "seed": sample_seed(5, 1, "P")}


def test_openai_chat_request_with_schema_per_server_flavour():
    params = SamplingParams(json_schema=schema_json(SCHEMA))
    chat = OPENAI.model_copy(update={"api": "chat"})
    body = to_request("P", params, chat)
    assert body["messages"] == [{"role": "user", "content": "P"}] and "prompt" not in body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert structured_fields(params, "chat", "llamacpp") == {
        "response_format": {"type": "json_object", "schema": SCHEMA}}
    assert structured_fields(params, "completions", "vllm") == {"structured_outputs": {"json": SCHEMA}}
    assert structured_fields(params, "completions", "openai") == {}
    assert structured_fields(SamplingParams(), "chat", "openai") == {}
    off = OPENAI.model_copy(update={"structured_output": False})
    assert "response_format" not in to_request("P", params, off.model_copy(update={"api": "chat"}))


def test_openai_response_parsing():
    g = from_response({"choices": [{"text": " q1\nmore", "finish_reason": "length"}],
                       "usage": {"prompt_tokens": 11, "completion_tokens": 4}}, "completions", ("\n",))
    assert (g.text, g.finish_reason, g.prompt_tokens, g.completion_tokens) == (" q1", "stop", 11, 4)
    g = from_response({"choices": [{"message": {"content": "abc"}, "finish_reason": "length"}]},
                      "chat", ())
    assert (g.text, g.finish_reason) == ("abc", "length")
    g = from_response({"choices": []}, "chat", ())
    assert g.finish_reason == "error" and "no choices" in g.error


def test_backoff_honours_retry_after_and_grows():
    rng = random.Random(0)
    assert backoff_delay(0, "2", rng) == 2.0
    assert backoff_delay(5, "999", rng) == 30.0
    delays = [backoff_delay(a, None, random.Random(1)) for a in range(4)]
    assert all(0.25 * 2 ** a <= d <= 0.5 * 2 ** a for a, d in enumerate(delays))
    assert backoff_delay(3, "Wed, 21 Oct 2026 07:28:00 GMT", random.Random(1)) == delays[3]
