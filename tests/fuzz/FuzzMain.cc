// Start-up shared by every fuzz target (linked into each): logs off unless FERRY_FUZZ_LOG names
// a level, and the seed writer: with FERRY_FUZZ_WRITE_SEEDS=DIR the target writes its seeds to
// DIR/seed-NN and exits instead of fuzzing.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "FuzzMain.h"
#include "io/Fd.h"
#include "io/Log.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* level = std::getenv("FERRY_FUZZ_LOG");
  spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::off);

  const char* dir = std::getenv("FERRY_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) {
    return 0;
  }
  std::vector<ferry::fuzz::Seed> seeds = ferry::fuzz::seeds();
  for (size_t i = 0; i < seeds.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/seed-%02zu", i);
    std::string path = std::string(dir) + name;
    ferry::io::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd || ::write(fd.get(), seeds[i].data(), seeds[i].size()) !=
                   static_cast<ssize_t>(seeds[i].size())) {
      std::perror(path.c_str());
      std::exit(1);
    }
  }
  std::fprintf(stderr, "wrote %zu seeds to %s\n", seeds.size(), dir);
  std::exit(0);
}
