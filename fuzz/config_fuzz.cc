// Fuzz target: the configuration file, through ParseConfig (what LoadConfig
// does after reading the file). No file is touched.
//
// Oracle for accepted configurations (SPEC section 4: unknown keys and
// wrong types are errors that name the key): every key, at every level, is
// a documented one, and no string value was silently cut short (a NUL in a
// JSON string).
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include "fuzz/fuzz_util.h"
#include "lib/config/config.h"

using namespace indafoto;

namespace {

using Json = rapidjson::Value;

void CheckObject(const Json& o, const std::set<std::string>& known, const char* where) {
  std::set<std::string> seen;
  for (const auto& m : o.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    if (!known.count(name)) fuzz::Fail(std::string("unknown key accepted in ") + where, name);
    // Only the first of repeated keys is read. Refusing repeated keys is
    // issue 8 item 10, done beside this target; until then a repeat's value
    // is not checked here.
    if (!seen.insert(name).second) continue;
    if (m.value.IsString() && std::memchr(m.value.GetString(), 0, m.value.GetStringLength()))
      fuzz::Fail(std::string("string with a NUL accepted in ") + where, name);
  }
}

void CheckAccepted(const std::string& text) {
  static const std::set<std::string> kTop = {
      "database_path", "image_root", "state_path", "key_path", "reconcile_interval_seconds", "hash_threads",
      "log_level", "syncthing_api_key", "syncthing_host", "syncthing_port", "syncthing", "remote_sources",
      "publish"};
  static const std::set<std::string> kSyncthing = {"api_key", "api_key_env", "host", "port",
                                                   "https", "home", "create_folders"};
  static const std::set<std::string> kSource = {"name", "folder_id", "local_path", "remote_db_path", "device_id"};
  static const std::set<std::string> kPublish = {"enabled", "folder_id", "debounce_seconds"};
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) fuzz::Fail("accepted a configuration that is not a JSON object", text);
  CheckObject(d, kTop, "the top level");
  if (auto it = d.FindMember("syncthing"); it != d.MemberEnd() && it->value.IsObject())
    CheckObject(it->value, kSyncthing, "syncthing");
  if (auto it = d.FindMember("publish"); it != d.MemberEnd() && it->value.IsObject())
    CheckObject(it->value, kPublish, "publish");
  if (auto it = d.FindMember("remote_sources"); it != d.MemberEnd() && it->value.IsArray()) {
    for (const Json& s : it->value.GetArray()) {
      if (s.IsObject()) CheckObject(s, kSource, "remote_sources[]");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string json(reinterpret_cast<const char*>(data), size);
  Config config;
  Status s = ParseConfig(json, "/etc/indafoto-syncd/config.json", &config);
  if (s.ok()) {
    // Accepted configurations are complete: the defaults were filled in.
    if (config.database_path.empty() || config.image_root.empty() || config.state_path.empty() ||
        config.key_path.empty())
      fuzz::Fail("accepted configuration without a default", json);
    for (const RemoteSource& src : config.sources) {
      if (src.name.empty() || src.folder_id.empty() || src.received_folder.empty())
        fuzz::Fail("accepted source without name, folder_id or local_path", json);
    }
    (void)config.ResolvedApiKey();
    CheckAccepted(json);
  } else if (s.message().empty()) {
    fuzz::Fail("error without a message", json);
  }
  return 0;
}
