// The TOML -> CLI11 options mapping of --config: keys are long option names, the command line
// wins, and every mistake names FILE:LINE: KEY.
#include "cli/ConfigFile.h"

#include <gtest/gtest.h>

namespace ferry::cli {
namespace {

/// A command with one option of each kind the tunnel commands have.
struct Command {
  CLI::App app{"test command", "client"};
  std::string dir;
  bool poll = false;
  double pollMax = 50;
  std::vector<std::string> forwards;
  std::vector<std::string> allow;

  Command() {
    app.add_option("--dir", dir);
    app.add_flag("--poll", poll);
    app.add_option("--poll-max", pollMax)->check(CLI::Range(0.1, 60000.0));
    app.add_option("-L,--forward", forwards);
    app.add_option("--allow", allow)->delimiter(',');
  }

  /// Parses `args` as the command line, then applies `toml` as file "test.toml".
  void run(std::vector<std::string> args, const std::string& toml) {
    std::reverse(args.begin(), args.end());
    app.parse(args);
    applyConfig(&app, toml, "test.toml");
  }

  /// The message of the error applying `toml` throws ("" if none).
  std::string errorOf(const std::string& toml) {
    try {
      run({}, toml);
    } catch (const CLI::Error& error) {
      return error.what();
    }
    return "";
  }
};

TEST(ConfigFileTest, KeysAreLongOptionNames) {
  Command command;
  command.run({}, R"(
dir = "/mnt/share"
poll = true
poll-max = 20.5
forward = ["8080:127.0.0.1:80", "8081:127.0.0.1:81"]
allow = ["127.0.0.1:80,127.0.0.1:81", "127.0.0.1:82"]
)");
  EXPECT_EQ(command.dir, "/mnt/share");
  EXPECT_TRUE(command.poll);
  EXPECT_DOUBLE_EQ(command.pollMax, 20.5);
  EXPECT_EQ(command.forwards, (std::vector<std::string>{"8080:127.0.0.1:80", "8081:127.0.0.1:81"}));
  EXPECT_EQ(command.allow,
            (std::vector<std::string>{"127.0.0.1:80", "127.0.0.1:81", "127.0.0.1:82"}));
}

TEST(ConfigFileTest, IntegersSingleValuesForListsAndFalseFlags) {
  Command command;
  command.run({}, "poll-max = 7\nforward = \"1:127.0.0.1:2\"\npoll = false\nrole = \"client\"\n");
  EXPECT_DOUBLE_EQ(command.pollMax, 7);
  EXPECT_EQ(command.forwards, (std::vector<std::string>{"1:127.0.0.1:2"}));
  EXPECT_FALSE(command.poll);
}

TEST(ConfigFileTest, CommandLineWinsAndReplacesLists) {
  Command command;
  command.run({"-L", "1:127.0.0.1:1", "--poll-max", "9"},
              "forward = [\"2:127.0.0.1:2\", \"3:127.0.0.1:3\"]\npoll-max = 99\ndir = \"/d\"\n");
  EXPECT_EQ(command.forwards, (std::vector<std::string>{"1:127.0.0.1:1"}));
  EXPECT_DOUBLE_EQ(command.pollMax, 9);
  EXPECT_EQ(command.dir, "/d");
  OptionValues values = optionValues(command.app);
  EXPECT_EQ(values["forward"], (std::vector<std::string>{"1:127.0.0.1:1"}));
  EXPECT_EQ(values["dir"], (std::vector<std::string>{"/d"}));
  EXPECT_FALSE(values.contains("allow"));
}

TEST(ConfigFileTest, MistakesNameFileLineAndKey) {
  struct Case {
    const char* toml;
    const char* where;
    const char* why;
  };
  for (const Case& c : std::vector<Case>{
           {"dir = \"/d\"\nnosuch = 1\n", "test.toml:2: nosuch: ", "unknown key"},
           {"\n\npoll = \"yes\"\n", "test.toml:3: poll: ", "expects true or false"},
           {"dir = [\"/a\", \"/b\"]\n", "test.toml:1: dir: ", "takes one value, not a list"},
           {"dir = true\n", "test.toml:1: dir: ", "not true/false"},
           {"forward = [{ bind = 1 }]\n", "test.toml:1: forward: ", "not a table"},
           {"poll-max = 1e9\n", "test.toml:1: poll-max: ", "not in range"},
           {"poll-max = \"fast\"\n", "test.toml:1: poll-max: ", "fast"},
           {"config = \"other.toml\"\n", "test.toml:1: config: ", "unknown key"},
           {"role = \"server\"\n", "test.toml:1: role: ", "for `ferry server`, not `ferry client`"},
           {"dir = \"/d\"\npoll-max = \n", "test.toml:2", ""},
       }) {
    std::string message = Command().errorOf(c.toml);
    EXPECT_TRUE(message.starts_with(c.where)) << c.toml << " -> " << message;
    EXPECT_NE(message.find(c.why), std::string::npos) << c.toml << " -> " << message;
  }
}

}  // namespace
}  // namespace ferry::cli
