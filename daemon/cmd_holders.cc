// `indafoto-syncd whereis` (which known archives hold one image) and
// `indafoto-syncd copies` (local images by number of holders). Both only
// read: no writer lock, they run beside the daemon.
#include <rapidjson/filewritestream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>

#include <cstdio>

#include "daemon/cli.h"
#include "lib/catalog/holders.h"
#include "lib/import/instance.h"
#include "lib/util/logging.h"

namespace indafoto {

namespace {

const char* KindName(HolderQueryKind k) {
  switch (k) {
    case HolderQueryKind::kId: return "id";
    case HolderQueryKind::kSha256: return "sha256";
    case HolderQueryKind::kUrl: return "url";
  }
  return "url";
}

template <typename W>
void String(W& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <typename W>
void NullableString(W& w, const std::string& s) {
  if (s.empty()) w.Null();
  else String(w, s);
}

// The members that name a local image, in `whereis` and `copies` alike.
template <typename W>
void LocalImageMembers(W& w, const LocalImageRef& r) {
  w.Key("id");
  w.Int64(r.id);
  w.Key("sha256");
  NullableString(w, r.sha256);
  w.Key("url");
  NullableString(w, r.url);
  w.Key("local_path");
  NullableString(w, r.local_path);
}

// Whether the local row's file is where the row says (a row does not make
// a copy: a missing file is for `verify --repair`).
bool FilePresent(Instance& inst, const std::string& local_path) {
  if (local_path.empty()) return false;
  struct stat st;
  std::filesystem::path p = inst.archive().path_style().ToAbsolute(local_path);
  return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

int OpenReadOnly(const CommandLine& cl, Config* config, std::unique_ptr<Instance>* inst) {
  if (int rc = LoadConfigOrExplain(cl, config); rc != kExitOk) return rc;
  InitLogging(config->log_level);
  return OpenInstanceOrExplain(cl.command, *config, Instance::Access::kReadOnly, false, inst);
}

}  // namespace

int RunWhereis(const CommandLine& cl) {
  if (cl.query.empty()) {
    std::fprintf(stderr, "indafoto-syncd whereis: which image? Give a local id, a sha256 or a url (see --help)\n");
    return kExitUsage;
  }
  Config config;
  std::unique_ptr<Instance> inst;
  if (int rc = OpenReadOnly(cl, &config, &inst); rc != kExitOk) return rc;
  Holders holders(&inst->archive().db(), &inst->state());
  WhereIs w;
  std::vector<std::string> sources;
  Status s = holders.Sources(&sources);
  if (s.ok()) s = holders.Find(cl.query, &w);
  if (!s.ok()) {
    std::fprintf(stderr, "indafoto-syncd whereis: %s\n", s.ToString().c_str());
    return ExitCodeFor(s);
  }
  if (cl.json) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> j(buf);
    j.StartObject();
    j.Key("query");
    String(j, cl.query);
    j.Key("kind");
    j.String(KindName(w.kind));
    j.Key("archives");
    j.Int64(w.archives);
    j.Key("here");
    j.StartArray();
    for (const LocalImageRef& r : w.local) {
      j.StartObject();
      LocalImageMembers(j, r);
      j.Key("file_present");
      j.Bool(FilePresent(*inst, r.local_path));
      j.EndObject();
    }
    j.EndArray();
    j.Key("elsewhere");
    j.StartArray();
    for (const CatalogHolding& h : w.holdings) {
      j.StartObject();
      j.Key("archive");
      String(j, h.source);
      j.Key("path");
      String(j, h.rel_path);
      j.Key("sha256");
      NullableString(j, h.sha256);
      j.Key("matched_by");
      String(j, h.matched_by);
      j.EndObject();
    }
    j.EndArray();
    j.Key("catalogs_searched");
    j.StartArray();
    for (const std::string& src : sources) String(j, src);
    j.EndArray();
    j.EndObject();
    std::printf("%s\n", buf.GetString());
  } else {
    std::printf("%s %s: held by %lld known archive(s) (this one and %zu catalog(s) searched)\n", KindName(w.kind),
                EscapeControl(cl.query).c_str(), static_cast<long long>(w.archives), sources.size());
    if (w.local.empty()) std::printf("  this archive: no\n");
    for (const LocalImageRef& r : w.local)
      std::printf("  this archive: %s (id %lld, sha256 %s)%s\n", EscapeControl(r.local_path).c_str(),
                  static_cast<long long>(r.id), r.sha256.empty() ? "not recorded" : r.sha256.c_str(),
                  FilePresent(*inst, r.local_path) ? "" : " -- FILE MISSING (run `indafoto-syncd verify --repair`)");
    for (const CatalogHolding& h : w.holdings)
      std::printf("  %s: %s (by %s)\n", EscapeControl(h.source).c_str(), EscapeControl(h.rel_path).c_str(),
                  h.matched_by.c_str());
  }
  return w.archives > 0 ? kExitOk : kExitProblems;
}

int RunCopies(const CommandLine& cl) {
  Config config;
  std::unique_ptr<Instance> inst;
  if (int rc = OpenReadOnly(cl, &config, &inst); rc != kExitOk) return rc;
  Holders holders(&inst->archive().db(), &inst->state());
  std::vector<std::string> sources;
  if (Status s = holders.Sources(&sources); !s.ok()) {
    std::fprintf(stderr, "indafoto-syncd copies: %s\n", s.ToString().c_str());
    return ExitCodeFor(s);
  }
  CopiesOptions options;
  options.below = cl.below;
  // One statement over the state database ATTACHed to the archive's
  // connection: 0.7x the time of probing from here at 1M images and three
  // 1M catalogs (bench/README.md, "Holders"). Without a state file there is
  // no catalog: the stepwise path answers at once.
  std::error_code ec;
  options.attach = std::filesystem::exists(config.state_path, ec);
  options.state_path = config.state_path.string();
  CopiesReport report;
  Status s;
  // The listing is streamed: at 1M images held here alone it is long, and
  // nothing of it is kept in memory.
  if (cl.json) {
    char out_buf[65536];
    rapidjson::FileWriteStream os(stdout, out_buf, sizeof out_buf);
    rapidjson::Writer<rapidjson::FileWriteStream> j(os);
    j.StartObject();
    j.Key("below");
    j.Int64(cl.below);
    j.Key("catalogs");
    j.StartArray();
    for (const std::string& src : sources) String(j, src);
    j.EndArray();
    j.Key("images");
    j.StartArray();
    s = holders.Copies(
        options,
        [&](const LocalImageRef& img, int64_t n, const std::vector<std::string>& held_by) {
          j.StartObject();
          LocalImageMembers(j, img);
          j.Key("holders");
          j.Int64(n);
          j.Key("held_by");
          j.StartArray();
          for (const std::string& src : held_by) String(j, src);
          j.EndArray();
          j.EndObject();
        },
        &report);
    j.EndArray();
    j.Key("local_images");
    j.Int64(report.local_images);
    j.Key("by_holders");
    j.StartObject();
    for (const auto& [n, count] : report.by_holders) {
      std::string key = std::to_string(n);
      String(j, key);
      j.Int64(count);
    }
    j.EndObject();
    j.Key("by_catalog");
    j.StartObject();
    for (const auto& [src, count] : report.by_source) {
      String(j, src);
      j.Int64(count);
    }
    j.EndObject();
    j.Key("listed");
    j.Int64(report.listed);
    j.Key("complete");
    j.Bool(s.ok());
    j.EndObject();
    os.Put('\n');
    os.Flush();
  } else {
    if (cl.below > 1)
      std::printf("local images held by fewer than %lld archive(s) (id, holders, local_path, url):\n",
                  static_cast<long long>(cl.below));
    s = holders.Copies(
        options,
        [&](const LocalImageRef& img, int64_t n, const std::vector<std::string>&) {
          std::printf("  %lld\t%lld\t%s\t%s\n", static_cast<long long>(img.id), static_cast<long long>(n),
                      EscapeControl(img.local_path).c_str(), EscapeControl(img.url).c_str());
        },
        &report);
    if (s.ok()) {
      std::printf("%lld local image(s); known archives besides this one: %zu\n",
                  static_cast<long long>(report.local_images), sources.size());
      for (const auto& [n, count] : report.by_holders)
        std::printf("  held by %lld archive(s)%s: %lld\n", static_cast<long long>(n),
                    n == 1 ? " (here alone)" : "", static_cast<long long>(count));
      for (const auto& [src, count] : report.by_source)
        std::printf("  listed by %s: %lld\n", EscapeControl(src).c_str(), static_cast<long long>(count));
      std::printf("%lld image(s) held by fewer than %lld archive(s)\n", static_cast<long long>(report.listed),
                  static_cast<long long>(cl.below));
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "indafoto-syncd copies: %s\n", s.ToString().c_str());
    return ExitCodeFor(s);
  }
  return report.listed > 0 ? kExitProblems : kExitOk;
}

}  // namespace indafoto
