// Key generation, hex form and key files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "carrier/secure/Key.h"
#include "carrier/secure/KeyFile.h"

namespace ferry::carrier::secure {
namespace {

bool isLowerHex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(SecureKeyTest, GeneratedKeysAreSixtyFourHexCharactersAndDiffer) {
  std::string first = Key::generate().toHex();
  std::string second = Key::generate().toHex();
  EXPECT_EQ(first.size(), 64u);
  EXPECT_TRUE(isLowerHex(first)) << first;
  EXPECT_NE(first, second);
}

TEST(SecureKeyTest, HexRoundTripsAndRejectsAnythingElse) {
  Key key = Key::generate();
  std::optional<Key> parsed = Key::fromHex(key.toHex());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(*parsed == key);
  std::string hex = key.toHex();
  std::string upper = hex;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_TRUE(Key::fromHex(upper) && *Key::fromHex(upper) == key);
  EXPECT_FALSE(Key::fromHex(hex.substr(1)));
  EXPECT_FALSE(Key::fromHex(hex + "0"));
  EXPECT_FALSE(Key::fromHex("g" + hex.substr(1)));
  EXPECT_FALSE(Key::fromHex(hex.substr(0, 63) + " "));
  EXPECT_FALSE(Key::fromHex(""));
}

class SecureKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "ferry-key-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& path : written_) {
      ::unlink(path.c_str());
    }
    ::rmdir(dir_.c_str());
  }
  std::string write(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    written_.push_back(path);
    return path;
  }
  std::string errorFor(const std::string& path) {
    io::Result<Key> key = loadKeyFile(path);
    EXPECT_FALSE(key) << path;
    return key ? "" : key.error().message;
  }

  std::string dir_;
  std::vector<std::string> written_;
};

TEST_F(SecureKeyFileTest, LoadsAGoodFileWithOrWithoutNewline) {
  Key key = Key::generate();
  io::Result<Key> withNewline = loadKeyFile(write("a.key", key.toHex() + "\n", 0600));
  ASSERT_TRUE(withNewline) << withNewline.error().message;
  EXPECT_TRUE(*withNewline == key);
  io::Result<Key> without = loadKeyFile(write("b.key", key.toHex(), 0400));
  ASSERT_TRUE(without) << without.error().message;
  EXPECT_TRUE(*without == key);
}

TEST_F(SecureKeyFileTest, RefusesFilesOthersCanRead) {
  std::string hex = Key::generate().toHex() + "\n";
  std::string path = write("open.key", hex, 0644);
  std::string error = errorFor(path);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("mode 0644"), std::string::npos) << error;
  EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
  EXPECT_NE(errorFor(write("group.key", hex, 0640)).find("mode 0640"), std::string::npos);
  EXPECT_NE(errorFor(write("other-write.key", hex, 0602)).find("mode 0602"), std::string::npos);
}

TEST_F(SecureKeyFileTest, LoadsWindowsLineEndsAndTrailingSpaces) {
  Key key = Key::generate();
  for (const char* ending : {"\r\n", "\r\n\r\n", "  \n", "\t\r\n", "\n\n"}) {
    io::Result<Key> loaded = loadKeyFile(write("ending.key", key.toHex() + ending, 0600));
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_TRUE(*loaded == key);
  }
}

TEST_F(SecureKeyFileTest, RefusesWrongLength) {
  std::string hex = Key::generate().toHex();
  std::string shortPath = write("short.key", hex.substr(2) + "\n", 0600);
  std::string error = errorFor(shortPath);
  EXPECT_NE(error.find(shortPath), std::string::npos) << error;
  EXPECT_NE(error.find("holds 62 characters before any trailing whitespace"), std::string::npos)
      << error;
  EXPECT_NE(error.find("one line of 64 hex characters"), std::string::npos) << error;
  EXPECT_NE(errorFor(write("long.key", hex + hex, 0600)).find("more than 80 bytes"),
            std::string::npos);
  EXPECT_NE(errorFor(write("two.key", hex + "\n" + hex.substr(0, 8), 0600)).find("holds 73"),
            std::string::npos);
  EXPECT_NE(errorFor(write("empty.key", "", 0600)).find("holds 0 characters"), std::string::npos);
  EXPECT_NE(errorFor(write("blank.key", "\r\n", 0600)).find("holds 0 characters"),
            std::string::npos);
}

TEST_F(SecureKeyFileTest, RefusesNonHex) {
  std::string hex = Key::generate().toHex();
  hex[10] = 'z';
  std::string path = write("bad.key", hex + "\n", 0600);
  std::string error = errorFor(path);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("is not 64 hex characters"), std::string::npos) << error;
  // Leading or inner whitespace is not a line end: refused, not silently trimmed.
  std::string good = Key::generate().toHex();
  EXPECT_NE(errorFor(write("lead.key", " " + good.substr(1) + "\n", 0600)).find("is not 64 hex"),
            std::string::npos);
  EXPECT_NE(errorFor(write("inner.key", good.substr(0, 63) + "\r" + "\n", 0600)).find("holds 63"),
            std::string::npos);
}

TEST_F(SecureKeyFileTest, RefusesMissingFilesAndDirectories) {
  std::string missing = dir_ + "/missing.key";
  std::string error = errorFor(missing);
  EXPECT_NE(error.find(missing), std::string::npos) << error;
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  EXPECT_NE(errorFor(dir_).find("is not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace ferry::carrier::secure
