"""benchmarks/downstream.py's CPU steal share: parsed from /proc/stat's first line, the share of
ticks stolen between two readings, shown beside the generation time when recorded; and the
CPU's model name that `machine` records."""

from __future__ import annotations

from tests.benchmark_scripts import load_benchmark

downstream = load_benchmark("downstream")

STAT = "cpu  {user} 0 {system} {idle} 0 0 0 {steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n"


def test_cpu_ticks_reads_the_steal_column_and_the_total():
    assert downstream.cpu_ticks(STAT.format(user=100, system=20, idle=60, steal=20)) == (20, 200)


def test_cpu_ticks_is_none_without_an_aggregate_cpu_line():
    assert downstream.cpu_ticks("intr 1 2 3\n") is None
    assert downstream.cpu_ticks("") is None


def test_steal_share_is_the_stolen_part_of_the_ticks_between_readings():
    before = downstream.cpu_ticks(STAT.format(user=100, system=20, idle=60, steal=20))
    after = downstream.cpu_ticks(STAT.format(user=160, system=30, idle=70, steal=60))  # +60 +10 +10 +40
    assert downstream.steal_share(before, after) == 0.333
    assert downstream.steal_share(before, before) is None  # no ticks between: unknown, not 0
    assert downstream.steal_share(None, after) is None


def test_markdown_shows_the_steal_share_when_recorded_and_reads_older_results():
    gen = {"lang": "es", "passages": 3, "prompts": 24, "parsed": 20, "kept_pairs": 9,
           "passages_with_a_kept_query": 3, "seconds": 1.0, "rows": {}}
    res = {"machine": "x", "seeds": [0], "recipe": "r.yaml", "devsets": [{"devset": "apps-es", "evals": [],
                                                                          "generation": {**gen, "cpu_steal": 0.214}}]}
    assert "in 1.0 s (CPU steal 21%); distill rows 0." in downstream.markdown(res)
    res["devsets"][0]["generation"] = gen
    assert "in 1.0 s; distill rows 0." in downstream.markdown(res)


def test_cpu_model_names_the_cpu_from_cpuinfo_and_falls_back_without_one():
    info = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B14\nflags\t\t: fpu\n"
    assert downstream.cpu_model(info) == "AMD EPYC 9B14"
    assert downstream.cpu_model("processor\t: 0\n")  # no model line: platform's name, never empty
