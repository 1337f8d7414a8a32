// Logging setup: spdlog's default logger, written so that
// `journalctl -u indafoto-syncd` reads well under systemd and a terminal
// reads well otherwise.
//
// Under journald (JOURNAL_STREAM names our stderr, see systemd.exec(5)) each
// message goes to the journal natively with its PRIORITY and
// SYSLOG_IDENTIFIER=indafoto-syncd and no timestamp of ours (journald keeps
// its own), so `journalctl -p warning` filters by level. Otherwise messages
// go to stderr with a timestamp and the level name.
//
// Import decisions also carry structured fields (SOURCE=, PATH=, STATUS=) so
// that an operator can ask `journalctl -u indafoto-syncd STATUS=failed`.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>
#include <spdlog/sinks/sink.h>

namespace indafoto {

// The identifier under which messages appear in the journal.
inline constexpr const char* kSyslogIdentifier = "indafoto-syncd";

// Replaces spdlog's default logger: journald sink when stderr is connected to
// the journal, else stderr with timestamps. `level` is one of the config's
// log_level values (trace, debug, info, warning, error); anything else means
// info and is reported as a warning. Safe to call again (SIGHUP reload).
void InitLogging(const std::string& level);

// Parses a level name: trace, debug, info, warning (or warn), error (or err),
// critical, off. Returns false and leaves `out` alone for anything else.
// (spdlog::level::from_str silently maps unknown names to "off".)
bool ParseLogLevel(std::string_view name, spdlog::level::level_enum* out);

// syslog(3) priority for a level: error=3, warning=4, info=6, debug/trace=7,
// critical=2.
int JournalPriority(spdlog::level::level_enum level);

// True when the environment variable JOURNAL_STREAM ("<st_dev>:<st_ino>")
// names the file open as `fd`. This is systemd's documented test for "my
// stderr goes to the journal"; a child whose stderr was redirected elsewhere
// inherits the variable but fails the comparison.
bool FdIsJournalStream(int fd, const char* journal_stream_env);
bool StderrIsJournal();

// `text` with every control character (C0, DEL, and C1 as UTF-8) written
// as an escape (\n, \r, \t, \x1b, ...), so that a value from outside (a
// delivered file name, a remote column, Syncthing's answer) can neither
// start a forged log line nor drive the terminal. Both sinks apply it to
// the whole message and every journal field value.
std::string EscapeControl(std::string_view text);

// One structured journal field. `name` must be a valid journal field name
// (A-Z, 0-9, _; not starting with _); invalid names are mangled into one.
struct LogField {
  std::string_view name;
  std::string_view value;
};

// Logs `message` at `level`. Under journald the fields travel with the
// message as NAME=value; on stderr only `message` is written, so it must be
// readable on its own (put the important values in it too).
void LogFields(spdlog::level::level_enum level, std::string_view message,
               std::initializer_list<LogField> fields);

// One import decision: "source SOURCE: PATH: STATUS[: MESSAGE]", plus the
// fields SOURCE=, PATH=, STATUS= under journald.
void LogDecision(spdlog::level::level_enum level, std::string_view source, std::string_view path,
                 std::string_view status, std::string_view message);
std::string FormatDecision(std::string_view source, std::string_view path, std::string_view status,
                           std::string_view message);

// Sends one journal entry given as "NAME=value" strings; returns 0 or a
// negative errno (like sd_journal_sendv). Replaceable for tests.
using JournalSender = std::function<int(const std::vector<std::string>& fields)>;

// The sink InitLogging uses under journald. With no sender it calls
// sd_journal_sendv; when that reports an error the line goes to stderr with
// a "<N>" priority prefix, which journald's stream reader understands, so
// nothing is lost.
std::shared_ptr<spdlog::sinks::sink> MakeJournaldSink(JournalSender sender = nullptr);

}  // namespace indafoto
