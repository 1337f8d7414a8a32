// Over 450 lines: the coroutines of the event loop share one Daemon object
// (Syncthing connection, events, timers, signals, jobs); health and the
// job queue are their own units (health.h, job_queue.h).
#include "daemon/daemon.h"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <set>

#include "daemon/cli.h"
#include "daemon/exchange_setup.h"
#include "daemon/health.h"
#include "daemon/job_queue.h"
#include "lib/exchange/exchange.h"
#include "lib/archive/daemon_state.h"
#include "lib/import/sync_source.h"
#include "lib/util/logging.h"
#include "lib/catalog/manifest_writer.h"
#include "lib/catalog/publish_schedule.h"
#include "lib/import/received_folder.h"
#include "lib/syncthing/syncthing_client.h"
#include "lib/syncthing/syncthing_home.h"
#include "lib/import/verify.h"

// GCC 12 warns -Wmismatched-new-delete at the end of a coroutine here (seen
// on ImportLoop): Boost.Asio's awaitable frames are allocated by
// awaitable_frame_base::operator new through thread_info_base::allocate
// (which may fall back to ::operator new) and freed by the matching
// operator delete through thread_info_base::deallocate (which recycles or
// calls ::operator delete). The pair matches; after inlining GCC sees only
// the ::operator new inside and reports a false positive. Silenced for the
// coroutines of this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace indafoto {

namespace net = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kEventTypes = {"ItemFinished"};
constexpr auto kMaxBackoff = 60s;
constexpr auto kTick = 5s;
constexpr auto kProgressInterval = 30s;
constexpr int kLongPollSeconds = 60;
// Manifest files arrive one by one; a reload follows shortly after the
// last one seen. An attempt made before every part is there fails at once
// as NotFound (ManifestReader stats every part before reading any), and
// the next arrival schedules the next attempt, so waiting longer would only
// delay the files that wait for the catalog.
constexpr auto kManifestSettle = 50ms;
constexpr auto kMissingFolderGrace = 10min;

bool IsManifestPath(const std::string& item) {
  return item.rfind(std::string(kManifestDirName) + "/", 0) == 0 || item == kManifestDirName;
}

}  // namespace

class Daemon {
 public:
  explicit Daemon(Config config)
      : config_(std::move(config)),
        work_timer_(io_),
        backoff_timer_(io_),
        reload_timer_(io_),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        health_(&heartbeat_db_) {}

  int Run();

 private:
  // --- io thread ---
  net::awaitable<void> EventLoop();
  net::awaitable<void> ImportLoop();
  // Runs `fn` on the worker thread; resumes on the io thread when it is done.
  net::awaitable<void> OnWorker(std::function<void()> fn);
  net::awaitable<void> Housekeeping();
  net::awaitable<void> ManifestReloads();
  void WaitForSignal();
  void Spawn(net::awaitable<void> task, const char* name);
  void ReloadConfig();
  void RequestStop();
  net::awaitable<void> Backoff();
  Status ResolveEndpoint(SyncthingEndpoint* out);
  net::awaitable<void> CheckFolders(SyncthingClient& client);
  void HandleEvent(const SyncthingEvent& e);
  void RequestReconcile(const std::string& why);
  void Wake() { work_timer_.cancel(); }
  void SetState(const std::string& state, const std::string& message) { health_.SetState(state, message); }
  net::awaitable<void> ReportProgress();
  const RemoteSource* SourceByFolder(const std::string& folder_id) const;

  // --- worker thread ---
  void ReconcileAll();
  // One SyncSource call with this daemon's options.
  Status Sync(const RemoteSource& source, const SyncRequest& request, PassCounts* counts);
  void Publish(const Config& config);
  void RetireRemovedPeers();
  // One batch of the periodic verify; true when the whole archive is done.
  bool VerifyBatch();
  PassOptions Options(const RemoteSource& source);

  Config config_;  // io thread; jobs get copies of what they need
  std::unique_ptr<Instance> instance_;  // worker thread only (after Run starts it)
  std::unique_ptr<Exchange> exchange_;  // worker thread (after Run opens it); idle without peers
  std::string my_device_;               // io thread: our Syncthing device ID, once connected
  net::io_context io_;
  net::thread_pool worker_{1};
  net::steady_timer work_timer_;
  net::steady_timer backoff_timer_;
  net::steady_timer reload_timer_;
  net::signal_set signals_;
  std::atomic<bool> stop_{false};
  bool failed_ = false;
  std::chrono::seconds backoff_{1};
  int config_generation_ = 0;

  JobQueue jobs_;                            // io thread
  std::set<std::string> reloads_requested_;  // io thread: source names, queued after kManifestSettle
  VerifyCursor verify_cursor_;    // worker thread
  VerifySummary verify_summary_;  // worker thread

  Database heartbeat_db_;  // io thread: the heartbeat `status` reads
  Health health_;          // STATUS=, the heartbeat, progress

  // Worker thread: since when each source's received folder has been
  // missing. Shortly after a source is configured that is normal (Syncthing
  // has not created the folder yet); after kMissingFolderGrace it is worth
  // a warning.
  std::map<std::string, Clock::time_point> received_folder_missing_since_;
};

// ---------------------------------------------------------------------------
// Start and stop.

int Daemon::Run() {
  if (int rc = OpenInstanceOrExplain("run", config_, Instance::Access::kReadWrite, /*wait=*/true, &instance_); rc != kExitOk)
    return rc;
  spdlog::info("indafoto-syncd started: database {}, image root {}, {} source(s), reconcile every {}s",
               config_.database_path.string(), config_.image_root.string(), config_.sources.size(),
               config_.reconcile_interval_seconds);

  // Always opened (peers may come with a SIGHUP); idle without peers.
  if (Status s = CheckExchangeRoot(config_); !s.ok()) {
    spdlog::error("{}", s.message());
    return kExitUsage;
  }
  if (Status s = Exchange::Open(instance_.get(), &exchange_); !s.ok()) {
    spdlog::error("exchange: cannot open its tables in the state database: {}", s.ToString());
    return kExitRuntime;
  }
  // Short busy timeout: a heartbeat is not worth stalling the event loop.
  Database::Open(config_.state_path.string(), Database::Mode::kReadWrite, 2000, &heartbeat_db_);
  RequestReconcile("start");
  if (config_.publish.enabled || !config_.peers.empty()) jobs_.RequestPublish();
  WaitForSignal();
  Spawn(ImportLoop(), "import loop");
  Spawn(EventLoop(), "event loop");
  Spawn(Housekeeping(), "housekeeping");
  Spawn(ManifestReloads(), "manifest reloads");
  sd_notify(0, "READY=1\nSTATUS=starting: reconciling received folders");
  io_.run();
  worker_.join();
  if (failed_) return kExitRuntime;
  indafoto::WriteHeartbeat(instance_->state(), "stopped", "stopped by signal");
  spdlog::info("indafoto-syncd stopped");
  return kExitOk;
}

void Daemon::Spawn(net::awaitable<void> task, const char* name) {
  // A coroutine that dies takes a part of the daemon with it: say so and
  // exit non-zero so that systemd restarts us, rather than idle silently.
  net::co_spawn(io_, std::move(task), [this, name](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::critical("internal error in the {}: {}; exiting", name, ex.what());
    } catch (...) {
      spdlog::critical("internal error in the {}; exiting", name);
    }
    failed_ = true;
    RequestStop();
  });
}

void Daemon::WaitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      ReloadConfig();
      WaitForSignal();
    } else {
      spdlog::info("received {}: finishing the import in flight, then exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      RequestStop();
    }
  });
}

void Daemon::RequestStop() {
  stop_ = true;
  sd_notify(0, "STOPPING=1\nSTATUS=stopping");
  backoff_timer_.cancel();
  reload_timer_.cancel();
  Wake();  // ImportLoop returns after its job and stops the io loop
}

void Daemon::ReloadConfig() {
  Config fresh;
  Status s = LoadConfig(config_.config_path, &fresh);
  if (!s.ok()) {
    spdlog::error("SIGHUP: configuration not reloaded, keeping the previous one: {}", s.message());
    return;
  }
  if (fresh.database_path != config_.database_path || fresh.image_root != config_.image_root ||
      fresh.state_path != config_.state_path)
    spdlog::warn("SIGHUP: database_path, image_root and state_path changes take effect after a restart");
  fresh.database_path = config_.database_path;
  fresh.image_root = config_.image_root;
  fresh.state_path = config_.state_path;
  if (Status s = CheckExchangeRoot(fresh); !s.ok()) {
    spdlog::error("SIGHUP: configuration not reloaded, keeping the previous one: {}", s.message());
    return;
  }
  if (!my_device_.empty()) AssignExchangeFolderIds(my_device_, &fresh);
  InitLogging(fresh.log_level);
  config_ = std::move(fresh);
  ++config_generation_;
  backoff_ = 1s;
  backoff_timer_.cancel();  // retry Syncthing now, with the new settings
  spdlog::info("SIGHUP: configuration reloaded from {} ({} source(s))", config_.config_path.string(),
               config_.sources.size());
  RequestReconcile("configuration reloaded");
  // A new peer needs our manifest in its folder (unchanged ones cost nothing).
  if (!config_.peers.empty()) jobs_.RequestPublish();
}

// ---------------------------------------------------------------------------
// Syncthing: connect, check folders, long-poll events.

Status Daemon::ResolveEndpoint(SyncthingEndpoint* out) {
  const SyncthingSettings& st = config_.syncthing;
  SyncthingEndpoint ep;
  ep.api_key = config_.ResolvedApiKey();
  ep.https = st.https;
  ep.host = st.host;
  ep.port = static_cast<uint16_t>(st.port);
  // Whatever the configuration leaves open comes from Syncthing's config.xml.
  if (ep.api_key.empty() || ep.host.empty() || ep.port == 0 || !st.home.empty()) {
    SyncthingHomeInfo home;
    Status s = st.home.empty() ? FindSyncthingHome(&home) : ReadSyncthingHome(st.home, &home);
    if (s.ok()) {
      SyncthingEndpoint from_home;
      if (Status e = SyncthingEndpointFromHome(home, &from_home); e.ok()) {
        if (ep.api_key.empty()) ep.api_key = from_home.api_key;
        if (ep.host.empty()) ep.host = from_home.host;
        if (ep.port == 0) {
          ep.port = from_home.port;
          ep.https = from_home.https;
        }
        if (ep.https && ep.ca_cert_pem.empty()) ep.ca_cert_pem = from_home.ca_cert_pem;
      }
    } else if (ep.api_key.empty()) {
      return Status::Invalid("no Syncthing API key: set syncthing.api_key (or api_key_env, or syncthing_api_key) in " +
                             config_.config_path.string() + ", or syncthing.home to read it from config.xml (" +
                             s.message() + ")");
    }
  }
  if (ep.host.empty()) ep.host = "localhost";
  if (ep.port == 0) ep.port = 8384;
  *out = ep;
  return Status::Ok();
}

net::awaitable<void> Daemon::Backoff() {
  backoff_timer_.expires_after(backoff_);
  boost::system::error_code ec;
  co_await backoff_timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
  backoff_ = std::min<std::chrono::seconds>(backoff_ * 2, kMaxBackoff);
}

net::awaitable<void> Daemon::CheckFolders(SyncthingClient& client) {
  for (const RemoteSource& source : config_.sources) {
    if (source.exchange) continue;  // SetUpExchangeFolders
    SyncthingFolder folder;
    Status s = co_await client.GetFolder(source.folder_id, &folder);
    if (s.IsNotFound()) {
      if (!config_.syncthing.create_folders) {
        spdlog::warn(
            "source {}: Syncthing has no folder '{}'. Add it in Syncthing as a receive-only folder at {} shared "
            "with the publisher, or set syncthing.create_folders to let indafoto-syncd create it",
            source.name, source.folder_id, source.received_folder.string());
        continue;
      }
      SyncthingFolder create;
      create.id = source.folder_id;
      create.label = "indafoto " + source.name;
      create.path = source.received_folder.string();
      create.type = "receiveonly";
      // The publisher writes its manifest after the images it lists, so
      // newest first brings the catalog before the files: they are then
      // imported as they arrive instead of waiting as pending.
      create.order = "newestFirst";
      if (!source.device_id.empty()) create.device_ids.push_back(source.device_id);
      Status c = co_await client.PutFolder(create);
      if (c.ok())
        spdlog::info("source {}: created receive-only Syncthing folder '{}' at {}{}", source.name, source.folder_id,
                     create.path,
                     source.device_id.empty() ? "; share it with the publisher's device in Syncthing (no device_id "
                                                "configured)"
                                              : "");
      else
        spdlog::error("source {}: could not create Syncthing folder '{}': {}", source.name, source.folder_id,
                      c.ToString());
    } else if (!s.ok()) {
      spdlog::warn("source {}: cannot read Syncthing folder '{}': {}", source.name, source.folder_id, s.ToString());
    } else if (std::filesystem::path(folder.path).lexically_normal() != source.received_folder.lexically_normal()) {
      spdlog::warn("source {}: Syncthing folder '{}' is at {}, but local_path says {}; files will not be found",
                   source.name, source.folder_id, folder.path, source.received_folder.string());
    }
  }
}

net::awaitable<void> Daemon::EventLoop() {
  while (!stop_) {
    int generation = config_generation_;
    SyncthingEndpoint endpoint;
    if (Status s = ResolveEndpoint(&endpoint); !s.ok()) {
      spdlog::error("{}; retrying in {}s", s.message(), backoff_.count());
      SetState("waiting for syncthing", s.message());
      co_await Backoff();
      continue;
    }
    SyncthingClient client(io_.get_executor(), endpoint);
    SyncthingSystemStatus system;
    Status s = co_await client.GetSystemStatus(&system);
    std::vector<SyncthingEvent> events;
    // The first request creates Syncthing's subscription for our event
    // types; nothing from before it is ever delivered, so a reconcile
    // follows every (re)connect.
    if (s.ok()) s = co_await client.GetEvents(0, 1, kEventTypes, &events);
    if (!s.ok()) {
      if (s.code() == Status::Code::kPermission)
        spdlog::error("Syncthing at {}: {}; retrying in {}s (fix the key, then `systemctl reload indafoto-syncd` or "
                      "send SIGHUP)",
                      endpoint.Describe(), s.message(), backoff_.count());
      else
        spdlog::warn("{}; retrying in {}s", s.message(), backoff_.count());
      SetState("waiting for syncthing", s.message());
      co_await Backoff();
      continue;
    }
    int64_t last_id = events.empty() ? 0 : events.back().id;
    backoff_ = 1s;
    spdlog::info("connected to Syncthing at {} (device {})", endpoint.Describe(), system.my_id.substr(0, 7));
    SetState("running", "connected to Syncthing at " + endpoint.Describe());
    co_await CheckFolders(client);
    my_device_ = system.my_id;
    AssignExchangeFolderIds(my_device_, &config_);
    // Also without peers: those removed from the configuration leave.
    co_await SetUpExchangeFolders(client, my_device_, config_);
    RequestReconcile("connected to Syncthing");
    for (const auto& e : events) HandleEvent(e);

    while (!stop_ && generation == config_generation_) {
      s = co_await client.GetEvents(last_id, kLongPollSeconds, kEventTypes, &events);
      if (stop_) break;
      if (!s.ok()) {
        spdlog::warn("lost Syncthing's event stream ({}); reconnecting", s.message());
        SetState("waiting for syncthing", s.message());
        break;
      }
      if (events.empty()) {
        // Syncthing 1.19 answers a `since` beyond its newest id (it restarted
        // between our polls) with silence: compare its start time.
        SyncthingSystemStatus now;
        if ((co_await client.GetSystemStatus(&now)).ok() && now.start_time != system.start_time) {
          spdlog::info("Syncthing restarted; resubscribing and reconciling");
          break;
        }
        continue;
      }
      if (events.front().id != last_id + 1) {
        spdlog::info("missed Syncthing events {}..{}; reconciling", last_id + 1, events.front().id - 1);
        RequestReconcile("missed events");
      }
      for (const auto& e : events) HandleEvent(e);
      last_id = events.back().id;
    }
  }
}

const RemoteSource* Daemon::SourceByFolder(const std::string& folder_id) const {
  for (const auto& s : config_.sources) {
    if (s.folder_id == folder_id) return &s;
  }
  return nullptr;
}

void Daemon::HandleEvent(const SyncthingEvent& e) {
  if (!e.IsItemFinished()) return;
  const RemoteSource* source = SourceByFolder(e.folder);
  if (!source) return;
  if (IsManifestPath(e.item)) {
    if (e.IsFileReceived()) {
      reloads_requested_.insert(source->name);
      reload_timer_.expires_after(kManifestSettle);
    }
    return;
  }
  if (e.error) {
    spdlog::debug("source {}: {}: Syncthing could not deliver it: {}", source->name, e.item, *e.error);
    return;
  }
  if (!e.IsFileReceived()) return;  // directories, deletions, metadata
  jobs_.AddImport(source->name, e.item);
  Wake();
}

net::awaitable<void> Daemon::ManifestReloads() {
  while (!stop_) {
    boost::system::error_code ec;
    if (reloads_requested_.empty()) reload_timer_.expires_after(24h);
    co_await reload_timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
    if (stop_) break;
    if (!ec && !reloads_requested_.empty()) {
      for (const std::string& name : reloads_requested_) jobs_.RequestReload(name);
      reloads_requested_.clear();
      Wake();
    }
  }
}

void Daemon::RequestReconcile(const std::string& why) {
  spdlog::debug("reconcile requested: {}", why);
  jobs_.RequestReconcile();
  Wake();
}

// ---------------------------------------------------------------------------
// The import loop: takes queued work on the io thread, runs it on the worker.

namespace {

// A coroutine that runs `fn`. A plain function, not a capturing lambda: a
// coroutine's frame keeps its parameters, but not the closure it came from.
net::awaitable<void> Call(std::function<void()> fn) {
  fn();
  co_return;
}

}  // namespace

// g++ 12 may destroy temporaries inside a co_await expression twice, so
// jobs are named locals before they are awaited.
net::awaitable<void> Daemon::OnWorker(std::function<void()> fn) {
  net::awaitable<void> task = Call(std::move(fn));
  co_await net::co_spawn(worker_.get_executor(), std::move(task), net::use_awaitable);
}

net::awaitable<void> Daemon::ImportLoop() {
  while (!stop_) {
    Job job = jobs_.Next();
    const RemoteSource* source = job.source.empty() ? nullptr : config_.FindSource(job.source);
    std::function<void()> work;
    switch (job.kind) {
      case Job::Kind::kReloadCatalog:
        if (source) {
          work = [this, copy = *source] {
            PassCounts counts;
            Sync(copy, SyncRequest{SyncScope::kProvisional, {}}, &counts);
          };
        }
        break;
      case Job::Kind::kImportPaths:
        if (source) {
          work = [this, copy = *source, paths = std::move(job.paths)] {
            PassCounts counts;
            Sync(copy, SyncRequest{SyncScope::kPaths, paths}, &counts);
          };
        }
        break;
      case Job::Kind::kReconcile:
        work = [this, copy = config_, device = my_device_] {
          instance_->Reconfigure(copy);
          exchange_->set_self_device(device);
          ReconcileAll();
        };
        break;
      case Job::Kind::kPublish:
        work = [this, copy = config_] { Publish(copy); };
        break;
      case Job::Kind::kVerifyBatch: {
        // Lowest priority, one batch at a time: deliveries never wait long.
        auto done = std::make_shared<bool>(false);
        std::function<void()> batch = [this, done] { *done = VerifyBatch(); };
        co_await OnWorker(std::move(batch));
        if (*done) jobs_.FinishVerify();
        continue;
      }
      case Job::Kind::kNone: {
        work_timer_.expires_at(Clock::time_point::max());
        boost::system::error_code ec;
        co_await work_timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        continue;
      }
    }
    if (work) co_await OnWorker(std::move(work));
    if (job.kind == Job::Kind::kReconcile && health_.state() == "starting") SetState("running", "reconciled");
  }
  io_.stop();
}

// ---------------------------------------------------------------------------
// Worker-thread jobs.

PassOptions Daemon::Options(const RemoteSource& source) {
  PassOptions o;
  o.hash_threads = instance_->config().HashThreads();
  o.should_stop = [this] { return stop_.load(); };
  // An exchange folder holds only what is in flight, and a path may be
  // delivered again after its image was lost here (healing): look again.
  o.recheck_final = source.exchange;
  o.on_outcome = [this, name = source.name](const std::string& rel, const ImportOutcome& outcome) {
    LogOutcome(name, rel, outcome);
    health_.Record(name, outcome);
  };
  return o;
}

Status Daemon::Sync(const RemoteSource& source, const SyncRequest& request, PassCounts* counts) {
  Status s = SyncSource(*instance_, source, request, Options(source), counts);
  if (!s.ok() && !s.IsNotFound())
    spdlog::warn("source {}: import stopped (retried at the next reconcile): {}", source.name, s.ToString());
  // A peer's catalog may have changed: its outbox and the others' follow
  // (a no-op when no catalog changed).
  if (source.exchange && request.scope != SyncScope::kPaths && exchange_) {
    if (Status e = exchange_->OnPeerCatalog(instance_->config(), source.name); !e.ok())
      spdlog::warn("exchange {}: outboxes not updated after its catalog changed: {}", source.name, e.ToString());
  }
  return s;
}

void Daemon::ReconcileAll() {
  for (const RemoteSource& source : instance_->config().sources) {
    if (stop_) return;
    PassCounts counts;
    Status s = SyncSource(*instance_, source, SyncRequest{SyncScope::kAll, {}}, Options(source), &counts);
    if (s.IsNotFound()) {
      auto [it, first] = received_folder_missing_since_.emplace(source.name, Clock::now());
      if (first) {
        spdlog::info("source {}: received folder {} does not exist yet (Syncthing creates it when it starts the "
                     "folder)",
                     source.name, source.received_folder.string());
      } else if (Clock::now() - it->second >= kMissingFolderGrace) {
        spdlog::warn("source {}: received folder {} still does not exist: check local_path in the configuration "
                     "and the folder's path in Syncthing ({})",
                     source.name, source.received_folder.string(), s.ToString());
      }
    } else {
      received_folder_missing_since_.erase(source.name);
      if (!s.ok()) spdlog::warn("source {}: reconcile scan stopped: {}", source.name, s.ToString());
    }
    int64_t decided = 0;
    for (const auto& [k, v] : counts.by_status) decided += v;
    if (decided > 0 || counts.errors > 0)
      spdlog::info("source {}: reconcile: {} files in folder, {} already accounted for, {} new decisions, {} errors",
                   source.name, counts.seen, counts.accounted, decided, counts.errors);
  }
  // Peers removed from the configuration: their folders emptied, what they
  // sent imported first.
  if (exchange_ && !stop_) RetireRemovedPeers();
  // Outboxes too: peers' catalogs were reloaded above, and the fallback of
  // the sender choice is a matter of time.
  if (exchange_ && !stop_) {
    if (Status s = exchange_->Refresh(instance_->config()); !s.ok())
      spdlog::warn("exchange: outboxes not updated: {}", s.ToString());
  }
}

void Daemon::RetireRemovedPeers() {
  std::vector<RetiredPeer> retired;
  auto import_pass = [this](const RemoteSource& source) {
    PassCounts counts;
    return SyncSource(*instance_, source, SyncRequest{SyncScope::kAll, {}}, Options(source), &counts);
  };
  if (Status s = exchange_->RetireRemovedPeers(instance_->config(), import_pass, &retired); !s.ok()) {
    spdlog::warn("exchange: peers removed from the configuration not retired (retried at the next reconcile): {}",
                 s.ToString());
    return;
  }
  for (const RetiredPeer& r : retired) {
    if (r.outbox.links_removed || r.outbox.rows || r.received_removed || r.outbox.links_kept)
      spdlog::info("exchange {}: no longer a peer: {} outbox link(s) removed (the archive keeps its copies), {} "
                   "outbox row(s) dropped; {} received file(s) removed, their images being in the archive",
                   r.name, r.outbox.links_removed, r.outbox.rows, r.received_removed);
    if (!r.outgoing_removed)
      spdlog::warn("exchange {}: no longer a peer; {} is kept: it holds {} file(s) that are not links of archive "
                   "images; look at them and remove the folder",
                   r.name, ExchangeOutgoingPath(instance_->config(), r.name).string(), r.outgoing_left);
    if (!r.incoming_removed && r.import_ran)
      spdlog::warn("exchange {}: no longer a peer; {} is kept: {} file(s) it sent were not imported (sync_records "
                   "with remote_source '{}' say why); add the peer back, or import or remove them by hand",
                   r.name, ExchangeIncomingPath(instance_->config(), r.name).string(), r.received_left, r.name);
  }
}

bool Daemon::VerifyBatch() {
  constexpr int64_t kBatch = 500;
  if (verify_cursor_.after_id == 0) {
    verify_summary_ = VerifySummary();
    spdlog::info("periodic verify: checking every local image's file");
  }
  auto log = [](const LocalFileCheck& c, const std::string& healed_from, const Status& why_not) {
    if (why_not.ok())
      spdlog::warn("periodic verify: image {} {}: {} {}; healed from {}", c.image.id, c.image.local_path, c.problem,
                   c.detail, healed_from);
    else
      spdlog::error("periodic verify: image {} {}: {} {}; not healed: {}", c.image.id, c.image.local_path,
                    c.problem, c.detail, why_not.message());
  };
  if (Status s = indafoto::VerifyBatch(instance_->archive(), &instance_->importer(), instance_->config().sources,
                                       instance_->config().HashThreads(), kBatch, &verify_cursor_, &verify_summary_,
                                       log);
      !s.ok()) {
    spdlog::warn("periodic verify: {}; continued later", s.ToString());
    return false;  // the cursor stays: the same batch again
  }
  if (!verify_cursor_.done) return false;
  verify_cursor_ = VerifyCursor();
  RecordVerifySummary(instance_->state(), verify_summary_);
  spdlog::info("periodic verify: {} images checked, {} missing, {} corrupt, {} healed", verify_summary_.checked,
               verify_summary_.missing, verify_summary_.corrupt, verify_summary_.healed);
  // A healed file was renamed over the old one; outbox links made before
  // still name the old bytes (and repairs by `verify --repair` or an
  // import happen too): peers are sent the archive's file again.
  if (exchange_) {
    int64_t relinked = 0;
    if (Status s = exchange_->RelinkReplaced(instance_->config(), &relinked); !s.ok())
      spdlog::warn("exchange: checking the outbox links: {}; again after the next verify", s.ToString());
    if (relinked > 0)
      spdlog::info("exchange: {} outbox link(s) re-made to archive files replaced since they were linked", relinked);
  }
  return true;
}

void Daemon::Publish(const Config& config) {
  PublishAllReport r;  // PublishManifest logs what it wrote
  (void)PublishAll(config, PublishesOwnManifest(config, /*command=*/false), exchange_.get(), &r);
  if (!r.own_status.ok()) spdlog::warn("publish failed: {}", r.own_status.ToString());
  if (!r.exchange_status.ok()) spdlog::warn("exchange: publish failed: {}", r.exchange_status.ToString());
}

// ---------------------------------------------------------------------------
// Housekeeping: watchdog, heartbeat, progress, periodic reconcile, publish.

net::awaitable<void> Daemon::Housekeeping() {
  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  net::steady_timer tick(io_);
  auto last_progress = Clock::now();
  auto last_reconcile = Clock::now();
  auto last_verify = Clock::now();  // the first periodic verify comes one interval after the start
  // A connection of our own to indafoto.db whose PRAGMA data_version moves
  // whenever another connection (the crawler, our importer) commits.
  Database watch;
  int64_t data_version = -1;
  PublishSchedule schedule(std::chrono::seconds(config_.publish.debounce_seconds),
                           std::chrono::seconds(config_.publish.max_delay_seconds));
  // Opened also without publishing: peers may come with a SIGHUP.
  Database::Open(config_.database_path.string(), Database::Mode::kReadOnly, 1000, &watch);
  // The baseline is read now, before the start-up publish has read the
  // database: a change in between is then seen, never missed.
  auto read_data_version = [&watch]() -> int64_t {
    try {
      Statement v = watch.Prepare("PRAGMA data_version");
      return v.Step() ? v.Int(0) : -1;
    } catch (const SqliteError& e) {
      spdlog::debug("cannot watch the database for changes: {}", e.what());
      return -1;
    }
  };
  if (watch.is_open()) data_version = read_data_version();
  health_.WriteHeartbeat();

  while (!stop_) {
    tick.expires_after(watchdog ? std::min<std::chrono::microseconds>(kTick, std::chrono::microseconds(watchdog_usec / 2))
                                : std::chrono::microseconds(kTick));
    boost::system::error_code ec;
    co_await tick.async_wait(net::redirect_error(net::use_awaitable, ec));
    if (stop_) break;
    if (watchdog) sd_notify(0, "WATCHDOG=1");
    auto now = Clock::now();

    if ((config_.publish.enabled || !config_.peers.empty()) && watch.is_open()) {
      // Settings reloaded by SIGHUP apply to a change already waiting.
      schedule.SetDelays(std::chrono::seconds(config_.publish.debounce_seconds),
                         std::chrono::seconds(config_.publish.max_delay_seconds));
      int64_t version = read_data_version();
      if (version >= 0 && data_version >= 0 && version != data_version) {
        if (!schedule.pending())
          spdlog::debug("database changed; publishing the manifest after {}s of quiet, at most {}s from now",
                        config_.publish.debounce_seconds, config_.publish.max_delay_seconds);
        schedule.NoteChange(now);
      }
      if (version >= 0) data_version = version;
      if (schedule.TakeDue(now)) {
        jobs_.RequestPublish();
        Wake();
      }
    }
    if (now - last_reconcile >= std::chrono::seconds(config_.reconcile_interval_seconds)) {
      last_reconcile = now;
      RequestReconcile("periodic");
    }
    if (config_.verify_interval_hours > 0 && !jobs_.verify_running() &&
        now - last_verify >= std::chrono::hours(config_.verify_interval_hours)) {
      last_verify = now;
      jobs_.StartVerify();
      Wake();
    }
    if (now - last_progress >= kProgressInterval) {
      last_progress = now;
      co_await ReportProgress();
      health_.WriteHeartbeat();
    }
  }
}

net::awaitable<void> Daemon::ReportProgress() {
  SyncthingEndpoint endpoint;
  bool have_endpoint = health_.state() == "running" && ResolveEndpoint(&endpoint).ok();
  for (const RemoteSource& source : config_.sources) {
    int64_t need = -1;
    if (have_endpoint) {
      SyncthingClient client(io_.get_executor(), endpoint);
      SyncthingDbStatus db;
      if ((co_await client.GetDbStatus(source.folder_id, &db)).ok()) need = db.need_files;
    }
    std::optional<std::string> line =
        health_.TakeProgressLine(source.name, std::chrono::duration_cast<std::chrono::seconds>(kProgressInterval), need);
    if (line) spdlog::info("{}", *line);
  }
  health_.NotifyStatus();
}

int RunDaemonProcess(const Config& config) {
  Daemon daemon(config);
  return daemon.Run();
}

}  // namespace indafoto
