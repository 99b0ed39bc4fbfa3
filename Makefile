# Thin wrapper around CMake. `make demo` and `make check` are the README's quick start.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
JOBS ?= $(shell nproc)
# Tests run at once (ctest -j); most wait on sockets and timers, so CI runs more than the cores.
TEST_JOBS ?= $(JOBS)
PREFIX ?= /usr/local
# ON in .ci/run: line tables only (CMakeLists.txt's FERRY_CI); OFF keeps full -g.
FERRY_CI ?= OFF

.PHONY: all build deps check test demo install asan-check asan-build asan-test fuzz-smoke format clean

all: build

deps:
	@scripts/install-deps.sh

build:
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_CI=$(FERRY_CI) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(TEST_JOBS)

check: deps
	@$(MAKE) --no-print-directory test

demo: deps build
	@scripts/demo.sh $(BUILD_DIR)/ferry

# PREFIX (default /usr/local) and DESTDIR (staging root) as usual; see docs/operations.md.
install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD_DIR) --prefix "$(PREFIX)"

asan-check: deps
	@$(MAKE) --no-print-directory asan-build
	@$(MAKE) --no-print-directory asan-test

asan-build:
	@cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON -DFERRY_CI=$(FERRY_CI) >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)

asan-test:
	ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(TEST_JOBS) --label-exclude timing

# libFuzzer targets (clang), each run briefly from its seeds; see docs/fuzzing.md.
fuzz-smoke: deps
	@JOBS=2 scripts/fuzz-smoke.sh $(FUZZ_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
