#include "lib/config/config.h"

#include <thread>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "lib/catalog/catalog.h"  // kSelfCatalog
#include "lib/util/file_util.h"
#include "lib/archive/layout.h"

namespace indafoto {

namespace fs = std::filesystem;
using Json = rapidjson::Value;

namespace {

// Reads typed keys from one JSON object and remembers which keys it saw, so
// that whatever is left over can be reported as unknown.
class ObjectReader {
 public:
  ObjectReader(const Json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  Status String(const char* key, std::string* out) {
    const Json* v = Find(key);
    if (!v) return Status::Ok();
    if (!v->IsString()) return TypeError(key, "a string");
    out->assign(v->GetString(), v->GetStringLength());
    // A JSON "\u0000" would cut a C string (a path) short somewhere later.
    if (out->find('\0') != std::string::npos) return Status::Invalid(Name(key) + " must not contain a NUL character");
    return Status::Ok();
  }
  Status Path(const char* key, const fs::path& base, fs::path* out) {
    std::string s;
    if (Status st = String(key, &s); !st.ok()) return st;
    if (Find(key)) {
      if (s.empty()) return Status::Invalid(Name(key) + " must not be empty");
      *out = (base / s).lexically_normal();
    }
    return Status::Ok();
  }
  Status Int(const char* key, int min, int max, int* out) {
    const Json* v = Find(key);
    if (!v) return Status::Ok();
    if (!v->IsInt()) return TypeError(key, "an integer");
    int x = v->GetInt();
    if (x < min || x > max)
      return Status::Invalid(Name(key) + " must be between " + std::to_string(min) + " and " +
                             std::to_string(max) + ", got " + std::to_string(x));
    *out = x;
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) {
    const Json* v = Find(key);
    if (!v) return Status::Ok();
    if (!v->IsBool()) return TypeError(key, "true or false");
    *out = v->GetBool();
    return Status::Ok();
  }
  const Json* Object(const char* key, Status* st) {
    const Json* v = Find(key);
    if (v && !v->IsObject()) *st = TypeError(key, "an object");
    return (v && v->IsObject()) ? v : nullptr;
  }
  const Json* Array(const char* key, Status* st) {
    const Json* v = Find(key);
    if (v && !v->IsArray()) *st = TypeError(key, "a list");
    return (v && v->IsArray()) ? v : nullptr;
  }
  bool Has(const char* key) const { return obj_.HasMember(key); }
  Status RejectUnknown() const {
    for (auto& m : obj_.GetObject()) {
      std::string k(m.name.GetString(), m.name.GetStringLength());  // "a\u0000b" is not key "a"
      if (seen_.count(k)) continue;
      for (size_t i; (i = k.find('\0')) != std::string::npos;) k.replace(i, 1, "\\u0000");
      return Status::Invalid("unknown key " + Name(k.c_str()));
    }
    return Status::Ok();
  }
  std::string Name(const char* key) const { return where_.empty() ? std::string("'") + key + "'" : "'" + where_ + "." + key + "'"; }

 private:
  const Json* Find(const char* key) {
    seen_.insert(key);
    auto it = obj_.FindMember(key);
    if (it == obj_.MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
  }
  Status TypeError(const char* key, const char* want) const {
    return Status::Invalid(Name(key) + " must be " + want);
  }
  const Json& obj_;
  std::string where_;
  std::set<std::string> seen_;
};

// The first key that appears twice in one object of `v`, as its dotted
// path ("remote_sources[0].name"); "" when none. RapidJSON keeps both and
// FindMember returns the first, so a repeated key would silently pick one.
std::string RepeatedKey(const Json& v, const std::string& where) {
  if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      std::string k = RepeatedKey(v[i], where + "[" + std::to_string(i) + "]");
      if (!k.empty()) return k;
    }
  } else if (v.IsObject()) {
    std::set<std::string> names;
    for (auto& m : v.GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      std::string path = where.empty() ? name : where + "." + name;
      if (!names.insert(name).second) return path;
      std::string k = RepeatedKey(m.value, path);
      if (!k.empty()) return k;
    }
  }
  return "";
}

// `inner` equals `outer` or lies inside it, both already resolved.
bool Within(const fs::path& inner, const fs::path& outer) {
  fs::path rel = inner.lexically_relative(outer);
  return !rel.empty() && *rel.begin() != "..";
}

// The paths of the configuration must not nest where that makes no sense:
// compared after resolving symlinks (weakly_canonical: the part that
// exists), so a symlinked path cannot slip past a textual check.
Status CheckPathsApart(const Config& c) {
  struct Named {
    std::string key;
    fs::path path;
  };
  auto resolve = [](const fs::path& p) {
    std::error_code ec;
    fs::path r = fs::weakly_canonical(p, ec);
    return ec ? p.lexically_normal() : r;
  };
  Named root{"image_root", resolve(c.image_root)};
  std::vector<Named> files = {{"database_path", resolve(c.database_path)},
                              {"state_path", resolve(c.state_path)},
                              {"key_path", resolve(c.key_path)}};
  std::vector<Named> received;
  for (size_t i = 0; i < c.sources.size(); ++i)
    received.push_back({(c.sources[i].exchange ? "exchange_root (folder from peer '" + c.sources[i].name + "')"
                                               : "remote_sources[" + std::to_string(i) + "].local_path (source '" +
                                                     c.sources[i].name + "')"),
                        resolve(c.sources[i].received_folder)});
  auto clash = [](const Named& a, const char* how, const Named& b) {
    return Status::Invalid("'" + a.key + "' " + a.path.string() + " " + how + " '" + b.key + "' " + b.path.string());
  };
  for (const Named& r : received) {
    // Our own images (or database) would be taken for deliveries, and a
    // folder inside the archive would be counted as an author.
    if (Within(root.path, r.path)) return clash(root, "lies inside (or is) the received folder", r);
    if (Within(r.path, root.path)) return clash(r, "lies inside (or is)", root);
    for (const Named& f : files) {
      if (Within(f.path, r.path)) return clash(f, "lies inside the received folder", r);
    }
    for (const Named& other : received) {
      if (&other != &r && Within(other.path, r.path)) return clash(other, "lies inside (or is) the received folder", r);
    }
  }
  // image_root is what publishing shares: the secret key, the databases
  // and the daemon's state never belong in it.
  for (const Named& f : files) {
    if (Within(f.path, root.path)) return clash(f, "lies inside", root);
  }
  if (files[0].path == files[1].path) return clash(files[1], "is the same file as", files[0]);
  if (!c.peers.empty()) {
    // The exchange folders are shared with peers: never inside what
    // publishing shares, and never holding the archive.
    Named ex{"exchange_root", resolve(c.exchange_root)};
    if (Within(ex.path, root.path)) return clash(ex, "lies inside (or is)", root);
    if (Within(root.path, ex.path)) return clash(root, "lies inside", ex);
    for (const Named& f : files) {
      if (Within(f.path, ex.path)) return clash(f, "lies inside", ex);
    }
  }
  return Status::Ok();
}

#define RETURN_IF_ERROR(expr)            \
  do {                                   \
    Status _st = (expr);                 \
    if (!_st.ok()) return _st;           \
  } while (0)

Status ParseSyncthing(ObjectReader& top, const Json* nested, Config* c) {
  SyncthingSettings& s = c->syncthing;
  fs::path base = c->config_path.parent_path();
  // Flat form of the original tool.
  RETURN_IF_ERROR(top.String("syncthing_api_key", &s.api_key));
  RETURN_IF_ERROR(top.String("syncthing_host", &s.host));
  RETURN_IF_ERROR(top.Int("syncthing_port", 1, 65535, &s.port));
  if (!nested) return Status::Ok();
  if (top.Has("syncthing_api_key") || top.Has("syncthing_host") || top.Has("syncthing_port"))
    return Status::Invalid("use either 'syncthing' or the syncthing_* keys, not both");
  ObjectReader r(*nested, "syncthing");
  RETURN_IF_ERROR(r.String("api_key", &s.api_key));
  RETURN_IF_ERROR(r.String("api_key_env", &s.api_key_env));
  RETURN_IF_ERROR(r.String("host", &s.host));
  RETURN_IF_ERROR(r.Int("port", 1, 65535, &s.port));
  RETURN_IF_ERROR(r.Bool("https", &s.https));
  RETURN_IF_ERROR(r.Path("home", base, &s.home));
  RETURN_IF_ERROR(r.Bool("create_folders", &s.create_folders));
  return r.RejectUnknown();
}

Status ParseSources(const Json& list, Config* c) {
  fs::path base = c->config_path.parent_path();
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    std::string where = "remote_sources[" + std::to_string(i) + "]";
    if (!list[i].IsObject()) return Status::Invalid("'" + where + "' must be an object");
    ObjectReader r(list[i], where);
    RemoteSource src;
    RETURN_IF_ERROR(r.String("name", &src.name));
    RETURN_IF_ERROR(r.String("folder_id", &src.folder_id));
    RETURN_IF_ERROR(r.Path("local_path", base, &src.received_folder));
    RETURN_IF_ERROR(r.Path("remote_db_path", base, &src.remote_db_path));
    RETURN_IF_ERROR(r.String("device_id", &src.device_id));
    RETURN_IF_ERROR(r.RejectUnknown());
    if (src.name.empty()) return Status::Invalid(r.Name("name") + " is required");
    if (src.received_folder.empty()) return Status::Invalid(r.Name("local_path") + " is required");
    if (src.folder_id.empty()) src.folder_id = src.name;
    if (!names.insert(src.name).second)
      return Status::Invalid(r.Name("name") + ": source name '" + src.name + "' is used twice");
    if (src.name == kSelfCatalog)
      return Status::Invalid(r.Name("name") + ": '" + src.name + "' is reserved (this archive's own catalog)");
    c->sources.push_back(std::move(src));
  }
  return Status::Ok();
}

// A Syncthing device ID: 56 base32 characters (A-Z, 2-7), usually in
// groups of 7 joined by '-'. Returned in upper case with the dashes.
bool NormalizeDeviceId(const std::string& in, std::string* out) {
  std::string s, plain;
  for (char ch : in) {
    char u = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
    if (u == '-') continue;
    if (!((u >= 'A' && u <= 'Z') || (u >= '2' && u <= '7'))) return false;
    plain.push_back(u);
  }
  if (plain.size() != 56) return false;
  for (size_t i = 0; i < plain.size(); i += 7) {
    if (i) s.push_back('-');
    s.append(plain, i, 7);
  }
  *out = s;
  return true;
}

// A peer's name names folders under exchange_root: kept to a safe set.
bool SafePeerName(const std::string& n) {
  if (n.empty() || n.size() > 64 || n[0] == '.' || n[0] == '-') return false;
  for (char ch : n) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
          ch == '-' || ch == '.'))
      return false;
  }
  return true;
}

Status ParsePeers(const Json& list, Config* c) {
  std::set<std::string> devices;
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    std::string where = "peers[" + std::to_string(i) + "]";
    if (!list[i].IsObject()) return Status::Invalid("'" + where + "' must be an object");
    ObjectReader r(list[i], where);
    Peer p;
    std::string device;
    RETURN_IF_ERROR(r.String("name", &p.name));
    RETURN_IF_ERROR(r.String("device_id", &device));
    RETURN_IF_ERROR(r.RejectUnknown());
    if (p.name.empty()) return Status::Invalid(r.Name("name") + " is required");
    if (!SafePeerName(p.name))
      return Status::Invalid(r.Name("name") + " must be 1-64 characters of A-Z a-z 0-9 _ - . (not starting with . or -)");
    if (device.empty()) return Status::Invalid(r.Name("device_id") + " is required");
    if (!NormalizeDeviceId(device, &p.device_id))
      return Status::Invalid(r.Name("device_id") + " is not a Syncthing device ID (56 characters A-Z, 2-7, in groups of 7)");
    if (c->FindSource(p.name))
      return Status::Invalid(r.Name("name") + ": name '" + p.name + "' is already used by a remote source or peer");
    if (!devices.insert(p.device_id).second)
      return Status::Invalid(r.Name("device_id") + ": device " + p.device_id + " is listed twice");
    c->peers.push_back(p);
    // What the peer sends us arrives like any other source with a manifest.
    RemoteSource src;
    src.name = p.name;
    src.device_id = p.device_id;
    src.exchange = true;
    c->sources.push_back(std::move(src));  // received_folder once exchange_root is known
  }
  return Status::Ok();
}

}  // namespace

std::filesystem::path ExchangeIncomingPath(const Config& c, const std::string& peer) {
  return c.exchange_root / ("from-" + peer);
}
std::filesystem::path ExchangeOutgoingPath(const Config& c, const std::string& peer) {
  return c.exchange_root / ("to-" + peer);
}

int Config::HashThreads() const {
  if (hash_threads > 0) return hash_threads;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : static_cast<int>(n);
}

const RemoteSource* Config::FindSource(const std::string& name) const {
  for (const auto& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string Config::ResolvedApiKey() const {
  if (!syncthing.api_key_env.empty()) {
    const char* v = std::getenv(syncthing.api_key_env.c_str());
    if (v && *v) return v;
  }
  return syncthing.api_key;
}

Status ParseConfig(const std::string& json, const fs::path& path, Config* out) {
  Status st = [&]() -> Status {
    rapidjson::Document d;
    // Iterative: a deeply nested document cannot overflow the stack.
    d.Parse<rapidjson::kParseIterativeFlag>(json.c_str(), json.size());
    if (d.HasParseError())
      return Status::Invalid(std::string("not valid JSON: ") + rapidjson::GetParseError_En(d.GetParseError()) +
                             " at offset " + std::to_string(d.GetErrorOffset()));
    if (!d.IsObject()) return Status::Invalid("the top level must be a JSON object");
    if (std::string k = RepeatedKey(d, ""); !k.empty())
      return Status::Invalid("key '" + k + "' appears twice; keep one");
    Config c;
    c.config_path = fs::absolute(path).lexically_normal();
    fs::path base = c.config_path.parent_path();
    ObjectReader top(d, "");
    RETURN_IF_ERROR(top.Path("database_path", base, &c.database_path));
    RETURN_IF_ERROR(top.Path("image_root", base, &c.image_root));
    RETURN_IF_ERROR(top.Path("state_path", base, &c.state_path));
    RETURN_IF_ERROR(top.Path("key_path", base, &c.key_path));
    RETURN_IF_ERROR(top.Int("reconcile_interval_seconds", 10, 86400 * 7, &c.reconcile_interval_seconds));
    RETURN_IF_ERROR(top.Int("verify_interval_hours", 0, 24 * 366, &c.verify_interval_hours));
    RETURN_IF_ERROR(top.Int("hash_threads", 0, 64, &c.hash_threads));
    RETURN_IF_ERROR(top.String("log_level", &c.log_level));
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warning", "error"};
    if (!kLevels.count(c.log_level))
      return Status::Invalid("'log_level' must be one of trace, debug, info, warning, error");
    Status sub;
    const Json* nested = top.Object("syncthing", &sub);
    RETURN_IF_ERROR(sub);
    RETURN_IF_ERROR(ParseSyncthing(top, nested, &c));
    const Json* sources = top.Array("remote_sources", &sub);
    RETURN_IF_ERROR(sub);
    if (sources) RETURN_IF_ERROR(ParseSources(*sources, &c));
    RETURN_IF_ERROR(top.Path("exchange_root", base, &c.exchange_root));
    RETURN_IF_ERROR(top.Int("peer_fallback_minutes", 1, 60 * 24 * 365, &c.peer_fallback_minutes));
    const Json* peers = top.Array("peers", &sub);
    RETURN_IF_ERROR(sub);
    if (peers) RETURN_IF_ERROR(ParsePeers(*peers, &c));
    if (const Json* publish = top.Object("publish", &sub)) {
      ObjectReader r(*publish, "publish");
      c.publish.enabled = true;
      RETURN_IF_ERROR(r.Bool("enabled", &c.publish.enabled));
      RETURN_IF_ERROR(r.String("folder_id", &c.publish.folder_id));
      RETURN_IF_ERROR(r.Int("debounce_seconds", 0, 86400, &c.publish.debounce_seconds));
      RETURN_IF_ERROR(r.Int("max_delay_seconds", 0, 86400, &c.publish.max_delay_seconds));
      RETURN_IF_ERROR(r.RejectUnknown());
    }
    RETURN_IF_ERROR(sub);
    RETURN_IF_ERROR(top.RejectUnknown());

    if (c.database_path.empty()) return Status::Invalid("'database_path' is required");
    fs::path db_dir = c.database_path.parent_path();
    if (c.image_root.empty()) c.image_root = db_dir / "indafoto_archive";
    if (c.state_path.empty()) c.state_path = db_dir / "indafoto-syncd-state.db";
    if (c.key_path.empty()) c.key_path = c.state_path.parent_path() / "indafoto-syncd.key";
    if (c.exchange_root.empty()) c.exchange_root = c.image_root.parent_path() / ".indafoto-exchange";
    for (RemoteSource& src : c.sources) {
      if (src.exchange) src.received_folder = ExchangeIncomingPath(c, src.name);
    }
    RETURN_IF_ERROR(CheckPathsApart(c));
    *out = std::move(c);
    return Status::Ok();
  }();
  if (!st.ok()) return Status::Invalid("config " + path.string() + ": " + st.message());
  return st;
}

Status LoadConfig(const fs::path& path, Config* out) {
  // The path may be a symlink (/etc/... -> ...); what it names must be a
  // regular file, never a FIFO that would block the start.
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  std::string text;
  if (Status s = ReadSmallRegularFile(ec ? path : real, "config file", 16 << 20, &text); !s.ok())
    return s.IsNotFound() ? Status::NotFound("cannot read config file " + path.string() + ": " + s.message()) : s;
  return ParseConfig(text, path, out);
}

}  // namespace indafoto
