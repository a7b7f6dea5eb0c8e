from synthir.llm.base import Generation, SamplingParams
from synthir.llm.cache import CachedLLM, cache_key


class ScriptedLLM:
    """A fake backend for control-flow tests: echoes prompts, fails on 'FAIL'."""

    backend = "scripted"
    model_id = "scripted-v1"

    def __init__(self):
        self.seen: list[str] = []

    def generate(self, prompts, params):
        self.seen.extend(prompts)
        return [Generation(text="", finish_reason="error", error="boom") if "FAIL" in p
                else Generation(text=p.upper(), finish_reason="stop", prompt_tokens=3, completion_tokens=2)
                for p in prompts]


def test_no_call_is_paid_twice(tmp_path):
    inner = ScriptedLLM()
    llm = CachedLLM(inner, tmp_path / "c.sqlite")
    p = SamplingParams(max_tokens=8)
    first = llm.generate(["a", "b", "FAIL"], p)
    assert [g.text for g in first] == ["A", "B", ""] and not any(g.cached for g in first)
    second = CachedLLM(inner, tmp_path / "c.sqlite").generate(["b", "a", "c", "FAIL"], p)
    assert [g.text for g in second] == ["B", "A", "C", ""]
    assert [g.cached for g in second] == [True, True, False, False]
    assert inner.seen == ["a", "b", "FAIL", "c", "FAIL"]  # errors are retried, never cached


def test_key_covers_prompt_model_and_params():
    base = cache_key("p", "b", "m", SamplingParams())
    assert base != cache_key("p2", "b", "m", SamplingParams())
    assert base != cache_key("p", "b", "m2", SamplingParams())
    assert base != cache_key("p", "b", "m", SamplingParams(temperature=0.7))
    assert base != cache_key("p", "b", "m", SamplingParams(stop=("\n",)))
    assert base == cache_key("p", "b", "m", SamplingParams())


def test_factory_is_not_called_when_everything_is_cached(tmp_path):
    built = []

    def factory():
        built.append(1)
        return ScriptedLLM()

    p = SamplingParams()
    CachedLLM(factory, tmp_path / "c.sqlite", backend="scripted", model_id="scripted-v1").generate(["x"], p)
    assert built == [1]
    again = CachedLLM(factory, tmp_path / "c.sqlite", backend="scripted", model_id="scripted-v1")
    assert again.generate(["x"], p)[0].cached
    assert built == [1] and again.misses == 0 and again.hits == 1
