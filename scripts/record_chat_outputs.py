"""Record raw answers of the packaged instruct model (Qwen2.5-Coder-0.5B-Instruct, llama.cpp,
`model: embedded-instruct`) to synthir's promptagator chat prompt, as the parser fixture
tests/fixtures/chat_raw_outputs.jsonl (no structured output, so the answers are as free as a
user gets them). 10 Wikipedia summaries (5 en, 5 fr) x en/fr/de greedy + fr/de at T=0.8.

    .venv/bin/python scripts/record_chat_outputs.py tests/fixtures/chat_raw_outputs.jsonl [CORPUS.jsonl]
"""
import json, random, sys
from pathlib import Path
from data_schemas.config import GenerationConfig, LLMConfig, QueryMethodConfig
from data_schemas.records import Passage
from synthir.generators.queries import QueryGenerator
from synthir.llm.registry import get_llm
from synthir.llm.base import SamplingParams

rows = [json.loads(l) for l in open(sys.argv[2] if len(sys.argv) > 2 else ".cache/demo/wiki_en_fr.jsonl")]
rng = random.Random(5)
picked = rng.sample([r for r in rows if r["lang"] == "en"], 5) + rng.sample([r for r in rows if r["lang"] == "fr"], 5)
passages = [Passage(id=r["id"], text=r["text"][:700], title=r["title"], lang=r["lang"]) for r in picked]
llm_cfg = LLMConfig(backend="llamacpp", model="embedded-instruct", api="chat", max_new_tokens=64, structured_output=False)
llm = get_llm(llm_cfg)
out = []
for langs, temp in ((["en", "fr", "de"], 0.0), (["fr", "de"], 0.8)):
    gen = QueryGenerator(QueryMethodConfig(num_examples=3), GenerationConfig(), llm_cfg, langs, seed=3)
    items = gen.build_prompts(passages, langs)
    params = SamplingParams(temperature=temp, top_p=0.95, max_tokens=64, stop=(), seed=3 if temp else None)
    for it, g in zip(items, llm.generate([i.text for i in items], params)):
        out.append({"model": llm.model_id, "lang": it.lang, "temperature": temp, "passage_id": it.passage.id,
                    "raw": g.text, "finish_reason": g.finish_reason})
Path(sys.argv[1]).write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out), encoding="utf-8")
print(len(out))
