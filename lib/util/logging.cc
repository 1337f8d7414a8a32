#include "lib/util/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef SD_JOURNAL_SUPPRESS_LOCATION
#define SD_JOURNAL_SUPPRESS_LOCATION  // CODE_FILE=logging.cc on every entry says nothing
#endif
#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace indafoto {

namespace {

// The structured fields of the message being logged on this thread. spdlog's
// synchronous logger calls its sinks on the caller's thread, so LogFields can
// hand its fields to the journald sink this way without changing spdlog's
// message type. (With an async logger the fields would simply be absent.)
thread_local const std::initializer_list<LogField>* t_fields = nullptr;

// Journal field names: A-Z, 0-9 and '_', not starting with '_' or a digit,
// at most 64 characters (journald drops entries with invalid names).
std::string JournalFieldName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
    if (out.empty() && c == '_') continue;
    out.push_back(c);
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(0, "F_");
  if (out.size() > 64) out.resize(64);
  return out;
}

int SendToJournal(const std::vector<std::string>& fields) {
  std::vector<iovec> iov(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    iov[i].iov_base = const_cast<char*>(fields[i].data());
    iov[i].iov_len = fields[i].size();
  }
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

// Passes each message to `inner` with its payload escaped (EscapeControl).
class EscapingSink final : public spdlog::sinks::sink {
 public:
  explicit EscapingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    std::string escaped = EscapeControl(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
    inner_->log(copy);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

class JournaldSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournaldSink(JournalSender sender) : sender_(std::move(sender)) {
    if (!sender_) sender_ = SendToJournal;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // No formatter: journald timestamps and tags each entry itself, and a
    // second timestamp in MESSAGE only clutters `journalctl`.
    const std::string escaped = EscapeControl(std::string_view(msg.payload.data(), msg.payload.size()));
    std::string_view payload(escaped);
    int priority = JournalPriority(msg.level);
    std::vector<std::string> fields;
    fields.reserve(3 + (t_fields ? t_fields->size() : 0));
    fields.push_back("MESSAGE=" + std::string(payload));
    fields.push_back("PRIORITY=" + std::to_string(priority));
    fields.push_back(std::string("SYSLOG_IDENTIFIER=") + kSyslogIdentifier);
    if (t_fields) {
      for (const LogField& f : *t_fields)
        fields.push_back(JournalFieldName(f.name) + "=" + EscapeControl(f.value));
    }
    if (sender_(fields) < 0) {
      // The journal refused the entry (sd_journal_sendv already hides a
      // missing socket, so this is e.g. ENOBUFS or EPERM): stderr is still
      // the journal's stream, and a "<N>" prefix keeps the priority
      // (SyslogLevelPrefix=yes is systemd's default).
      std::fprintf(stderr, "<%d>%.*s\n", priority, static_cast<int>(payload.size()), payload.data());
    }
  }
  void flush_() override {}

 private:
  JournalSender sender_;
};

}  // namespace

std::string EscapeControl(std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080..U+009F, the C1 controls (CSI is U+009B).
      unsigned char c1 = static_cast<unsigned char>(text[++i]);
      out.append("\\u00").push_back(kHex[c1 >> 4]);
      out.push_back(kHex[c1 & 15]);
      continue;
    }
    if (c >= 0x20 && c != 0x7f) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    switch (c) {
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        out.append("\\x").push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool ParseLogLevel(std::string_view name, spdlog::level::level_enum* out) {
  using L = spdlog::level::level_enum;
  struct Entry {
    std::string_view name;
    L level;
  };
  static constexpr Entry kLevels[] = {
      {"trace", L::trace}, {"debug", L::debug}, {"info", L::info},         {"warning", L::warn},
      {"warn", L::warn},   {"error", L::err},   {"err", L::err},           {"critical", L::critical},
      {"off", L::off},
  };
  for (const Entry& e : kLevels) {
    if (e.name == name) {
      *out = e.level;
      return true;
    }
  }
  return false;
}

int JournalPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return 2;  // LOG_CRIT
    case spdlog::level::err: return 3;       // LOG_ERR
    case spdlog::level::warn: return 4;      // LOG_WARNING
    case spdlog::level::info: return 6;      // LOG_INFO
    default: return 7;                       // LOG_DEBUG (trace, debug)
  }
}

bool FdIsJournalStream(int fd, const char* journal_stream_env) {
  if (!journal_stream_env || !*journal_stream_env) return false;
  unsigned long long dev = 0, ino = 0;
  char tail = 0;
  if (std::sscanf(journal_stream_env, "%llu:%llu%c", &dev, &ino, &tail) != 2) return false;
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

bool StderrIsJournal() { return FdIsJournalStream(STDERR_FILENO, std::getenv("JOURNAL_STREAM")); }

std::shared_ptr<spdlog::sinks::sink> MakeJournaldSink(JournalSender sender) {
  return std::make_shared<JournaldSink>(std::move(sender));
}

void InitLogging(const std::string& level) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (StderrIsJournal()) {
    sink = MakeJournaldSink();
  } else {
    // Colours only when stderr is a terminal (the sink checks isatty).
    sink = std::make_shared<EscapingSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$: %v");
  }
  auto logger = std::make_shared<spdlog::logger>(kSyslogIdentifier, std::move(sink));
  spdlog::level::level_enum lvl = spdlog::level::info;
  bool known = ParseLogLevel(level, &lvl);
  logger->set_level(lvl);
  // A daemon that dies right after a warning must not lose it in a buffer.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  if (!known) spdlog::warn("unknown log level '{}', using info", level);
}

void LogFields(spdlog::level::level_enum level, std::string_view message,
               std::initializer_list<LogField> fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (!logger || !logger->should_log(level)) return;
  const std::initializer_list<LogField>* saved = t_fields;
  t_fields = &fields;
  logger->log(level, spdlog::string_view_t(message.data(), message.size()));
  t_fields = saved;
}

std::string FormatDecision(std::string_view source, std::string_view path, std::string_view status,
                           std::string_view message) {
  std::string line = "source ";
  line.append(source).append(": ").append(path).append(": ").append(status);
  if (!message.empty()) line.append(": ").append(message);
  return line;
}

void LogDecision(spdlog::level::level_enum level, std::string_view source, std::string_view path,
                 std::string_view status, std::string_view message) {
  // Formatting costs more than the level check; debug decisions are the bulk.
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  LogFields(level, FormatDecision(source, path, status, message),
            {{"SOURCE", source}, {"PATH", path}, {"STATUS", status}});
}

}  // namespace indafoto
