#include "testing/syncthing_admin.h"

#include <rapidjson/document.h>

namespace indafoto {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

// A rescan of a large folder takes a while.
constexpr SyncthingClient::Timeout kRescanTimeout = std::chrono::minutes(10);

}  // namespace

net::awaitable<Status> SyncthingPing(SyncthingClient& client, SyncthingClient::Timeout timeout) {
  std::string body;
  Status s = co_await client.Call(http::verb::get, "/rest/system/ping", "", timeout, &body);
  const std::string where = client.endpoint().Describe();
  if (s.IsNotFound())
    co_return Status::Invalid("Syncthing at " + where + " has no /rest/system/ping: is this Syncthing's GUI/API address?");
  if (!s.ok()) co_return s;
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("ping"))
    co_return Status::Corrupt("Syncthing at " + where +
                              ": /rest/system/ping did not answer {\"ping\": ...}; is this Syncthing?");
  co_return Status::Ok();
}

net::awaitable<Status> SyncthingConfigFolders(SyncthingClient& client, std::vector<SyncthingFolder>* out) {
  std::string body;
  Status s = co_await client.Call(http::verb::get, "/rest/config/folders", "", SyncthingClient::kDefaultTimeout,
                                  &body);
  if (!s.ok()) co_return s;
  co_return ParseSyncthingFolders(body, out);
}

net::awaitable<Status> SyncthingDeviceId(SyncthingClient& client, std::string* out) {
  SyncthingSystemStatus st;
  Status s = co_await client.GetSystemStatus(&st);
  if (s.ok()) *out = std::move(st.my_id);
  co_return s;
}

net::awaitable<Status> SyncthingRescan(SyncthingClient& client, std::string folder) {
  HttpResult res;
  Status s = co_await client.Request(http::verb::post, "/rest/db/scan?folder=" + UrlEncode(folder), "",
                                     kRescanTimeout, &res);
  if (!s.ok()) co_return s;
  if (res.status == 404 || (res.status == 500 && res.body.find("no such folder") != std::string::npos))
    co_return Status::NotFound("Syncthing at " + client.endpoint().Describe() + " has no folder with id \"" +
                               folder + "\"");
  if (res.status < 200 || res.status >= 300)
    co_return Status::Unavailable("POST /rest/db/scan: HTTP " + std::to_string(res.status) + ": " + res.body);
  co_return Status::Ok();
}

net::awaitable<Status> SyncthingConnectionTotals(SyncthingClient& client, int64_t* in_bytes, int64_t* out_bytes) {
  std::string body;
  Status s = co_await client.Call(http::verb::get, "/rest/system/connections", "", SyncthingClient::kDefaultTimeout,
                                  &body);
  if (!s.ok()) co_return s;
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("total") || !d["total"].IsObject())
    co_return Status::Corrupt("/rest/system/connections: no 'total' object");
  const auto& t = d["total"];
  if (!t.HasMember("inBytesTotal") || !t["inBytesTotal"].IsInt64() || !t.HasMember("outBytesTotal") ||
      !t["outBytesTotal"].IsInt64())
    co_return Status::Corrupt("/rest/system/connections: no byte totals");
  *in_bytes = t["inBytesTotal"].GetInt64();
  *out_bytes = t["outBytesTotal"].GetInt64();
  co_return Status::Ok();
}

}  // namespace indafoto
