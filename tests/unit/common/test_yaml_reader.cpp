// The reader every configuration file goes through (policies, cabinet descriptions): each
// mistake a person makes names the file, line and column, and what was expected.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "temp_dir.h"
#include "vitrine/common/yaml_reader.h"

using vitrine::ConfigError;
using vitrine::YamlReader;

namespace {

// "line:column: message" of what `body` throws on the document `text`, or "no error".
template <typename Body>
std::string error_of(const std::string& text, Body body) {
  try {
    const YAML::Node root = YamlReader::parse(text, "f.yaml", "thing");
    YamlReader::guarded("f.yaml", [&] { body(YamlReader("f.yaml"), root); });
  } catch (const ConfigError& e) {
    return std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": " + e.what();
  }
  return "no error";
}

}  // namespace

TEST(YamlReader, AnUnknownKeyIsAMistakeThatListsTheKnownOnes) {
  std::string seen;
  const auto err = error_of("name: a\nnmae: b\n", [&](const YamlReader& r, const YAML::Node& root) {
    r.map(root, "", {{"name", [&](const YAML::Node& v, const std::string& p) { seen = r.scalar(v, p); }},
                     {"size", [&](const YAML::Node&, const std::string&) {}}});
  });
  EXPECT_EQ(err, "2:1: f.yaml:2:1: unknown key 'nmae' (expected one of: name, size)");
  EXPECT_EQ(seen, "a");
}

TEST(YamlReader, NumbersBooleansAndChoicesAreCheckedWhereTheyAre) {
  auto number = [](const std::string& v) {
    return error_of("n: " + v + "\n", [](const YamlReader& r, const YAML::Node& root) { r.number(root["n"], "n", 1, 10); });
  };
  EXPECT_EQ(number("10"), "no error");
  EXPECT_EQ(number("11"), "1:4: f.yaml:1:4: n: expected a whole number from 1 to 10, got '11'");
  EXPECT_NE(number("-1").find("got '-1'"), std::string::npos);
  EXPECT_NE(number("3x").find("got '3x'"), std::string::npos);
  EXPECT_NE(number("99999999999999999999999").find("expected a whole number"), std::string::npos) << "overflow";
  EXPECT_NE(error_of("b: yes\n", [](const YamlReader& r, const YAML::Node& root) { r.boolean(root["b"], "b"); })
                .find("expected true or false, got 'yes'"),
            std::string::npos);
  EXPECT_NE(error_of("c: blue\n", [](const YamlReader& r, const YAML::Node& root) {
              r.choice<int>(root["c"], "c", {{"red", 1}, {"green", 2}});
            }).find("expected one of red, green, got 'blue'"),
            std::string::npos);
}

TEST(YamlReader, AListItemIsNamedByItsIndex) {
  const auto err = error_of("l: [a, [b], c]\n", [](const YamlReader& r, const YAML::Node& root) {
    r.list(root["l"], "l", [&](const YAML::Node& item, const std::string& p) { r.scalar(item, p); });
  });
  EXPECT_EQ(err, "1:8: f.yaml:1:8: l[1]: expected a single value");
  EXPECT_NE(error_of("l: a\n", [](const YamlReader& r, const YAML::Node& root) {
              r.list(root["l"], "l", [](const YAML::Node&, const std::string&) {});
            }).find("expected a list"),
            std::string::npos);
}

TEST(YamlReader, SyntaxErrorsAndEmptyDocumentsAreRefused) {
  EXPECT_NE(error_of("a: [1, 2\n", [](const YamlReader&, const YAML::Node&) {}).find("f.yaml:"), std::string::npos);
  EXPECT_EQ(error_of("", [](const YamlReader&, const YAML::Node&) {}), "0:0: f.yaml: the thing is empty");
  EXPECT_EQ(error_of("# only a comment\n", [](const YamlReader&, const YAML::Node&) {}), "0:0: f.yaml: the thing is empty");
}

TEST(YamlReader, AMissingFileIsNamed) {
  vitrine::testing::TempDir dir;
  const std::string path = (dir.path / "nope.yaml").string();
  try {
    YamlReader::read_file(path, "policy");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": cannot open the policy file");
  }
  EXPECT_EQ(YamlReader::read_file(dir.write("p.yaml", "a: 1\n"), "policy"), "a: 1\n");
}

// One anchored list read many times: each read counts, and the bound stops the reading where
// it is hit, however few bytes the file has.
TEST(YamlReader, ValuesReadAreCountedAliasesEachTime) {
  std::string text = "l: &l [" + std::string("1, 2, 3, 4, 5, 6, 7, 8, 9, 10") + "]\nm: [";
  const size_t copies = vitrine::kMaxConfigValues / 10;
  for (size_t i = 0; i < copies; ++i) text += (i ? ", *l" : "*l");
  text += "]\n";
  uint64_t read = 0;
  const auto err = error_of(text, [&](const YamlReader& r, const YAML::Node& root) {
    r.list(root["m"], "m", [&](const YAML::Node& l, const std::string& p) {
      r.list(l, p, [&](const YAML::Node& v, const std::string& vp) { r.number(v, vp, 0, 100); });
    });
    read = r.values_read();
  });
  EXPECT_NE(err.find("aliases expanded"), std::string::npos) << err;
  EXPECT_EQ(read, 0u) << "the reading stopped";
}

// A key given twice says two things, of which a reader takes one: refused where the second is.
TEST(YamlReader, AKeyGivenTwiceIsAMistake) {
  const auto err = error_of("action: deny\nname: a\naction: allow\n", [](const YamlReader& r, const YAML::Node& root) {
    r.map(root, "", {{"action", [](const YAML::Node&, const std::string&) {}}, {"name", [](const YAML::Node&, const std::string&) {}}});
  });
  EXPECT_EQ(err, "3:1: f.yaml:3:1: 'action' is given twice (first on line 1)");
}

TEST(YamlReader, ASecondDocumentIsAMistakeNotDroppedUnread) {
  const auto err = error_of("a: 1\n---\ndefaultAction: allow\n", [](const YamlReader&, const YAML::Node&) {});
  EXPECT_NE(err.find("a second YAML document"), std::string::npos) << err;
  EXPECT_EQ(err.rfind("2:1:", 0), 0u) << "at the marker of the second: " << err;
  EXPECT_EQ(error_of("--- # the one document\na: 1\n", [](const YamlReader&, const YAML::Node&) {}), "no error");
}

// What is not a file of bytes (a pipe would block, a device never end) or is too large to be
// one a person wrote is refused before it is read.
TEST(YamlReader, OnlyRegularFilesOfABoundedSizeAreRead) {
  vitrine::testing::TempDir dir;
  auto error = [](const std::string& path) {
    try {
      YamlReader::read_file(path, "policy");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string fifo = (dir.path / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(error(fifo).find("not a regular file"), std::string::npos);
  EXPECT_NE(error("/dev/zero").find("not a regular file"), std::string::npos);
  EXPECT_NE(error(dir.path.string()).find("not a regular file"), std::string::npos);
  const std::string big = dir.write("big.yaml", "a: 1\n");
  std::filesystem::resize_file(big, vitrine::kMaxConfigBytes + 1);  // sparse: nothing written
  EXPECT_NE(error(big).find("at most " + std::to_string(vitrine::kMaxConfigBytes)), std::string::npos) << error(big);
  std::filesystem::resize_file(big, vitrine::kMaxConfigBytes);
  EXPECT_EQ(error(big), "no error");
}

TEST(YamlReader, AnErrorEchoesWhatWasWrittenFitForATerminalAndBounded) {
  // A key with an escape sequence, a line break and a byte that is not UTF-8: echoed as \xNN,
  // so that an error can neither repaint a terminal nor forge a second log line.
  const auto err = error_of("\"a\\e[2J\\nfake: \\xff\\u00e9\": 1\n", [&](const YamlReader& r, const YAML::Node& root) {
    r.map(root, "", {{"name", [&](const YAML::Node&, const std::string&) {}}});
  });
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_NE(err.find("a\\x1b[2J\\x0afake: "), std::string::npos) << err;
  EXPECT_NE(err.find("\xc3\xa9"), std::string::npos) << "UTF-8 is kept: " << err;
  const auto c1 = error_of("\"b\\u009b2J\\u202e\": 1\n", [&](const YamlReader& r, const YAML::Node& root) {
    r.map(root, "", {{"name", [&](const YAML::Node&, const std::string&) {}}});
  });
  EXPECT_NE(c1.find("b\\xc2\\x9b2J\\xe2\\x80\\xae"), std::string::npos) << "C1 and bidi controls escaped: " << c1;
  // A 100,000-character value is cut, saying how much was left out.
  const auto huge = error_of("size: " + std::string(100000, 'x') + "\n", [&](const YamlReader& r, const YAML::Node& root) {
    r.map(root, "", {{"size", [&](const YAML::Node& v, const std::string& p) { r.number(v, p, 0, 10); }}});
  });
  EXPECT_LT(huge.size(), 1200u);
  EXPECT_NE(huge.find("more bytes)"), std::string::npos) << huge.substr(0, 200);
}
