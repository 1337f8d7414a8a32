#include "lib/util/logging.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "testing/temp_dir.h"

namespace indafoto {

namespace {

using Entry = std::vector<std::string>;

// Installs a default logger whose only sink is a journald sink that records
// what it would send, and puts the previous default logger back afterwards.
class CapturedJournal {
 public:
  explicit CapturedJournal(int result = 0) : previous_(spdlog::default_logger()) {
    auto sink = MakeJournaldSink([this, result](const Entry& fields) {
      entries.push_back(fields);
      return result;
    });
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedJournal() { spdlog::set_default_logger(previous_); }

  std::vector<Entry> entries;

 private:
  std::shared_ptr<spdlog::logger> previous_;
};

bool Has(const Entry& e, const std::string& field) {
  return std::find(e.begin(), e.end(), field) != e.end();
}

std::string DevIno(int fd) {
  struct stat st;
  REQUIRE(fstat(fd, &st) == 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

}  // namespace

TEST_CASE("ParseLogLevel knows the config's names and spdlog's short ones", "[logging]") {
  spdlog::level::level_enum l = spdlog::level::off;
  CHECK(ParseLogLevel("trace", &l));
  CHECK(l == spdlog::level::trace);
  CHECK(ParseLogLevel("debug", &l));
  CHECK(l == spdlog::level::debug);
  CHECK(ParseLogLevel("info", &l));
  CHECK(l == spdlog::level::info);
  CHECK(ParseLogLevel("warning", &l));
  CHECK(l == spdlog::level::warn);
  CHECK(ParseLogLevel("warn", &l));
  CHECK(l == spdlog::level::warn);
  CHECK(ParseLogLevel("error", &l));
  CHECK(l == spdlog::level::err);
  l = spdlog::level::info;
  CHECK_FALSE(ParseLogLevel("verbose", &l));
  CHECK_FALSE(ParseLogLevel("INFO", &l));
  CHECK_FALSE(ParseLogLevel("", &l));
  CHECK(l == spdlog::level::info);  // untouched on failure
}

TEST_CASE("JournalPriority maps levels to syslog priorities", "[logging]") {
  CHECK(JournalPriority(spdlog::level::err) == 3);
  CHECK(JournalPriority(spdlog::level::warn) == 4);
  CHECK(JournalPriority(spdlog::level::info) == 6);
  CHECK(JournalPriority(spdlog::level::debug) == 7);
  CHECK(JournalPriority(spdlog::level::trace) == 7);
  CHECK(JournalPriority(spdlog::level::critical) == 2);
}

TEST_CASE("FdIsJournalStream compares JOURNAL_STREAM with the fd's dev:ino", "[logging]") {
  TempDir dir;
  int fd = ::open((dir.path() / "stream").c_str(), O_CREAT | O_WRONLY, 0600);
  REQUIRE(fd >= 0);
  int other = ::open((dir.path() / "other").c_str(), O_CREAT | O_WRONLY, 0600);
  REQUIRE(other >= 0);
  std::string env = DevIno(fd);
  CHECK(FdIsJournalStream(fd, env.c_str()));
  // Inherited variable, stderr redirected elsewhere: not the journal.
  CHECK_FALSE(FdIsJournalStream(other, env.c_str()));
  CHECK_FALSE(FdIsJournalStream(fd, nullptr));
  CHECK_FALSE(FdIsJournalStream(fd, ""));
  CHECK_FALSE(FdIsJournalStream(fd, "garbage"));
  CHECK_FALSE(FdIsJournalStream(fd, (env + "x").c_str()));
  CHECK_FALSE(FdIsJournalStream(-1, env.c_str()));
  ::close(fd);
  ::close(other);
}

TEST_CASE("FormatDecision makes one readable line", "[logging]") {
  CHECK(FormatDecision("alice", "Kovács Péter/0/image_1_x.jpg", "failed", "sha256 mismatch") ==
        "source alice: Kovács Péter/0/image_1_x.jpg: failed: sha256 mismatch");
  CHECK(FormatDecision("alice", "a/0/image_2_x.jpg", "imported", "") == "source alice: a/0/image_2_x.jpg: imported");
}

TEST_CASE("journald sink sends PRIORITY, SYSLOG_IDENTIFIER and a bare MESSAGE", "[logging]") {
  CapturedJournal journal;
  spdlog::warn("disk {} full", "/srv");
  spdlog::error("boom");
  spdlog::info("hello");
  spdlog::debug("details");
  REQUIRE(journal.entries.size() == 4);
  const Entry& w = journal.entries[0];
  CHECK(Has(w, "MESSAGE=disk /srv full"));  // no timestamp, no level text
  CHECK(Has(w, "PRIORITY=4"));
  CHECK(Has(w, "SYSLOG_IDENTIFIER=indafoto-syncd"));
  CHECK(Has(journal.entries[1], "PRIORITY=3"));
  CHECK(Has(journal.entries[2], "PRIORITY=6"));
  CHECK(Has(journal.entries[3], "PRIORITY=7"));
}

TEST_CASE("LogDecision adds SOURCE, PATH and STATUS fields under journald", "[logging]") {
  CapturedJournal journal;
  LogDecision(spdlog::level::warn, "alice", "a/0/image_1_x.jpg", "failed", "sha256 mismatch");
  spdlog::info("plain");  // fields belong to one message only
  REQUIRE(journal.entries.size() == 2);
  const Entry& e = journal.entries[0];
  CHECK(Has(e, "MESSAGE=source alice: a/0/image_1_x.jpg: failed: sha256 mismatch"));
  CHECK(Has(e, "PRIORITY=4"));
  CHECK(Has(e, "SOURCE=alice"));
  CHECK(Has(e, "PATH=a/0/image_1_x.jpg"));
  CHECK(Has(e, "STATUS=failed"));
  CHECK(journal.entries[1].size() == 3);
}

TEST_CASE("LogFields mangles invalid journal field names", "[logging]") {
  CapturedJournal journal;
  LogFields(spdlog::level::info, "m", {{"rate-per_s", "12"}, {"_PID", "1"}, {"9lives", "x"}});
  REQUIRE(journal.entries.size() == 1);
  const Entry& e = journal.entries[0];
  CHECK(Has(e, "RATE_PER_S=12"));
  CHECK(Has(e, "PID=1"));  // a leading '_' would claim a trusted field
  CHECK(Has(e, "F_9LIVES=x"));
}

TEST_CASE("LogDecision below the level sends nothing", "[logging]") {
  CapturedJournal journal;
  spdlog::default_logger()->set_level(spdlog::level::info);
  LogDecision(spdlog::level::debug, "alice", "p", "imported", "");
  CHECK(journal.entries.empty());
}

TEST_CASE("journald sink falls back to stderr with a priority prefix", "[logging]") {
  TempDir dir;
  std::string out = (dir.path() / "stderr").string();
  int saved = ::dup(STDERR_FILENO);
  int fd = ::open(out.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  ::dup2(fd, STDERR_FILENO);
  {
    CapturedJournal journal(-ENOENT);
    spdlog::warn("journald away");
  }
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fd);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == "<4>journald away\n");
}

TEST_CASE("InitLogging without journald installs a stderr logger at the level", "[logging]") {
  auto previous = spdlog::default_logger();
  InitLogging("warning");
  CHECK(spdlog::default_logger()->level() == spdlog::level::warn);
  CHECK(spdlog::default_logger()->name() == "indafoto-syncd");
  InitLogging("debug");  // SIGHUP reload: calling again replaces it
  CHECK(spdlog::default_logger()->level() == spdlog::level::debug);
  spdlog::set_default_logger(previous);
}

}  // namespace indafoto

namespace indafoto {

TEST_CASE("EscapeControl leaves text alone and escapes every control character", "[logging]") {
  CHECK(EscapeControl("Kovács Péter/0/image_1.jpg") == "Kovács Péter/0/image_1.jpg");
  CHECK(EscapeControl("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(EscapeControl(std::string("\x1b[2J\x7f\0", 6)) == "\\x1b[2J\\x7f\\x00");
  CHECK(EscapeControl("\xc2\x9b" "31m") == "\\u009b31m");  // C1 CSI
}

TEST_CASE("the journald sink escapes the message and every field", "[logging]") {
  std::vector<std::string> sent;
  auto sink = MakeJournaldSink([&](const std::vector<std::string>& fields) {
    sent = fields;
    return 0;
  });
  auto logger = std::make_shared<spdlog::logger>("t", sink);
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  LogDecision(spdlog::level::warn, "peer", "a\nMESSAGE=forged", "failed", "x");
  spdlog::set_default_logger(saved);
  REQUIRE_FALSE(sent.empty());
  for (const std::string& f : sent) CHECK(f.find('\n') == std::string::npos);
  CHECK(std::find(sent.begin(), sent.end(), "PATH=a\\nMESSAGE=forged") != sent.end());
}

}  // namespace indafoto
