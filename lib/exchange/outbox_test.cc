#include "lib/exchange/outbox.h"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <fstream>
#include <random>
#include <set>

#include "lib/catalog/catalog.h"
#include "lib/exchange/exchange_ids.h"
#include "lib/util/sha256.h"
#include "testing/archive_checks.h"
#include "testing/child_process.h"
#include "testing/list_catalog_reader.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

std::string Sha(int i) {
  std::string s = std::to_string(i);
  return std::string(64 - s.size(), 'a') + s;
}

RemoteImage Img(int i, const std::string& author = "Kovács") {
  RemoteImage e;
  e.rel_path = author + "/0/image_" + std::to_string(i) + ".jpg";
  e.sha256 = Sha(i);
  e.Set("url", Value::Text("https://indafoto.hu/x/" + std::to_string(i)));
  e.Set("author", Value::Text(author));
  return e;
}

std::vector<RemoteImage> Imgs(int from, int to) {
  std::vector<RemoteImage> v;
  for (int i = from; i < to; ++i) v.push_back(Img(i));
  return v;
}

const Peer kBob{"bob", "BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB"};
const Peer kCarol{"carol", "CAROLLL-CAROLLL-CAROLLL-CAROLLL-CAROLLL-CAROLLL-CAROLLL-CAROLLL"};
const std::string kMe = "MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM";

struct Fixture {
  TempDir dir;
  Database db;
  CatalogStore catalog;
  OutboxStore outbox;
  int loads = 0;
  Fixture() {
    REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
    REQUIRE(CatalogStore::Open(&db, &catalog).ok());
    REQUIRE(OutboxStore::Open(&db, &outbox).ok());
  }
  void Load(const std::string& source, std::vector<RemoteImage> entries) {
    ListCatalogReader r("v" + std::to_string(++loads), std::move(entries));
    bool changed = false;
    REQUIRE(catalog.Load(source, r, &changed).ok());
  }
  OutboxChange Recompute(const Peer& to, std::vector<Peer> others = {}, int64_t now = 1000) {
    OutboxRequest r;
    r.self_device = kMe;
    r.receiver = to;
    r.others = std::move(others);
    r.now = now;
    r.fallback_seconds = 1800;
    OutboxChange c;
    REQUIRE(outbox.Recompute(r, &c).ok());
    return c;
  }
};

}  // namespace

TEST_CASE("the outbox holds what the peer lacks by sha256 and url, and drains as its catalog grows",
          "[exchange]") {
  Fixture f;
  f.Load(kSelfCatalog, Imgs(0, 10));
  // No catalog from bob yet: nothing is queued (it would be everything).
  OutboxChange c = f.Recompute(kBob);
  CHECK_FALSE(c.receiver_catalog);

  // Bob holds 0..6, and image 7 under another sha256 but the same url.
  std::vector<RemoteImage> bob = Imgs(0, 7);
  RemoteImage same_url = Img(7);
  same_url.sha256 = Sha(77);
  same_url.rel_path = "other/7.jpg";
  bob.push_back(same_url);
  f.Load("bob", bob);
  c = f.Recompute(kBob);
  CHECK(c.receiver_catalog);
  CHECK(c.candidates == 2);  // 8 and 9
  CHECK(c.queued == 2);

  // The files: hardlinks at the same relative paths.
  fs::path root = f.dir.path() / "archive", out = f.dir.path() / "to-bob";
  for (int i = 0; i < 10; ++i) {
    fs::create_directories((root / Img(i).rel_path).parent_path());
    std::ofstream(root / Img(i).rel_path) << "image " << i;
  }
  REQUIRE(f.outbox.SyncFiles("bob", root, out, &c).ok());
  CHECK(c.linked == 2);
  struct stat a, b;
  REQUIRE(::stat((root / Img(8).rel_path).c_str(), &a) == 0);
  REQUIRE(::stat((out / Img(8).rel_path).c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  CHECK_FALSE(fs::exists(out / Img(7).rel_path));
  OutboxStats st;
  REQUIRE(f.outbox.Stats("bob", &st).ok());
  CHECK(st.queued == 2);
  CHECK(st.sent == 0);

  // Bob imported 8: it leaves the outbox (sent); 9 stays.
  bob.push_back(Img(8));
  f.Load("bob", bob);
  c = f.Recompute(kBob);
  CHECK(c.queued == 1);
  CHECK(c.newly_sent == 1);
  REQUIRE(f.outbox.SyncFiles("bob", root, out, &c).ok());
  CHECK(c.unlinked == 1);
  CHECK_FALSE(fs::exists(out / Img(8).rel_path));
  CHECK(fs::exists(root / Img(8).rel_path));
  CHECK(fs::exists(out / Img(9).rel_path));
  REQUIRE(f.outbox.Stats("bob", &st).ok());
  CHECK(st.queued == 1);
  CHECK(st.sent == 1);

  // Bob loses 3 (disk died): it comes back.
  bob.erase(bob.begin() + 3);
  f.Load("bob", bob);
  c = f.Recompute(kBob);
  CHECK(c.queued == 2);
  REQUIRE(f.outbox.SyncFiles("bob", root, out, &c).ok());
  CHECK(fs::exists(out / Img(3).rel_path));
}

TEST_CASE("the outbox leaves out the authors the peer bans", "[exchange]") {
  Fixture f;
  f.Load(kSelfCatalog, {Img(1, "Anna"), Img(2, "Béla")});
  f.Load("bob", {});
  REQUIRE(f.outbox.SetPeerMembers("bob", {kMe}, {"Béla"}, "v").ok());
  OutboxChange c = f.Recompute(kBob);
  CHECK(c.candidates == 1);
  CHECK(f.outbox.PeerMembersFingerprint("bob") == "v");
}

TEST_CASE("in a mesh one holder sends each image; the others fall back after the timeout", "[exchange]") {
  int expect_mine = 0;
  for (int i = 0; i < 200; ++i)
    expect_mine += RendezvousScore(Sha(i), kMe, kBob.device_id) > RendezvousScore(Sha(i), kCarol.device_id, kBob.device_id);
  // Catalog ages come from SQLite's clock: use the real one.
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  Fixture g;
  g.Load(kSelfCatalog, Imgs(0, 200));
  g.Load("bob", {});  // bob lacks everything
  g.Load("carol", Imgs(0, 200));
  REQUIRE(g.outbox.SetPeerMembers("carol", {kBob.device_id, kMe}, {}, "c").ok());
  OutboxChange c = g.Recompute(kBob, {kBob, kCarol}, now);
  CHECK(c.candidates == 200);
  CHECK(c.queued == expect_mine);
  CHECK(c.deferred == 200 - expect_mine);
  CHECK(expect_mine > 50);
  CHECK(expect_mine < 150);
  // Carol not listing bob as a peer: she is not a holder for bob.
  REQUIRE(g.outbox.SetPeerMembers("carol", {kMe}, {}, "c2").ok());
  c = g.Recompute(kBob, {kBob, kCarol}, now);
  CHECK(c.queued == 200);
  // Back to competing: what is queued stays queued (no flapping)...
  REQUIRE(g.outbox.SetPeerMembers("carol", {kBob.device_id, kMe}, {}, "c3").ok());
  c = g.Recompute(kBob, {kBob, kCarol}, now);
  CHECK(c.queued == 200);
  // ...and in a fresh store, images missing longer than the fallback are
  // sent whoever ranks first.
  Fixture h;
  h.Load(kSelfCatalog, Imgs(0, 200));
  h.Load("bob", {});
  h.Load("carol", Imgs(0, 200));
  REQUIRE(h.outbox.SetPeerMembers("carol", {kBob.device_id, kMe}, {}, "c").ok());
  c = h.Recompute(kBob, {kBob, kCarol}, now);
  CHECK(c.queued == expect_mine);
  c = h.Recompute(kBob, {kBob, kCarol}, now + 1801);
  CHECK(c.queued == 200);
}

TEST_CASE("exchange folder ids are per direction and the same on both sides", "[exchange]") {
  CHECK(ExchangeFolderId(kMe, kBob.device_id) == ExchangeFolderId(kMe, kBob.device_id));
  CHECK(ExchangeFolderId(kMe, kBob.device_id) != ExchangeFolderId(kBob.device_id, kMe));
  CHECK(ExchangeFolderId(kMe, kBob.device_id).rfind("indafoto-x-", 0) == 0);
  CHECK(ExchangeFolderId(kMe, kBob.device_id).size() == 27);
}

}  // namespace indafoto

namespace indafoto {

TEST_CASE("a relayed copy makes no second sender, and nothing is queued before every peer's catalog is known",
          "[exchange]") {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                    .count();
  Fixture f;
  f.Load(kSelfCatalog, Imgs(0, 100));
  f.Load("bob", {});
  // Carol's catalog has not arrived: we do not know whether she holds
  // these too and ranks first, so we wait (until the fallback).
  OutboxChange c = f.Recompute(kBob, {kBob, kCarol}, now);
  CHECK(c.candidates == 100);
  CHECK(c.queued == 0);
  c = f.Recompute(kBob, {kBob, kCarol}, now + 1801);
  CHECK(c.queued == 100);

  // We got all 100 from carol, who exchanges with bob: she sends them to
  // bob herself (she knows she sent them to us), whoever ranks first.
  Fixture g;
  g.Load(kSelfCatalog, Imgs(0, 100));
  g.Load("bob", {});
  g.Load("carol", Imgs(0, 100));
  REQUIRE(g.outbox.SetPeerMembers("carol", {kBob.device_id, kMe}, {}, "c").ok());
  OutboxRequest r;
  r.self_device = kMe;
  r.receiver = kBob;
  r.others = {kBob, kCarol};
  r.now = now;
  r.relayed_from = [](const std::string& holder, const std::string&) { return holder == "carol"; };
  REQUIRE(g.outbox.Recompute(r, &c).ok());
  CHECK(c.candidates == 100);
  CHECK(c.queued == 0);
  r.relayed_from = nullptr;
  Fixture h;  // the same without the relay: about half each
  h.Load(kSelfCatalog, Imgs(0, 100));
  h.Load("bob", {});
  h.Load("carol", Imgs(0, 100));
  REQUIRE(h.outbox.SetPeerMembers("carol", {kBob.device_id, kMe}, {}, "c").ok());
  REQUIRE(h.outbox.Recompute(r, &c).ok());
  CHECK(c.queued > 20);
  CHECK(c.queued < 80);
}

TEST_CASE("what we sent to a peer does not make that peer a sender in our ranking", "[exchange]") {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                    .count();
  Fixture f;
  fs::path root = f.dir.path() / "archive";
  for (int i = 0; i < 100; ++i) {
    fs::create_directories((root / Img(i).rel_path).parent_path());
    std::ofstream(root / Img(i).rel_path) << "image " << i;
  }
  f.Load(kSelfCatalog, Imgs(0, 100));
  f.Load("bob", {});
  f.Load("carol", {});
  REQUIRE(f.outbox.SetPeerMembers("carol", {kBob.device_id, kMe}, {}, "c").ok());
  // Carol lacks all 100: we are the only holder, they go to her outbox.
  OutboxChange c = f.Recompute(kCarol, {kBob, kCarol}, now);
  CHECK(c.queued == 100);
  REQUIRE(f.outbox.SyncFiles("carol", root, f.dir.path() / "to-carol", &c).ok());
  CHECK(c.linked == 100);
  // Carol imported them and lists them; bob still lacks them. Carol ranks
  // first for some, but she got them from us: we send them all to bob.
  f.Load("carol", Imgs(0, 100));
  c = f.Recompute(kCarol, {kBob, kCarol}, now);
  CHECK(c.newly_sent == 100);
  c = f.Recompute(kBob, {kBob, kCarol}, now);
  CHECK(c.candidates == 100);
  CHECK(c.queued == 100);
}

}  // namespace indafoto

namespace indafoto {

TEST_CASE("a recompute with no catalog changed and nothing waiting is skipped", "[exchange]") {
  Fixture f;
  f.Load(kSelfCatalog, Imgs(0, 10));
  f.Load("bob", Imgs(0, 5));
  OutboxChange c = f.Recompute(kBob);
  CHECK_FALSE(c.unchanged);
  CHECK(c.queued == 5);
  c = f.Recompute(kBob);
  CHECK(c.unchanged);
  f.Load("bob", Imgs(0, 6));  // a new catalog generation
  c = f.Recompute(kBob);
  CHECK_FALSE(c.unchanged);
  CHECK(c.queued == 4);
  REQUIRE(f.outbox.SetPeerMembers("bob", {kMe}, {}, "m").ok());  // members count too
  c = f.Recompute(kBob);
  CHECK_FALSE(c.unchanged);
}

TEST_CASE("a peer no longer configured: its outbox links go, the archive keeps its files, its rows are dropped",
          "[exchange]") {
  Fixture f;
  f.Load(kSelfCatalog, Imgs(0, 6));
  f.Load("bob", Imgs(0, 2));  // bob lacks 2..5
  f.Load("carol", Imgs(0, 6));
  OutboxChange c = f.Recompute(kBob);
  REQUIRE(c.queued == 4);
  fs::path root = f.dir.path() / "archive", out = f.dir.path() / "to-bob";
  for (int i = 0; i < 6; ++i) {
    fs::create_directories((root / Img(i).rel_path).parent_path());
    std::ofstream(root / Img(i).rel_path) << "image " << i;
  }
  REQUIRE(f.outbox.SyncFiles("bob", root, out, &c).ok());
  REQUIRE(c.linked == 4);
  (void)f.Recompute(kCarol);
  std::vector<std::string> known;
  REQUIRE(f.outbox.KnownPeers(&known).ok());
  CHECK(known == std::vector<std::string>{"bob", "carol"});
  // Image 2's archive file was replaced since it was linked (another
  // inode): the link is then the only copy of those bytes, and stays.
  fs::remove(root / Img(2).rel_path);
  std::ofstream(root / Img(2).rel_path) << "image 2, rewritten";

  RetireCounts r;
  REQUIRE(f.outbox.Retire("bob", root, out, &r).ok());
  CHECK(r.links_removed == 3);
  CHECK(r.links_kept == 1);
  CHECK(r.rows == 4);
  CHECK(fs::exists(out / Img(2).rel_path));
  for (int i = 3; i < 6; ++i) {
    INFO(i);
    CHECK_FALSE(fs::exists(out / Img(i).rel_path));
    CHECK(fs::exists(root / Img(i).rel_path));  // the archive's copy
  }
  for (const char* table : {"syncd_outbox", "syncd_exchange_peers", "syncd_exchange_links", "syncd_exchange_banned",
                            "syncd_exchange_sent"}) {
    Statement q = f.db.Prepare(std::string("SELECT COUNT(*) FROM ") + table + " WHERE peer = 'bob'");
    REQUIRE(q.Step());
    INFO(table);
    CHECK(q.Int(0) == 0);
  }
  REQUIRE(f.outbox.KnownPeers(&known).ok());
  CHECK(known == std::vector<std::string>{"carol"});
  // Retiring again finds nothing to do.
  REQUIRE(f.outbox.Retire("bob", root, out, &r).ok());
  CHECK(r.links_removed + r.links_kept + r.rows == 0);
}

}  // namespace indafoto

namespace indafoto {
namespace {

// The rows of `peer`'s queue as Recompute leaves them: path, sha256,
// queued, missing_since (rows that left the candidates excluded).
std::vector<std::string> QueueRows(Database& db, const std::string& peer) {
  std::vector<std::string> rows;
  Statement q = db.Prepare(
      "SELECT rel_path, sha256, queued, linked, missing_since FROM syncd_outbox WHERE peer = ? AND pass != 0 "
      "ORDER BY rel_path");
  q.Bind(1, peer);
  while (q.Step())
    rows.push_back(q.Text(0) + " " + q.Text(1) + " q" + std::to_string(q.Int(2)) + " l" + std::to_string(q.Int(3)) +
                   " " + std::to_string(q.Int(4)));
  return rows;
}

}  // namespace

TEST_CASE("an incremental recompute decides exactly what a full one does", "[exchange]") {
  // Two stores fed the same catalogs step by step: one recomputes from the
  // catalogs' changes, the other from every local image. Images come and
  // go here, at the receiver (bob) and at another holder (carol, who also
  // exchanges with bob); time passes, so fallbacks expire.
  Fixture inc, full;
  for (Fixture* f : {&inc, &full})
    REQUIRE(f->outbox.SetPeerMembers("carol", {kBob.device_id, kMe}, {}, "c").ok());
  std::set<int> self, bob, carol;
  for (int i = 0; i < 300; ++i) {
    self.insert(i);
    if (i % 3 == 0) bob.insert(i);
    if (i % 4 == 0) carol.insert(i + 150);
  }
  auto images = [](const std::set<int>& ids) {
    std::vector<RemoteImage> v;
    for (int i : ids) v.push_back(Img(i));
    return v;
  };
  std::mt19937 rng(12345);
  auto churn = [&](std::set<int>& s, int adds, int removes) {
    for (int k = 0; k < adds; ++k) s.insert(static_cast<int>(rng() % 500));
    for (int k = 0; k < removes && !s.empty(); ++k) {
      auto it = s.lower_bound(static_cast<int>(rng() % 500));
      if (it == s.end()) it = s.begin();
      s.erase(it);
    }
  };
  int incremental_steps = 0;
  int64_t sent_inc = 0, sent_full = 0;
  for (int step = 0; step < 40; ++step) {
    if (step > 0) {
      int what = static_cast<int>(rng() % 3);
      if (what == 0) churn(self, 12, 5);
      if (what == 1) churn(bob, 20, 6);
      if (what == 2) churn(carol, 15, 5);
    }
    for (Fixture* f : {&inc, &full}) {
      // (Each Load gets a new fingerprint: an unchanged list still counts
      // as a load, as a republished manifest does.)
      f->Load(kSelfCatalog, images(self));
      f->Load("bob", images(bob));
      f->Load("carol", images(carol));
    }
    int64_t now = 1000 + step * 600;  // the 1800 s fallback expires after 3 steps
    OutboxRequest r;
    r.self_device = kMe;
    r.receiver = kBob;
    r.others = {kCarol};
    r.now = now;
    r.fallback_seconds = 1800;
    OutboxChange ci, cf;
    REQUIRE(inc.outbox.Recompute(r, &ci).ok());
    r.full = true;
    REQUIRE(full.outbox.Recompute(r, &cf).ok());
    CHECK_FALSE(cf.incremental);
    if (ci.incremental) ++incremental_steps;
    // Links follow the queue in both (real files; each store its own folder).
    for (Fixture* f : {&inc, &full}) {
      fs::path root = f->dir.path() / "archive";
      for (int i : self) {
        fs::path p = root / Img(i).rel_path;
        if (!fs::exists(p)) {
          fs::create_directories(p.parent_path());
          std::ofstream(p) << "image " << i;
        }
      }
      OutboxChange& c = f == &inc ? ci : cf;
      REQUIRE(f->outbox.SyncFiles("bob", root, f->dir.path() / "to-bob", &c).ok());
    }
    INFO("step " << step << ": incremental looked at " << ci.evaluated << " images, full at " << cf.evaluated);
    CHECK(QueueRows(inc.db, "bob") == QueueRows(full.db, "bob"));
    CHECK(ci.candidates == cf.candidates);
    CHECK(ci.queued == cf.queued);
    CHECK(ci.newly_sent == cf.newly_sent);
    CHECK(ListFiles(inc.dir.path() / "to-bob") == ListFiles(full.dir.path() / "to-bob"));
    sent_inc += ci.newly_sent;
    sent_full += cf.newly_sent;
    if (ci.incremental) CHECK(ci.evaluated < cf.evaluated);
  }
  CHECK(sent_inc == sent_full);
  CHECK(sent_inc > 0);
  CHECK(incremental_steps >= 35);  // the first recompute is full; the rest follow the changes
}

TEST_CASE("outbox links of archive files replaced by a repair are re-made; an edited or lost file's are kept",
          "[exchange]") {
  Fixture f;
  auto entry = [](const std::string& name, const std::string& content) {
    RemoteImage e;
    e.rel_path = "Kovács/0/" + name;
    e.sha256 = Sha256Hex(content);
    e.Set("url", Value::Text("https://indafoto.hu/x/" + name));
    e.Set("author", Value::Text("Kovács"));
    return e;
  };
  f.Load(kSelfCatalog, {entry("healed.jpg", "picture H"), entry("edited.jpg", "picture E"),
                        entry("lost.jpg", "picture L"), entry("kept.jpg", "picture K")});
  f.Load("bob", {Img(1000)});
  OutboxChange c = f.Recompute(kBob);
  REQUIRE(c.queued == 4);
  fs::path root = f.dir.path() / "archive", out = f.dir.path() / "to-bob";
  fs::create_directories(root / "Kovács" / "0");
  for (const auto& [name, content] : {std::pair{"healed.jpg", "picture H"}, std::pair{"edited.jpg", "picture E"},
                                      std::pair{"lost.jpg", "picture L"}, std::pair{"kept.jpg", "picture K"}})
    std::ofstream(root / "Kovács" / "0" / name) << content;
  REQUIRE(f.outbox.SyncFiles("bob", root, out, &c).ok());
  REQUIRE(c.linked == 4);
  int64_t relinked = -1;
  REQUIRE(f.outbox.RelinkReplaced("bob", root, out, &relinked).ok());
  CHECK(relinked == 0);  // nothing replaced yet

  // Bit rot in place (the link shows it too), then a repair: a new file
  // renamed over it. An operator's edit, renamed over the original. A
  // lost file.
  const fs::path dir = root / "Kovács" / "0";
  std::ofstream(dir / "healed.jpg", std::ios::in | std::ios::out) << "rot";
  std::ofstream(dir / "healed.jpg.tmp") << "picture H";
  fs::rename(dir / "healed.jpg.tmp", dir / "healed.jpg");
  std::ofstream(dir / "edited.jpg.tmp") << "picture E, cropped";
  fs::rename(dir / "edited.jpg.tmp", dir / "edited.jpg");
  fs::remove(dir / "lost.jpg");
  REQUIRE(ReadFile(out / "Kovács" / "0" / "healed.jpg") == "rotture H");

  REQUIRE(f.outbox.RelinkReplaced("bob", root, out, &relinked).ok());
  CHECK(relinked == 1);
  struct stat a, b;
  REQUIRE(::stat((dir / "healed.jpg").c_str(), &a) == 0);
  REQUIRE(::stat((out / "Kovács" / "0" / "healed.jpg").c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  CHECK(ReadFile(out / "Kovács" / "0" / "healed.jpg") == "picture H");
  CHECK(ReadFile(out / "Kovács" / "0" / "edited.jpg") == "picture E");  // the picture, not the edit
  CHECK(ReadFile(out / "Kovács" / "0" / "lost.jpg") == "picture L");    // maybe the last copy
  CHECK(ReadFile(out / "Kovács" / "0" / "kept.jpg") == "picture K");
  REQUIRE(f.outbox.RelinkReplaced("bob", root, out, &relinked).ok());
  CHECK(relinked == 0);
}

}  // namespace indafoto
