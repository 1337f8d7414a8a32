// Over 450 lines: one class, the REST client (connection, TLS pinning,
// retries and each endpoint's request and answer) kept in one place.
#include "lib/syncthing/syncthing_client.h"

#include <utility>  // before asio, see the header

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <exception>
#include <memory>

namespace indafoto {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// Large enough for a long-poll's worth of LocalIndexUpdated events with
// their file lists; small enough that a confused server cannot exhaust memory.
constexpr uint64_t kMaxResponseBody = 64ull << 20;

std::string StripBrackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::string(host);
}

bool IsIpv6Literal(std::string_view host) { return host.find(':') != std::string_view::npos; }

std::string HostHeader(const SyncthingEndpoint& ep) {
  std::string host = StripBrackets(ep.host);
  if (IsIpv6Literal(host)) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port);
}

// A short, single-line excerpt of a response body for error messages.
std::string Excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > 200) out += "...";
  return out;
}

std::string RequestName(http::verb method, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return std::string(http::to_string(method)) + " " + std::string(path);
}

std::string Seconds(SyncthingClient::Timeout t) {
  auto ms = t.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

X509Ptr ParsePem(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

X509Ptr PeerCertificate(SSL* ssl) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  return X509Ptr(SSL_get1_peer_certificate(ssl));
#else
  return X509Ptr(SSL_get_peer_certificate(ssl));
#endif
}

// True when a TLS handshake error means the other side does not speak TLS
// at all, i.e. we talk https to a plain-http Syncthing GUI.
bool IsNotTlsError(const beast::error_code& ec) {
  if (ec.category() != net::error::get_ssl_category()) return false;
  int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
         reason == SSL_R_HTTP_REQUEST || reason == SSL_R_UNEXPECTED_RECORD;
}

template <class Stream>
net::awaitable<beast::error_code> Exchange(Stream& stream, const http::request<http::string_body>& req,
                                           HttpResult* out) {
  beast::error_code ec;
  co_await http::async_write(stream, req, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return ec;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return ec;
  auto& res = parser.get();
  out->status = res.result_int();
  out->location = std::string(res[http::field::location]);
  out->body = std::move(res.body());
  co_return ec;
}

// rapidjson helpers for the folder objects; strict about types.
bool GetStr(const rapidjson::Value& o, const char* k, std::string* out) {
  auto it = o.FindMember(k);
  if (it == o.MemberEnd()) return true;
  if (!it->value.IsString()) return false;
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}
bool GetInt(const rapidjson::Value& o, const char* k, int* out) {
  auto it = o.FindMember(k);
  if (it == o.MemberEnd()) return true;
  if (!it->value.IsInt()) return false;
  *out = it->value.GetInt();
  return true;
}
bool GetBool(const rapidjson::Value& o, const char* k, bool* out) {
  auto it = o.FindMember(k);
  if (it == o.MemberEnd()) return true;
  if (!it->value.IsBool()) return false;
  *out = it->value.GetBool();
  return true;
}

Status FolderFromValue(const rapidjson::Value& v, SyncthingFolder* out) {
  if (!v.IsObject()) return Status::Corrupt("Syncthing folder config: expected a JSON object");
  SyncthingFolder f;
  f.device_ids.clear();
  if (!GetStr(v, "id", &f.id) || !GetStr(v, "label", &f.label) || !GetStr(v, "path", &f.path) ||
      !GetStr(v, "type", &f.type) || !GetInt(v, "rescanIntervalS", &f.rescan_interval_s) ||
      !GetBool(v, "fsWatcherEnabled", &f.fs_watcher_enabled) ||
      !GetInt(v, "fsWatcherDelayS", &f.fs_watcher_delay_s) || !GetBool(v, "paused", &f.paused) ||
      !GetStr(v, "order", &f.order)) {
    return Status::Corrupt("Syncthing folder config: a field has an unexpected type");
  }
  if (f.id.empty()) return Status::Corrupt("Syncthing folder config: no \"id\"");
  auto devices = v.FindMember("devices");
  if (devices != v.MemberEnd() && !devices->value.IsNull()) {
    if (!devices->value.IsArray())
      return Status::Corrupt("Syncthing folder config: \"devices\" is not an array");
    for (const auto& d : devices->value.GetArray()) {
      std::string id;
      if (!d.IsObject() || !GetStr(d, "deviceID", &id)) {
        return Status::Corrupt("Syncthing folder config: bad entry in \"devices\"");
      }
      f.device_ids.push_back(std::move(id));
    }
  }
  *out = std::move(f);
  return Status::Ok();
}

Status ParseJson(std::string_view json, rapidjson::Document* doc, const char* what) {
  doc->Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc->HasParseError()) return Status::Corrupt(std::string(what) + ": malformed JSON from Syncthing");
  return Status::Ok();
}

net::awaitable<void> RunOp(const std::function<net::awaitable<Status>(SyncthingClient&)>& op,
                           SyncthingClient& client, Status* result) {
  *result = co_await op(client);
}

}  // namespace

std::string SyncthingEndpoint::Describe() const {
  return std::string(https ? "https://" : "http://") + HostHeader(*this);
}

bool IsLoopbackHost(std::string_view host_in) {
  std::string host = StripBrackets(host_in);
  std::string lower;
  for (char c : host) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "localhost" || lower == "localhost.") return true;
  boost::system::error_code ec;
  net::ip::address addr = net::ip::make_address(lower, ec);
  if (ec) return false;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = net::ip::make_address_v4(net::ip::v4_mapped, addr.to_v6());
  }
  return addr.is_loopback();
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status ParseSyncthingFolder(std::string_view json, SyncthingFolder* out) {
  rapidjson::Document doc;
  Status s = ParseJson(json, &doc, "Syncthing folder config");
  if (!s.ok()) return s;
  return FolderFromValue(doc, out);
}

Status ParseSyncthingFolders(std::string_view json, std::vector<SyncthingFolder>* out) {
  out->clear();
  rapidjson::Document doc;
  Status s = ParseJson(json, &doc, "Syncthing folders config");
  if (!s.ok()) return s;
  if (doc.IsNull()) return Status::Ok();
  if (!doc.IsArray()) return Status::Corrupt("Syncthing folders config: expected a JSON array");
  std::vector<SyncthingFolder> folders;
  for (const auto& v : doc.GetArray()) {
    SyncthingFolder f;
    s = FolderFromValue(v, &f);
    if (!s.ok()) return s;
    folders.push_back(std::move(f));
  }
  *out = std::move(folders);
  return Status::Ok();
}

std::string SyncthingFolderJson(const SyncthingFolder& f) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("id");
  w.String(f.id.c_str(), static_cast<rapidjson::SizeType>(f.id.size()));
  w.Key("label");
  w.String(f.label.c_str(), static_cast<rapidjson::SizeType>(f.label.size()));
  w.Key("path");
  w.String(f.path.c_str(), static_cast<rapidjson::SizeType>(f.path.size()));
  w.Key("type");
  w.String(f.type.c_str(), static_cast<rapidjson::SizeType>(f.type.size()));
  w.Key("devices");
  w.StartArray();
  for (const std::string& d : f.device_ids) {
    w.StartObject();
    w.Key("deviceID");
    w.String(d.c_str(), static_cast<rapidjson::SizeType>(d.size()));
    w.EndObject();
  }
  w.EndArray();
  w.Key("rescanIntervalS");
  w.Int(f.rescan_interval_s);
  w.Key("fsWatcherEnabled");
  w.Bool(f.fs_watcher_enabled);
  w.Key("fsWatcherDelayS");
  w.Int(f.fs_watcher_delay_s);
  w.Key("paused");
  w.Bool(f.paused);
  w.Key("order");
  w.String(f.order.c_str(), static_cast<rapidjson::SizeType>(f.order.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

SyncthingClient::SyncthingClient(net::any_io_executor executor, SyncthingEndpoint endpoint)
    : executor_(std::move(executor)), endpoint_(std::move(endpoint)) {}

net::awaitable<Status> SyncthingClient::Request(http::verb method, std::string target, std::string body,
                                                Timeout timeout, HttpResult* out) {
  const SyncthingEndpoint& ep = endpoint_;
  const std::string where = ep.Describe();
  const std::string what = RequestName(method, target);
  const std::string host = StripBrackets(ep.host);
  const bool loopback = IsLoopbackHost(host);
  *out = HttpResult();

  if (ep.https && ep.ca_cert_pem.empty() && !loopback) {
    co_return Status::Invalid(
        "refusing https to Syncthing at " + where +
        " without a pinned certificate: Syncthing's certificate is self-signed, so only a copy of "
        "its https-cert.pem (from Syncthing's home, beside config.xml) can prove it is Syncthing. "
        "Give indafoto-syncd Syncthing's home directory, or use a loopback address");
  }
  X509Ptr pinned;
  if (ep.https && !ep.ca_cert_pem.empty()) {
    pinned = ParsePem(ep.ca_cert_pem);
    ERR_clear_error();
    if (!pinned) {
      co_return Status::Invalid("the certificate to pin for Syncthing at " + where +
                                " is not a PEM certificate (expected the contents of https-cert.pem)");
    }
  }

  try {
    // Resolve: IP literals directly, names through the resolver.
    beast::error_code ec;
    std::vector<tcp::endpoint> endpoints;
    net::ip::address literal = net::ip::make_address(host, ec);
    if (!ec) {
      endpoints.emplace_back(literal, ep.port);
    } else {
      tcp::resolver resolver(executor_);
      auto results = co_await resolver.async_resolve(host, std::to_string(ep.port),
                                                     net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        co_return Status::Unavailable("cannot connect to Syncthing at " + where + ": cannot resolve \"" +
                                      host + "\": " + ec.message());
      }
      for (const auto& r : results) endpoints.push_back(r.endpoint());
    }

    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, HostHeader(ep));
    req.set(http::field::user_agent, "indafoto-syncd");
    req.set("X-API-Key", ep.api_key);
    req.keep_alive(false);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();

    auto connect_error = [&](const beast::error_code& e) {
      std::string reason = e == beast::error::timeout ? "timed out after " + Seconds(timeout) : e.message();
      return Status::Unavailable(
          "cannot connect to Syncthing at " + where + ": " + reason +
          ". Is Syncthing running, and is this its GUI/API address? (Syncthing's GUI → Settings → GUI → "
          "GUI Listen Address, or <gui><address> in its config.xml)");
    };
    auto exchange_error = [&](const beast::error_code& e) {
      if (e == beast::error::timeout) {
        return Status::Unavailable("Syncthing at " + where + " did not answer " + what + " within " +
                                   Seconds(timeout) + "; it may be busy, stuck or restarting");
      }
      return Status::Unavailable("connection to Syncthing at " + where + " failed during " + what + ": " +
                                 e.message() + " (is Syncthing restarting?)");
    };
    auto non_loopback_peer = [&](const tcp::endpoint& peer) {
      return Status::Invalid("refusing https to Syncthing at " + where + " without a pinned certificate: \"" +
                             host + "\" resolved to " + peer.address().to_string() +
                             ", which is not a loopback address");
    };

    if (!ep.https) {
      beast::tcp_stream stream(executor_);
      stream.expires_after(timeout);  // one deadline for connect, send and receive
      co_await stream.async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
      if (ec) co_return connect_error(ec);
      ec = co_await Exchange(stream, req, out);
      if (ec) co_return exchange_error(ec);
    } else {
      ssl::context ctx(ssl::context::tls_client);
      ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      bool pin_mismatch = false;
      if (pinned) {
        ctx.set_verify_mode(ssl::verify_peer);
        // The chain cannot verify (self-signed); the leaf must be the pinned
        // certificate, whatever OpenSSL thinks of it otherwise.
        X509* pin = pinned.get();
        ctx.set_verify_callback([pin, &pin_mismatch](bool, ssl::verify_context& vc) {
          X509_STORE_CTX* store = vc.native_handle();
          if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
          X509* cert = X509_STORE_CTX_get_current_cert(store);
          bool match = cert != nullptr && X509_cmp(cert, pin) == 0;
          if (!match) pin_mismatch = true;
          return match;
        });
      } else {
        ctx.set_verify_mode(ssl::verify_none);
      }
      beast::ssl_stream<beast::tcp_stream> stream(executor_, ctx);
      auto& lowest = beast::get_lowest_layer(stream);
      lowest.expires_after(timeout);
      co_await lowest.async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
      if (ec) co_return connect_error(ec);
      if (!pinned) {
        // "localhost" could be mapped elsewhere in /etc/hosts: check what we reached.
        tcp::endpoint peer = lowest.socket().remote_endpoint(ec);
        if (ec) co_return exchange_error(ec);
        if (!IsLoopbackHost(peer.address().to_string())) co_return non_loopback_peer(peer);
      }
      co_await stream.async_handshake(ssl::stream_base::client, net::redirect_error(net::use_awaitable, ec));
      if (!ec && pinned) {
        // Belt and braces: check the leaf again after the handshake, before
        // the API key is sent.
        X509Ptr peer = PeerCertificate(stream.native_handle());
        if (!peer || X509_cmp(peer.get(), pinned.get()) != 0) pin_mismatch = true;
      }
      if (pin_mismatch) {
        co_return Status::Permission(
            "Syncthing at " + where +
            " presented a certificate that is not the pinned one (Syncthing's https-cert.pem); the API key "
            "was not sent. If Syncthing made a new certificate, restart indafoto-syncd so it reads the new "
            "https-cert.pem; otherwise something else answers on this address");
      }
      if (ec) {
        if (ec == beast::error::timeout) co_return exchange_error(ec);
        if (IsNotTlsError(ec)) {
          co_return Status::Invalid("Syncthing at " + where +
                                    " does not speak https (TLS handshake failed: " + ec.message() +
                                    "); its GUI has TLS off, so connect with http");
        }
        co_return Status::Unavailable("TLS handshake with Syncthing at " + where +
                                      " failed: " + ec.message());
      }
      ec = co_await Exchange(stream, req, out);
      if (ec) co_return exchange_error(ec);
      // No TLS close_notify: the server closes the connection anyway
      // (Connection: close) and waiting for it would only add latency.
    }
  } catch (const std::exception& e) {
    // Asio reports almost everything through error codes; what throws here
    // (allocation, OpenSSL context setup) does not carry the key.
    co_return Status::IoError("request to Syncthing at " + where + " failed: " + e.what());
  }

  if (out->status == 403 || out->status == 401) {
    std::string problem = ep.api_key.empty() ? "no API key is configured" : "the API key is wrong";
    co_return Status::Permission(
        "Syncthing at " + where + " refused " + what + " (HTTP " + std::to_string(out->status) +
        "): " + problem +
        ". Find the right key in Syncthing's GUI (Actions → Settings → General → API Key) or in "
        "Syncthing's config.xml as <gui><apikey>, and put it in indafoto-syncd's configuration "
        "(syncthing_api_key, or an environment variable named by syncthing.api_key_env)");
  }
  co_return Status::Ok();
}

net::awaitable<Status> SyncthingClient::Call(http::verb method, std::string target, std::string body,
                                             Timeout timeout, std::string* response) {
  const std::string what = RequestName(method, target);
  HttpResult res;
  Status s = co_await Request(method, std::move(target), std::move(body), timeout, &res);
  if (!s.ok()) co_return s;
  co_return MapResponse(what, &res, response);
}

Status SyncthingClient::MapResponse(const std::string& what, HttpResult* res, std::string* response) const {
  const std::string where = endpoint_.Describe();
  const std::string code = "HTTP " + std::to_string(res->status);
  if (res->status >= 200 && res->status < 300) {
    if (response) *response = std::move(res->body);
    return Status::Ok();
  }
  if (res->status == 404) {
    return Status::NotFound("Syncthing at " + where + ": " + what + ": " + code + " (" + Excerpt(res->body) +
                            ")");
  }
  if (res->status >= 300 && res->status < 400) {
    if (res->location.rfind("https:", 0) == 0 && !endpoint_.https) {
      return Status::Invalid("Syncthing at " + where +
                             " redirects to https: its GUI has TLS on, so connect with https");
    }
    return Status::Invalid("Syncthing at " + where + " answered " + what + " with a redirect (" + code +
                           "); is this Syncthing's GUI/API address?");
  }
  if (res->status >= 500) {
    return Status::Unavailable("Syncthing at " + where + " failed " + what + ": " + code + " (" +
                               Excerpt(res->body) + ")");
  }
  return Status::Invalid("Syncthing at " + where + " rejected " + what + ": " + code + " (" +
                         Excerpt(res->body) + ")");
}


net::awaitable<Status> SyncthingClient::GetEvents(int64_t since, int timeout_seconds,
                                                  std::vector<std::string> types,
                                                  std::vector<SyncthingEvent>* out) {
  out->clear();
  if (timeout_seconds < 0) timeout_seconds = 0;
  std::string target =
      "/rest/events?since=" + std::to_string(since) + "&timeout=" + std::to_string(timeout_seconds);
  if (!types.empty()) {
    target += "&events=";
    for (size_t i = 0; i < types.size(); ++i) {
      if (i) target += ',';
      target += UrlEncode(types[i]);
    }
  }
  std::string body;
  Timeout timeout = std::chrono::seconds(timeout_seconds) + kLongPollMargin;
  Status s = co_await Call(http::verb::get, std::move(target), "", timeout, &body);
  if (!s.ok()) co_return s;
  co_return ParseSyncthingEvents(body, out);
}


net::awaitable<Status> SyncthingClient::GetFolder(std::string id, SyncthingFolder* out,
                                                  std::string* raw_json) {
  std::string body;
  Status s =
      co_await Call(http::verb::get, "/rest/config/folders/" + UrlEncode(id), "", kDefaultTimeout, &body);
  if (s.IsNotFound()) {
    co_return Status::NotFound("Syncthing at " + endpoint_.Describe() + " has no folder with id \"" + id +
                               "\"");
  }
  if (!s.ok()) co_return s;
  s = ParseSyncthingFolder(body, out);
  if (s.ok() && raw_json) *raw_json = std::move(body);
  co_return s;
}


net::awaitable<Status> SyncthingClient::PutFolder(SyncthingFolder folder) {
  if (folder.id.empty()) co_return Status::Invalid("PutFolder: empty folder id");
  std::string json = SyncthingFolderJson(folder);
  co_return co_await Call(http::verb::put, "/rest/config/folders/" + UrlEncode(folder.id), std::move(json),
                          kDefaultTimeout, nullptr);
}

net::awaitable<Status> SyncthingClient::PatchFolder(std::string id, std::string json) {
  if (id.empty()) co_return Status::Invalid("PatchFolder: empty folder id");
  co_return co_await Call(http::verb::patch, "/rest/config/folders/" + UrlEncode(id), std::move(json),
                          kDefaultTimeout, nullptr);
}

net::awaitable<Status> SyncthingClient::PutDevice(std::string device_id, std::string json) {
  if (device_id.empty()) co_return Status::Invalid("PutDevice: empty device id");
  co_return co_await Call(http::verb::put, "/rest/config/devices/" + UrlEncode(device_id), std::move(json),
                          kDefaultTimeout, nullptr);
}

net::awaitable<Status> SyncthingClient::GetDevice(std::string device_id) {
  if (device_id.empty()) co_return Status::Invalid("GetDevice: empty device id");
  std::string body;
  co_return co_await Call(http::verb::get, "/rest/config/devices/" + UrlEncode(device_id), "", kDefaultTimeout,
                          &body);
}


net::awaitable<Status> SyncthingClient::GetSystemStatus(SyncthingSystemStatus* out) {
  std::string body;
  Status s = co_await Call(http::verb::get, "/rest/system/status", "", kDefaultTimeout, &body);
  if (!s.ok()) co_return s;
  rapidjson::Document doc;
  s = ParseJson(body, &doc, "Syncthing system status");
  if (!s.ok()) co_return s;
  SyncthingSystemStatus st;
  int uptime = -1;
  if (!doc.IsObject() || !GetStr(doc, "myID", &st.my_id) || st.my_id.empty() ||
      !GetStr(doc, "startTime", &st.start_time) || !GetInt(doc, "uptime", &uptime)) {
    co_return Status::Corrupt("Syncthing system status lacks \"myID\" or has unexpected fields");
  }
  st.uptime_s = uptime;
  *out = std::move(st);
  co_return Status::Ok();
}


net::awaitable<Status> SyncthingClient::GetDbStatus(std::string folder, SyncthingDbStatus* out) {
  std::string body;
  Status s = co_await Call(http::verb::get, "/rest/db/status?folder=" + UrlEncode(folder), "",
                           kDefaultTimeout, &body);
  if (s.IsNotFound()) {
    co_return Status::NotFound("Syncthing at " + endpoint_.Describe() + " has no folder with id \"" + folder +
                               "\"");
  }
  if (!s.ok()) co_return s;
  co_return ParseSyncthingDbStatus(body, out);
}


Status RunSyncthingCall(const SyncthingEndpoint& endpoint,
                        const std::function<net::awaitable<Status>(SyncthingClient&)>& op) {
  net::io_context io;
  SyncthingClient client(io.get_executor(), endpoint);
  Status result = Status::IoError("Syncthing call did not complete");
  net::co_spawn(io, RunOp(op, client, &result), [&result](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      result = Status::IoError(std::string("Syncthing call failed: ") + ex.what());
    } catch (...) {
      result = Status::IoError("Syncthing call failed");
    }
  });
  io.run();
  return result;
}

}  // namespace indafoto
