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


def test_sampled_keys_carry_the_sample_seed_scheme():
    """Entries written under the old sample seeds (seed + k) must not be served: every seeded
    key records the scheme; greedy keys (no seed) are unchanged."""
    import hashlib
    import json

    def old_key(params):  # the key before the scheme was recorded
        d = {k: v for k, v in params.as_dict().items() if k != "sample_seeds"}
        return hashlib.sha256(json.dumps(["p", "b", "m", d], ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    greedy, zero = SamplingParams(), SamplingParams(temperature=0.8, seed=0, n=8)
    assert cache_key("p", "b", "m", greedy) == old_key(greedy) and "sample_seeds" not in greedy.as_dict()
    assert cache_key("p", "b", "m", zero) != old_key(zero) and zero.as_dict()["sample_seeds"] == "sha256(seed,k,prompt)"


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


def test_bad_entries_are_dropped_counted_named_and_refetched(tmp_path, caplog):
    import sqlite3

    path = tmp_path / "c.sqlite"
    inner = ScriptedLLM()
    p = SamplingParams(max_tokens=8)
    CachedLLM(inner, path).generate(["a", "b", "c", "d"], p)
    keys = [cache_key(x, "scripted", "scripted-v1", p) for x in "abcd"]
    with sqlite3.connect(str(path)) as con:
        con.execute("UPDATE responses SET value=CAST(X'C3FF' AS TEXT) WHERE key=?", (keys[0],))  # not UTF-8
        con.execute("UPDATE responses SET value='{\"text\": \"A\", \"finish' WHERE key=?", (keys[1],))  # cut
        con.execute("UPDATE responses SET value='[1, 2]' WHERE key=?", (keys[2],))  # wrong shape
    inner.seen.clear()
    llm = CachedLLM(inner, path)
    with caplog.at_level("WARNING"):
        gens = llm.generate(["a", "b", "c", "d"], p)
    assert [g.text for g in gens] == ["A", "B", "C", "D"]
    assert inner.seen == ["a", "b", "c"] and llm.repaired == 3 and llm.hits == 1
    assert caplog.text.count(str(path)) == 3
    assert CachedLLM(inner, path).generate(["a", "b", "c"], p)[0].cached  # stored again, whole


def test_a_cache_file_that_is_not_sqlite_is_moved_aside(tmp_path, caplog):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"garbage" * 1000)
    with caplog.at_level("WARNING"):
        llm = CachedLLM(ScriptedLLM(), path)
    assert llm.generate(["a"], SamplingParams())[0].text == "A"
    assert len(list(tmp_path.glob("c.sqlite.corrupt-*"))) == 1 and "is unreadable" in caplog.text
