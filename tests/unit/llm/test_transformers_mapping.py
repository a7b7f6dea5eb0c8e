from synthir.llm.base import SamplingParams
from synthir.llm.registry import backend_names
from synthir.llm.transformers_backend import cut_at_stop, to_generate_kwargs


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


