// A stand-in for libFuzzer's driver: runs LLVMFuzzerTestOneInput over every
// file in the seed corpus, so that the corpus is a regression test under a
// plain compiler. Usage: decode_fuzz_replay_test [DIR_OR_FILE...]; with no
// arguments it reads api/testdata/fuzz_corpus from the runfiles.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr char kDefaultCorpus[] = "api/testdata/fuzz_corpus";

std::vector<std::filesystem::path> CorpusFiles(const std::filesystem::path& root) {
  if (!std::filesystem::is_directory(root)) return {root};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> roots(argv + 1, argv + argc);
  if (roots.empty()) roots.push_back(kDefaultCorpus);
  int replayed = 0;
  for (const std::string& root : roots) {
    if (!std::filesystem::exists(root)) {
      std::fprintf(stderr, "no such corpus: %s\n", root.c_str());
      return 1;
    }
    for (const std::filesystem::path& file : CorpusFiles(root)) {
      std::ifstream in(file, std::ios::binary);
      const std::string data((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.c_str(), data.size());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()),
                             data.size());
      ++replayed;
    }
  }
  std::fprintf(stderr, "replayed %d inputs\n", replayed);
  // An empty corpus means the test checked nothing.
  return replayed > 0 ? 0 : 1;
}
