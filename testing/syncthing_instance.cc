#include "testing/syncthing_admin.h"
#include "testing/syncthing_instance.h"

#include <utility>  // before asio, see lib/syncthing/syncthing_client.h

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "lib/util/unique_fd.h"

extern char** environ;

namespace indafoto {

namespace fs = std::filesystem;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

std::string SyncthingBinary() {
  const char* b = std::getenv("INDAFOTO_SYNCTHING");
  return b && *b ? b : "syncthing";
}

std::string RandomKey() {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device rd;
  std::uniform_int_distribution<int> pick(0, static_cast<int>(sizeof kChars) - 2);
  std::string key;
  for (int i = 0; i < 32; ++i) key += kChars[pick(rd)];
  return key;
}

// The environment of the child: ours, plus Syncthing's switches for a
// quiet, self-contained test instance. STMONITORED: Syncthing 1.19 runs a
// monitor process even with --no-restart, and the monitor puts the real
// Syncthing in a process group of its own, so SIGKILL to the monitor leaves
// Syncthing running as an orphan. STMONITORED makes `serve` the real
// Syncthing itself (it is what the monitor sets for its child).
std::vector<std::string> ChildEnvironment() {
  const std::vector<std::pair<std::string, std::string>> overrides = {
      {"STNODEFAULTFOLDER", "1"}, {"STNOUPGRADE", "1"}, {"STNORESTART", "1"}, {"STMONITORED", "yes"}};
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    bool overridden = false;
    for (const auto& [k, v] : overrides) overridden |= kv.rfind(k + "=", 0) == 0;
    if (!overridden) env.push_back(kv);
  }
  for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
  return env;
}

// posix_spawn (not fork+exec by hand): nothing runs in the child between
// fork and exec, which matters in a test process with threads. The child
// gets its own process group, so Kill() can take down anything it starts.
Status SpawnProcess(const std::vector<std::string>& args, const fs::path& log, pid_t* pid) {
  std::vector<std::string> env = ChildEnvironment();
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int rc = posix_spawnp(pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Status::FromErrno(rc, "cannot run " + args[0] + " (is the Debian package syncthing installed?)");
  }
  return Status::Ok();
}

Status ReadFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return Status::Ok();
}

Status WriteFile(const fs::path& path, const std::string& data) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out.flush()) return Status::IoError("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
  fs::rename(tmp, path, ec);
  if (ec) return Status::IoError("cannot rename " + tmp.string() + ": " + ec.message());
  return Status::Ok();
}

// Replaces the text of the first <tag>...</tag> at or after `from`.
// Targeted edits keep the rest of Syncthing's file byte for byte.
Status SetElement(std::string* xml, const std::string& tag, const std::string& value, size_t from = 0) {
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t b = xml->find(open, from);
  if (b == std::string::npos) return Status::Invalid("config.xml has no <" + tag + ">");
  b += open.size();
  size_t e = xml->find(close, b);
  if (e == std::string::npos) return Status::Invalid("config.xml: <" + tag + "> is not closed");
  xml->replace(b, e - b, value);
  return Status::Ok();
}

// Sets attribute `name` of the first element starting with `element_prefix`.
Status SetAttribute(std::string* xml, const std::string& element_prefix, const std::string& name,
                    const std::string& value) {
  size_t b = xml->find(element_prefix);
  if (b == std::string::npos) return Status::Invalid("config.xml has no " + element_prefix);
  size_t e = xml->find('>', b);
  std::string key = " " + name + "=\"";
  size_t a = xml->find(key, b);
  if (a == std::string::npos || a > e) {
    xml->insert(b + element_prefix.size(), key + value + "\"");
    return Status::Ok();
  }
  a += key.size();
  size_t q = xml->find('"', a);
  xml->replace(a, q - a, value);
  return Status::Ok();
}

std::string Json(const std::function<void(rapidjson::Writer<rapidjson::StringBuffer>&)>& fill) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  fill(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// The direct children of `pid`, from /proc (Linux).
std::vector<pid_t> ChildPids(pid_t pid) {
  std::vector<pid_t> children;
  std::error_code ec;
  fs::path tasks = fs::path("/proc") / std::to_string(pid) / "task";
  for (const auto& task : fs::directory_iterator(tasks, ec)) {
    std::ifstream in(task.path() / "children");
    pid_t child;
    while (in >> child) children.push_back(child);
  }
  return children;
}

}  // namespace

uint16_t FreeLoopbackPort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

SyncthingInstance::~SyncthingInstance() { Kill(); }

Status SyncthingInstance::Create(const fs::path& home, const Options& options) {
  if (Running()) return Status::Invalid("SyncthingInstance::Create: already running");
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) return Status::IoError("cannot create " + home.string() + ": " + ec.message());
  home_ = fs::absolute(home);
  options_ = options;

  pid_t pid = -1;
  Status s = SpawnProcess({SyncthingBinary(), "generate", "--home=" + home_.string(), "--no-default-folder",
                           "--skip-port-probing"},
                          LogPath(), &pid);
  if (!s.ok()) return s;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IoError("syncthing generate failed in " + home_.string() + ": " + LogTail());
  }
  s = Configure(options);
  if (!s.ok()) return s;
  return Start();
}

Status SyncthingInstance::Configure(const Options& options) {
  fs::path config = home_ / "config.xml";
  std::string xml;
  Status s = ReadFile(config, &xml);
  if (!s.ok()) return s;

  gui_port_ = FreeLoopbackPort();
  sync_port_ = FreeLoopbackPort();
  while (sync_port_ == gui_port_) sync_port_ = FreeLoopbackPort();
  if (gui_port_ == 0 || sync_port_ == 0) return Status::IoError("no free loopback port");
  api_key_ = RandomKey();

  size_t gui = xml.find("<gui ");
  if (gui == std::string::npos) return Status::Invalid("config.xml has no <gui>");
  // Edit before the first start: Syncthing reads the file once, and every
  // switch below must hold from its first second (no announcement, relay or
  // NAT traffic leaving the machine).
  const std::vector<std::pair<std::string, std::string>> elements = {
      {"listenAddress", "tcp://127.0.0.1:" + std::to_string(sync_port_)},
      {"globalAnnounceEnabled", "false"},
      {"localAnnounceEnabled", "false"},
      {"relaysEnabled", "false"},
      {"natEnabled", "false"},
      {"urAccepted", "-1"},
      {"autoUpgradeIntervalH", "0"},
      {"startBrowser", "false"},
      {"crashReportingEnabled", "false"},
      // STUN is only for QUIC, which we do not listen on; 0 turns it off.
      {"stunKeepaliveStartS", "0"},
      // Reconnect quickly after a peer restarts (tests restart instances).
      {"reconnectionIntervalS", "5"},
  };
  s = SetElement(&xml, "address", "127.0.0.1:" + std::to_string(gui_port_), gui);
  if (s.ok()) s = SetElement(&xml, "apikey", api_key_, gui);
  for (const auto& [tag, value] : elements) {
    if (s.ok()) s = SetElement(&xml, tag, value);
  }
  if (s.ok()) s = SetAttribute(&xml, "<gui", "tls", options.gui_tls ? "true" : "false");
  if (s.ok()) s = SetAttribute(&xml, "<device id=", "name", options.name);
  if (!s.ok()) return Status::Invalid(config.string() + ": " + s.message());
  return WriteFile(config, xml);
}

Status SyncthingInstance::Spawn() {
  std::string scheme = options_.gui_tls ? "https://" : "http://";
  return SpawnProcess({SyncthingBinary(), "serve", "--home=" + home_.string(), "--no-browser", "--no-restart",
                       "--gui-address=" + scheme + "127.0.0.1:" + std::to_string(gui_port_), "--logflags=3"},
                      LogPath(), &pid_);
}

Status SyncthingInstance::Start() {
  if (home_.empty()) return Status::Invalid("SyncthingInstance::Start before Create");
  if (Running()) return Status::Ok();
  Status s = Spawn();
  if (!s.ok()) return s;
  s = WaitForPing(options_.start_timeout);
  if (!s.ok()) {
    Kill();
    return s;
  }
  std::string id;
  s = RunSyncthingCall(Endpoint(), [&id](SyncthingClient& c) { return SyncthingDeviceId(c, &id); });
  if (!s.ok()) return s;
  device_id_ = id;
  return Status::Ok();
}

Status SyncthingInstance::WaitForPing(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Reap(false)) {
      return Status::Unavailable("syncthing exited during start-up; log: " + LogTail());
    }
    // The https certificate appears at the first start; until then TLS
    // instances are reached unpinned (loopback), after that pinned.
    last = RunSyncthingCall(Endpoint(), [](SyncthingClient& c) { return SyncthingPing(c, 2s); });
    if (last.ok()) return last;
    std::this_thread::sleep_for(100ms);
  }
  return Status::Unavailable("syncthing did not answer ping within " + std::to_string(timeout.count()) +
                             " s (" + last.ToString() + "); log: " + LogTail());
}

bool SyncthingInstance::Reap(bool block) {
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    pid_ = -1;
    return true;
  }
  return false;
}

Status SyncthingInstance::Stop(std::chrono::seconds grace) {
  if (!Running()) return Status::Ok();
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Reap(false)) return Status::Ok();
    std::this_thread::sleep_for(50ms);
  }
  Kill();
  return Status::Unavailable("syncthing did not exit within " + std::to_string(grace.count()) +
                             " s of SIGTERM; killed");
}

void SyncthingInstance::Kill() {
  if (!Running()) return;
  // Children first, in case a Syncthing monitor runs after all: its child
  // sits in another process group and would outlive it.
  for (pid_t child : ChildPids(pid_)) {
    ::kill(-child, SIGKILL);
    ::kill(child, SIGKILL);
  }
  ::kill(-pid_, SIGKILL);  // the whole process group
  ::kill(pid_, SIGKILL);
  Reap(true);
}

std::string SyncthingInstance::SyncAddress() const { return "tcp://127.0.0.1:" + std::to_string(sync_port_); }

SyncthingEndpoint SyncthingInstance::Endpoint() const {
  SyncthingEndpoint ep;
  ep.host = "127.0.0.1";
  ep.port = gui_port_;
  ep.https = options_.gui_tls;
  ep.api_key = api_key_;
  if (options_.gui_tls) {
    std::string pem;
    if (ReadFile(home_ / "https-cert.pem", &pem).ok()) ep.ca_cert_pem = pem;
  }
  return ep;
}

Status SyncthingInstance::AddDevice(const std::string& device_id, const std::string& address) {
  std::string json = Json([&](auto& w) {
    w.StartObject();
    w.Key("deviceID");
    w.String(device_id.c_str());
    w.Key("name");
    w.String(device_id.substr(0, 7).c_str());
    w.Key("addresses");
    w.StartArray();
    w.String(address.c_str());
    w.EndArray();
    w.Key("autoAcceptFolders");
    w.Bool(false);
    w.EndObject();
  });
  return RunSyncthingCall(Endpoint(), [&](SyncthingClient& c) { return c.PutDevice(device_id, json); });
}

Status SyncthingInstance::AddFolder(const std::string& id, const fs::path& path, const std::string& type,
                                    const std::vector<std::string>& peers) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Status::IoError("cannot create " + path.string() + ": " + ec.message());
  SyncthingFolder f;
  f.id = id;
  f.label = id;
  f.path = fs::absolute(path).string();
  f.type = type;
  f.device_ids.push_back(device_id_);
  for (const auto& p : peers) f.device_ids.push_back(p);
  // Tests should not wait for Syncthing's hourly rescan or 10 s watcher delay.
  f.rescan_interval_s = 5;
  f.fs_watcher_enabled = true;
  f.fs_watcher_delay_s = 1;
  return RunSyncthingCall(Endpoint(), [&f](SyncthingClient& c) { return c.PutFolder(f); });
}

Status SyncthingInstance::GetDbStatus(const std::string& folder, SyncthingDbStatus* out) {
  return RunSyncthingCall(Endpoint(), [&](SyncthingClient& c) { return c.GetDbStatus(folder, out); });
}

Status SyncthingInstance::Rescan(const std::string& folder) {
  return RunSyncthingCall(Endpoint(), [&](SyncthingClient& c) { return SyncthingRescan(c, folder); });
}

Status SyncthingInstance::GetEvents(int64_t since, int timeout_seconds, const std::vector<std::string>& types,
                                    std::vector<SyncthingEvent>* out) {
  return RunSyncthingCall(
      Endpoint(), [&](SyncthingClient& c) { return c.GetEvents(since, timeout_seconds, types, out); });
}

Status SyncthingInstance::WaitUntilInSync(const std::string& folder, std::chrono::milliseconds timeout,
                                          int64_t expected_files) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  SyncthingDbStatus st;
  Status s;
  for (;;) {
    s = GetDbStatus(folder, &st);
    if (s.ok() && st.state == "idle" && st.need_total_items == 0 && st.need_files == 0 &&
        st.global_files == st.local_files && (expected_files < 0 || st.global_files == expected_files)) {
      return Status::Ok();
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(200ms);
  }
  if (!s.ok()) return s;
  return Status::Unavailable(
      "folder " + folder + " not in sync: state=" + st.state + " needFiles=" + std::to_string(st.need_files) +
      " needTotalItems=" + std::to_string(st.need_total_items) +
      " globalFiles=" + std::to_string(st.global_files) + " localFiles=" + std::to_string(st.local_files) +
      (expected_files >= 0 ? " expected=" + std::to_string(expected_files) : ""));
}

std::string SyncthingInstance::LogTail(size_t bytes) const {
  std::string log;
  if (!ReadFile(LogPath(), &log).ok()) return "(no log)";
  if (log.size() > bytes) log = "..." + log.substr(log.size() - bytes);
  return log;
}

}  // namespace indafoto
