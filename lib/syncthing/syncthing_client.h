// SyncthingClient: Syncthing's REST API over http or https, as C++20
// coroutines on Boost.Beast. One connection per request: a request every few
// seconds does not need keep-alive, and a fresh connection cannot be left in
// a half-read state by a timeout.
//
// TLS: Syncthing's GUI certificate is self-signed, so no CA can vouch for
// it. With `ca_cert_pem` (the home's https-cert.pem) the server must present
// exactly that certificate. Without it we accept any certificate, but only on
// loopback, where nobody else can be in the middle; anywhere else we refuse.
//
// The API key goes into the X-API-Key header and nowhere else: no Status
// message, log line or exception text contains it.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/util/status.h"
#include "lib/syncthing/syncthing_events.h"

namespace indafoto {

struct SyncthingEndpoint {
  std::string host = "127.0.0.1";  // name or IP literal; IPv6 with or without []
  uint16_t port = 8384;
  bool https = false;
  std::string api_key;      // secret: sent as X-API-Key, never logged
  std::string ca_cert_pem;  // https: Syncthing's https-cert.pem to pin; may be empty

  // "http://127.0.0.1:8384" — safe to log.
  std::string Describe() const;
};

// True for 127.0.0.0/8, ::1 (with or without brackets), ::ffff:127.x and
// "localhost" (any case).
bool IsLoopbackHost(std::string_view host);

struct HttpResult {
  unsigned status = 0;  // HTTP status code
  std::string body;
  std::string location;  // the Location header, for redirects
};

// A folder as /rest/config/folders describes it (the fields we use).
struct SyncthingFolder {
  std::string id;
  std::string label;
  std::string path;
  std::string type = "receiveonly";  // sendreceive, sendonly, receiveonly, receiveencrypted
  std::vector<std::string> device_ids;
  int rescan_interval_s = 3600;
  bool fs_watcher_enabled = true;
  int fs_watcher_delay_s = 10;
  bool paused = false;
  // Pull order: random (Syncthing's default), alphabetic, smallestFirst,
  // largestFirst, oldestFirst, newestFirst.
  std::string order = "random";
};

Status ParseSyncthingFolder(std::string_view json, SyncthingFolder* out);
Status ParseSyncthingFolders(std::string_view json, std::vector<SyncthingFolder>* out);
// The JSON object for PUT /rest/config/folders/{id}. Fields not written take
// Syncthing's folder defaults (the <defaults><folder> of its config).
std::string SyncthingFolderJson(const SyncthingFolder& folder);

// From GET /rest/system/status. `start_time` changes when Syncthing
// restarts, which is how a caller notices that event ids started again at 1
// (Syncthing 1.19 answers a `since` above its newest id with an empty list
// after the full timeout, never with an error).
struct SyncthingSystemStatus {
  std::string my_id;
  std::string start_time;  // RFC 3339, as sent
  int64_t uptime_s = -1;
};

class SyncthingClient {
 public:
  using Timeout = std::chrono::milliseconds;
  static constexpr Timeout kDefaultTimeout = std::chrono::seconds(30);
  // The events long-poll is answered after up to `timeout_seconds`; the
  // request itself gets this much longer before we call Syncthing stuck.
  static constexpr Timeout kLongPollMargin = std::chrono::seconds(15);

  SyncthingClient(boost::asio::any_io_executor executor, SyncthingEndpoint endpoint);

  const SyncthingEndpoint& endpoint() const { return endpoint_; }
  boost::asio::any_io_executor executor() const { return executor_; }

  // All methods are coroutines; the client must outlive them, and pointer
  // arguments must stay valid until they complete. Errors:
  //   Unavailable  cannot connect, connection lost, timeout, HTTP 5xx
  //   Permission   HTTP 403 (wrong API key), or the https certificate is not
  //                the pinned one
  //   Invalid      https without a pinned certificate to a non-loopback host,
  //                http/https mismatch, other HTTP 4xx, bad arguments
  //   NotFound     HTTP 404 from the typed helpers (no such folder)
  //   Corrupt      a 2xx answer we cannot parse

  // One request. Any HTTP status except 403 is returned in `out` with Ok;
  // 403 becomes Permission. `target` is the path and query, already encoded.
  boost::asio::awaitable<Status> Request(boost::beast::http::verb method, std::string target,
                                         std::string body, Timeout timeout, HttpResult* out);

  // Request, with non-2xx answers mapped to a Status (404 → NotFound);
  // `response` (may be null) receives the body of a 2xx answer.
  boost::asio::awaitable<Status> Call(boost::beast::http::verb method, std::string target, std::string body,
                                      Timeout timeout, std::string* response);

  // The calls the daemon makes. (Those only tests make live in
  // testing/syncthing_admin.h.)

  // GET /rest/events?events=...&since=N&timeout=T. Waits up to
  // `timeout_seconds` for events with id > since; an empty `out` with Ok
  // means none came. `types` empty: Syncthing's default set. Syncthing keeps
  // one subscription per distinct `types` list, created by the first
  // request with that list; ids count within it.
  boost::asio::awaitable<Status> GetEvents(int64_t since, int timeout_seconds, std::vector<std::string> types,
                                           std::vector<SyncthingEvent>* out);

  // GET /rest/config/folders/{id}; NotFound when there is no such folder.
  // `raw_json`, if given, receives the full object as Syncthing sent it.
  boost::asio::awaitable<Status> GetFolder(std::string id, SyncthingFolder* out,
                                           std::string* raw_json = nullptr);
  // PUT /rest/config/folders/{id}: creates or REPLACES the folder. Syncthing
  // fills every field missing with its folder defaults, also for an
  // existing folder (use PatchFolder to change a few fields).
  boost::asio::awaitable<Status> PutFolder(SyncthingFolder folder);
  // PATCH /rest/config/folders/{id}: changes only the fields in `json`.
  boost::asio::awaitable<Status> PatchFolder(std::string id, std::string json);
  // PUT /rest/config/devices/{id}: adds or replaces a remote device.
  boost::asio::awaitable<Status> PutDevice(std::string device_id, std::string json);

  // GET /rest/config/devices/{id}: Ok when Syncthing knows the device,
  // NotFound when not.
  boost::asio::awaitable<Status> GetDevice(std::string device_id);

  // GET /rest/system/status.
  boost::asio::awaitable<Status> GetSystemStatus(SyncthingSystemStatus* out);
  // GET /rest/db/status?folder=...; NotFound when there is no such folder.
  boost::asio::awaitable<Status> GetDbStatus(std::string folder, SyncthingDbStatus* out);

 private:
  Status MapResponse(const std::string& what, HttpResult* res, std::string* response) const;

  boost::asio::any_io_executor executor_;
  SyncthingEndpoint endpoint_;
};

// Percent-encodes `s` for a URL path segment or query value.
std::string UrlEncode(std::string_view s);

// Runs `op` on a private io_context until it completes, for command-line
// tools and tests that have no event loop of their own.
Status RunSyncthingCall(const SyncthingEndpoint& endpoint,
                        const std::function<boost::asio::awaitable<Status>(SyncthingClient&)>& op);

}  // namespace indafoto
