# The two commands a new machine needs: `make demo` and `make test` (both install what is missing).
BUILD ?= build
JOBS ?= $(shell nproc)
WERROR ?= OFF
CMAKE_FLAGS ?=
# What `deps` installs (scripts/install-deps JOB...): each command below asks for what it needs.
DEPS ?= test
# Every ctest run leaves its results in JUnit form in its build folder (.ci/run reads them).
CTEST = ctest --output-on-failure --no-tests=error --output-junit ctest-junit.xml -j$(JOBS)

.PHONY: all deps configure build test errors-doc sanitize tsan fuzz demo bench install clean format \
        format-check naming-check

all: build

deps:
	@scripts/install-deps $(DEPS)

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUARRY_WERROR=$(WERROR) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && $(CTEST)

# docs/errors.md, rewritten from the errors every test provokes (tests/error_catalog.hpp); `make
# test` fails (ctest's docs.errors_md) when a test meets a message the page does not show.
errors-doc: build
	cd $(BUILD) && $(CTEST) -E '^docs\.errors_md$$'
	scripts/errors-doc write $(BUILD)/error-catalog.jsonl

# Sanitizer builds keep assertions (Debug) but optimise a little: at -O0 the GP sampler's Eigen
# code runs ~40x slower than in the release build (86 s for one conformance test under ASan).
SANITIZER_OPT = -DCMAKE_CXX_FLAGS_DEBUG="-g1 -O1"

# The search core's tests under AddressSanitizer + UndefinedBehaviorSanitizer. SurrogateSamplerNb201's
# search (the same code 100 trials x 20 seeds; 98 of the 199 s of the tests here, 7 s in the
# release build) is left out: the surrogate sampler's conformance cases and SurrogateModelNb201
# run its code under ASan already.
sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug $(SANITIZER_OPT) -DQUARRY_SANITIZE=ON -DQUARRY_TORCH=OFF -DQUARRY_WERROR=$(WERROR) >/dev/null
	@cmake --build build-asan -j$(JOBS) --target quarry_tests
	cd build-asan && $(CTEST) -L core -E '^SurrogateSamplerNb201\.BeatsRandomSearch'

# The search core's tests under ThreadSanitizer (the parallel runner, the stores, the samplers and
# schedulers shared by workers, and everything else they call). Measured: 727 tests in 10 min 14 s
# with 2 jobs on 2 busy cores; the numeric ones are slow, as TSan checks every load and store of
# Eigen's matrix products (SurrogateSamplerNb201 trains 5-network ensembles: 412 s, 6 s unchecked).
# SurrogateSamplerNb201's search (one thread, 100 trials x 20 seeds) is left out here: it took 412 of
# the 614 s of this run under TSan (7 s in the release build) and has no thread to check.
tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug $(SANITIZER_OPT) -DQUARRY_TSAN=ON -DQUARRY_TORCH=OFF -DQUARRY_WERROR=$(WERROR) >/dev/null
	@cmake --build build-tsan -j$(JOBS) --target quarry_tests
	cd build-tsan && $(CTEST) -L core -E '^SurrogateSamplerNb201\.'

# The libFuzzer harnesses (fuzz/README.md), built with Debian's clang under ASan + UBSan, each run
# FUZZ_SECONDS from its seed corpus; a finding fails and leaves its input in fuzz-findings/.
FUZZ_SECONDS ?= 20
fuzz: DEPS = fuzz
fuzz: deps
	@CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug $(SANITIZER_OPT) -DQUARRY_FUZZ=ON -DQUARRY_TORCH=OFF -DQUARRY_BUILD_TESTS=OFF -DQUARRY_WERROR=$(WERROR) >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target fuzzers
	scripts/run-fuzzers build-fuzz $(FUZZ_SECONDS)

# The seed study: Hyperband over a Fashion-MNIST classifier (Keras Tuner's tutorial). Builds only
# what it runs: `quarry` and `quarry-nn`, to which `quarry` hands model studies.
demo: DEPS = demo
demo: configure
	@cmake --build $(BUILD) -j$(JOBS) --target quarry_cli
	$(BUILD)/quarry search examples/fashion_mnist.yaml --workers $(JOBS)
	$(BUILD)/quarry analyze examples/fashion_mnist.yaml --slice label

# The benchmarks next to Optuna, PyTorch and scikit-learn (bench/README.md); builds only the
# programs they run.
bench: DEPS = bench
bench: configure
	@cmake --build $(BUILD) -j$(JOBS) --target quarry_cli bench_overhead bench_store_workers \
	  bench_trainer_epoch
	bench/overhead.sh $(BUILD)
	bench/stores.sh $(BUILD)
	bench/trainer.sh $(BUILD)
	bench/samplers.sh $(BUILD)
	bench/analyze.sh $(BUILD)
	bench/automl.sh $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

format: DEPS = format
format: deps
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

# clang-tidy's naming rules (.clang-tidy) over the core's declarations (scripts/check-naming).
naming-check: DEPS = format
naming-check: deps
	scripts/check-naming

# Fails, naming the lines, when a tracked C++ file differs from what `make format` would make it.
format-check: DEPS = format
format-check: deps
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
