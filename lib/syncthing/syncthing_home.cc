#include "lib/syncthing/syncthing_home.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "lib/util/unique_fd.h"

namespace indafoto {

namespace fs = std::filesystem;
namespace pt = boost::property_tree;

namespace {

// Files small enough to read whole; config.xml is a few KB, a certificate
// less. The limit keeps a wrong path (a disk image...) from eating memory.
constexpr size_t kMaxFileSize = 16 << 20;

// STHOMEDIR of Syncthing's official Docker image (syncthing/syncthing).
constexpr const char* kOfficialImageHome = "/var/syncthing/config";

Status ReadSmallFile(const fs::path& path, std::string* out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));  // never blocks on a FIFO
  if (!fd.valid()) return Status::FromErrno(errno, "cannot open " + path.string());
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::Invalid(path.string() + " is not a regular file");
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "cannot read " + path.string());
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxFileSize)
      return Status::Invalid(path.string() + " is too large to be a Syncthing file");
  }
  *out = std::move(data);
  return Status::Ok();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Splits Syncthing's GUI address ("127.0.0.1:8384", "[::1]:8384",
// "0.0.0.0:8384", ":8384", optionally with an http(s):// prefix) into the
// host to connect to and the port. A wildcard listen address means "every
// interface", of which loopback is the one certainly reachable from here.
Status ParseGuiAddress(const std::string& raw, const fs::path& file, SyncthingHomeInfo* info) {
  std::string addr = Trim(raw);
  std::string where = file.string() + ": <gui><address> \"" + addr + "\"";
  std::string lower = Lower(addr);
  if (lower.rfind("https://", 0) == 0) {
    info->tls = true;
    addr = addr.substr(8);
  } else if (lower.rfind("http://", 0) == 0) {
    addr = addr.substr(7);
  }
  if (!addr.empty() && addr.back() == '/') addr.pop_back();
  if (addr.empty()) return Status::Invalid(where + " is empty");
  if (addr.front() == '/' || lower.rfind("unix://", 0) == 0) {
    return Status::Invalid(where + " is a unix socket; indafoto-syncd needs a TCP address (host:port)");
  }
  std::string host, port;
  if (addr.front() == '[') {
    size_t close = addr.find(']');
    if (close == std::string::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
      return Status::Invalid(where + " is not [host]:port");
    }
    host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    size_t colon = addr.rfind(':');
    if (colon == std::string::npos) return Status::Invalid(where + " has no port");
    host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
    if (host.find(':') != std::string::npos) return Status::Invalid(where + ": IPv6 hosts need [brackets]");
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::Invalid(where + " has no valid port");
  }
  int p = std::stoi(port);
  if (p < 1 || p > 65535) return Status::Invalid(where + " has no valid port");
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  info->host = host;
  info->port = static_cast<uint16_t>(p);
  return Status::Ok();
}

bool IsTrue(const std::string& v) {
  std::string l = Lower(Trim(v));
  return l == "true" || l == "1";
}

fs::path HomeDir() {
  const char* home = std::getenv("HOME");
  if (home && *home) return home;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return {};
}

}  // namespace

Status ReadSyncthingConfig(const fs::path& config_xml, SyncthingHomeInfo* out) {
  std::string data;
  Status s = ReadSmallFile(config_xml, &data);
  if (s.code() == Status::Code::kPermission) {
    return Status::Permission(
        s.message() +
        " (Syncthing keeps config.xml readable only by its own user; run indafoto-syncd as "
        "that user, or give it the API key and address in its configuration)");
  }
  if (!s.ok()) return s;

  pt::ptree tree;
  try {
    std::istringstream in(data);
    pt::read_xml(in, tree, pt::xml_parser::trim_whitespace | pt::xml_parser::no_comments);
  } catch (const pt::ptree_error& e) {
    return Status::Corrupt(config_xml.string() + " is not valid XML: " + e.what());
  }
  auto conf = tree.get_child_optional("configuration");
  if (!conf)
    return Status::Invalid(config_xml.string() + " is not a Syncthing configuration (no <configuration>)");
  auto gui = conf->get_child_optional("gui");
  if (!gui) return Status::Invalid(config_xml.string() + " has no <gui> section");

  SyncthingHomeInfo info;
  info.config_path = config_xml;
  info.https_cert_path = config_xml.parent_path() / "https-cert.pem";
  info.gui_enabled = IsTrue(gui->get<std::string>("<xmlattr>.enabled", "true"));
  info.tls = IsTrue(gui->get<std::string>("<xmlattr>.tls", "false"));
  info.gui_address = Trim(gui->get<std::string>("address", ""));
  info.api_key = Trim(gui->get<std::string>("apikey", ""));
  s = ParseGuiAddress(info.gui_address, config_xml, &info);
  if (!s.ok()) return s;
  *out = std::move(info);
  return Status::Ok();
}

Status ReadSyncthingHome(const fs::path& home, SyncthingHomeInfo* out) {
  return ReadSyncthingConfig(home / "config.xml", out);
}

std::vector<fs::path> DefaultSyncthingHomes() {
  std::vector<fs::path> homes;
  fs::path home = HomeDir();
  auto add = [&homes](const fs::path& p) {
    if (p.empty() || !p.is_absolute()) return;  // the XDG spec ignores relative paths
    for (const fs::path& h : homes) {
      if (h == p) return;
    }
    homes.push_back(p);
  };
  auto env = [](const char* name) -> fs::path {
    const char* v = std::getenv(name);
    return v && *v ? fs::path(v) : fs::path();
  };
  // Syncthing's own switches (1.x and 2.x: --config/$STCONFDIR, --home/$STHOMEDIR).
  add(env("STCONFDIR"));
  add(env("STHOMEDIR"));
  // Syncthing's own search order (lib/locations, 1.27 to 2.x): a legacy
  // home is used while it holds a config.xml (Debian 12's 1.19 knows only
  // this one), else the state directory. FindSyncthingHome takes the first
  // candidate that holds a config.xml, which gives the same answer.
  if (fs::path x = env("XDG_CONFIG_HOME"); !x.empty()) add(x / "syncthing");
  if (!home.empty()) add(home / ".config" / "syncthing");
  if (fs::path x = env("XDG_STATE_HOME"); !x.empty()) add(x / "syncthing");
  if (!home.empty()) add(home / ".local" / "state" / "syncthing");
  // The official Docker image's home (STHOMEDIR there), mounted at the same
  // path beside us as packaging/compose.yaml does.
  add(kOfficialImageHome);
  return homes;
}

Status FindSyncthingHome(SyncthingHomeInfo* out) {
  std::string searched;
  Status last;
  for (const fs::path& home : DefaultSyncthingHomes()) {
    Status s = ReadSyncthingHome(home, out);
    if (s.ok()) return s;
    if (!searched.empty()) searched += ", ";
    searched += home.string();
    // A config.xml that exists but cannot be used is worth reporting over
    // the plain "not found" of the other candidates.
    if (!s.IsNotFound()) last = s;
  }
  if (!last.ok()) return last;
  return Status::NotFound(
      "no Syncthing config.xml found (searched " + (searched.empty() ? "nothing: $HOME is unset" : searched) +
      "); give Syncthing's home directory or its address and API key in the configuration");
}

Status SyncthingEndpointFromHome(const SyncthingHomeInfo& info, SyncthingEndpoint* out) {
  if (!info.gui_enabled) {
    return Status::Invalid(
        info.config_path.string() +
        ": Syncthing's GUI is disabled (<gui enabled=\"false\">), and with it the REST API "
        "indafoto-syncd needs; enable it");
  }
  SyncthingEndpoint ep;
  ep.host = info.host;
  ep.port = info.port;
  ep.https = info.tls;
  ep.api_key = info.api_key;
  if (info.tls) {
    std::string pem;
    Status s = ReadSmallFile(info.https_cert_path, &pem);
    if (s.ok()) {
      ep.ca_cert_pem = std::move(pem);
    } else if (!IsLoopbackHost(info.host)) {
      // Syncthing writes https-cert.pem at its first start; without it we
      // cannot tell Syncthing from an impostor on a non-loopback address.
      return Status::NotFound("Syncthing's GUI uses https on " + info.host +
                              ", but its certificate to pin cannot be read: " + s.message());
    }
  }
  *out = std::move(ep);
  return Status::Ok();
}

}  // namespace indafoto
