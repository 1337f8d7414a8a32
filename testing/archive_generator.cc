#include "testing/archive_generator.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "lib/archive/layout.h"
#include "lib/util/sha256.h"
#include "lib/util/sqlite.h"
#include "lib/util/unique_fd.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------
// Deterministic randomness. Every fact is a pure function of (seed, id, salt)
// so that facts of one id never depend on which other ids an archive holds.

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Mix(uint64_t seed, uint64_t id, uint64_t salt) {
  return SplitMix(SplitMix(SplitMix(seed) ^ id) ^ (salt * 0x2545f4914f6cdd1dULL));
}

// One independent stream per purpose, so adding a fact later does not
// change the existing ones.
enum Salt : uint64_t {
  kSaltAuthor = 1,
  kSaltUrlHash,
  kSaltUuidHi,
  kSaltUuidLo,
  kSaltTitle,
  kSaltLicense,
  kSaltCamera,
  kSaltExposure,
  kSaltDates,
  kSaltCrawlTime,
  kSaltDescription,
  kSaltTags,
  kSaltTagCount,
  kSaltAlbums,
  kSaltCollections,
  kSaltBytes,
  kSaltVariantBlank,
  kSaltVariantTime,
};

class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}
  uint64_t Next() { return SplitMix(state_++); }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  // In [0, n), skewed towards 0 like a popularity ranking.
  uint64_t Skewed(uint64_t n) {
    double u = static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0);
    auto i = static_cast<uint64_t>(static_cast<double>(n) * u * u);
    return i < n ? i : n - 1;
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------
// The universe's fixed vocabulary.

struct AuthorDef {
  const char* name;
  const char* user;  // the ASCII slug in indafoto urls
};

// Index 0 is the heavy author. "Nagy:Anna" and "Nagy?Anna" share the folder
// "Nagy_Anna", as two such crawler authors would; ".." must never become a
// path component; " Szabó Éva " keeps its spaces in the folder name.
constexpr AuthorDef kAuthors[] = {
    {"Kovács Péter", "kovacspeter"},
    {"Örs Ünőke", "orsunoke"},
    {"Nagy/Kis: Anna?", "nagykisanna"},
    {"a*b\"c<d>e|f\\g", "abcdefg"},
    {"..", "dotdot"},
    {" Szabó Éva ", "szaboeva"},
    {"Nagy:Anna", "nagyanna"},
    {"Nagy?Anna", "nagyanna2"},
    {"Fotós 📷 Gergő", "fotosgergo"},
    {"Tóth Gábor", "tothgabor"},
    {"Horváth-Lakatos Zsófia", "hlzsofia"},
    {"Fekete Ödön", "feketeodon"},
    {"Kiss Ágnes", "kissagnes"},
    {"Molnár Bence", "molnarbence"},
    {"Varga Réka", "vargareka"},
    {"Farkas István", "farkasistvan"},
    {"Balogh Dóra", "baloghdora"},
    {"Papp Zoltán", "pappzoltan"},
    {"Juhász Márton", "juhaszmarton"},
    {"photo_user_42", "photo_user_42"},
};
constexpr size_t kAuthorCount = sizeof(kAuthors) / sizeof(kAuthors[0]);
constexpr int kAlbumsPerAuthor = 3;

// Tags that break naive quoting, splitting, LIKE patterns, paths and
// encodings. Every image carries one of them.
constexpr const char* kAwkwardTags[] = {
    "Kati's kertje",
    "\"idézőjel\"",
    "say \"cheese\"",
    "egy, kettő, három",
    "O'Brien",
    "Robert'); DROP TABLE tags;--",
    "100%_igaz",
    "back\\slash",
    "árvíztűrő tükörfúrógép",
    "ŐŰőű",
    "🌅 naplemente",
    "😀",
    "🇭🇺",
    "👨‍👩‍👧 család",
    "日本",
    "Zürich",
    "Ñandú",
    "a/b",
    "..",
    "*",
    "<b>félkövér</b>",
    "pont;vessző",
    "dupla  szóköz",
    "Ünnep & \"Béke\", 'idézet'",
};
constexpr size_t kAwkwardTagCount = sizeof(kAwkwardTags) / sizeof(kAwkwardTags[0]);

constexpr const char* kTagWords[] = {
    "balaton", "budapest", "naplemente", "tél", "nyár", "ősz", "tavasz", "hó", "eső",
    "felhő", "tó", "folyó", "duna", "tisza", "hegy", "erdő", "fa", "virág", "rózsa",
    "tulipán", "pipacs", "macska", "kutya", "ló", "madár", "gólya", "kacsa", "hattyú",
    "pillangó", "méh", "templom", "vár", "híd", "lánchíd", "parlament", "utca", "város",
    "falu", "tanya", "vonat", "villamos", "busz", "autó", "hajó", "repülő", "ember",
    "portré", "gyerek", "család", "esküvő", "ünnep", "karácsony", "húsvét", "szilveszter",
    "tűzijáték", "koncert", "fesztivál", "sport", "foci", "étel", "gulyás", "lángos", "bor",
    "sör", "makró", "fekete-fehér", "hdr", "panoráma", "éjszaka", "hajnal", "tükröződés",
    "árnyék", "fény", "színes", "absztrakt", "régi", "nosztalgia", "romok", "graffiti",
    "piac", "Tihany", "Eger", "Szeged", "Pécs",
};
constexpr size_t kTagWordCount = sizeof(kTagWords) / sizeof(kTagWords[0]);
constexpr size_t kVocabularySize = 200;

constexpr const char* kTitles[] = {
    "Naplemente a Balatonnál",
    "\"Csendes\" reggel",
    "Kati's garden",
    "Őszi fények, 2013",
    "Duna / Budapest",
    "Cím nélkül",
    "Tükör: <visszaverődés>",
    "😀 Nyári emlék",
    "Untitled",
    "100% természet",
    "Hó & jég",
    "Árvíztűrő tükörfúrógép",
};

constexpr const char* kDescriptions[] = {
    "Készült egy hideg téli reggelen.",
    "Második sor következik.\nItt a második sor, 'egyszeres' és \"kétszeres\" idézőjelekkel.",
    "Ez a kép a \"Legszebb naplementék\" pályázatra készült; köszönöm a szavazatokat!",
    "Canon 50mm f/1.8 – kézből, állvány nélkül 📷",
    "A bal oldalon a Lánchíd, jobbra a Parlament.",
    "Description in English, with a comma, a semicolon; and 50% more text.",
};

constexpr const char* kLicenses[] = {
    "CC BY 2.5 HU", "CC BY-SA 2.5 HU", "CC BY-NC 2.5 HU",
    "CC BY-ND 2.5 HU", "CC BY-NC-SA 2.5 HU", "CC BY-NC-ND 2.5 HU",
};

struct CameraDef {
  const char* make;
  const char* model;
};
constexpr CameraDef kCameras[] = {
    {"Canon", "EOS 5D Mark II"},          {"Canon", "EOS 450D"},
    {"Canon", "PowerShot G12"},           {"NIKON CORPORATION", "NIKON D90"},
    {"NIKON CORPORATION", "NIKON D7000"}, {"SONY", "DSC-RX100"},
    {"SONY", "ILCE-7M3"},                 {"Apple", "iPhone SE (2nd generation)"},
    {"FUJIFILM", "X-T2"},                 {"OLYMPUS IMAGING CORP.", "E-M10"},
    {"Panasonic", "DMC-FZ50"},
};

constexpr int kFocalLengths[] = {18, 24, 35, 50, 85, 105, 200, 4};
constexpr const char* kApertures[] = {"f/1.8", "f/2.8", "f/4.0", "f/5.6", "f/8.0", "f/11"};
constexpr const char* kShutterSpeeds[] = {"1/60 s", "1/125 s", "1/250 s", "1/1000 s", "1/30 s", "2 s"};

constexpr const char* kAlbumTitles[] = {
    "Balaton 2013", "Nyár \"22\"", "Kati's birthday", "Családi, vegyes",
    "Utazás: Róma / Párizs", "Őszi séta 🍂", "Régi képek (szkennelt)", "Misc",
    "Budapest éjjel", "50% kész", "Hó & jég", "<script>alert(1)</script>",
};

constexpr const char* kCollectionTitles[] = {
    "Legszebb naplementék", "Budapest éjjel", "A hét képei – 2014/12", "Fekete-fehér",
    "\"Az év fotója\" jelöltek", "Kati's picks", "Állatok, növények", "Makró 🐞",
};
constexpr int kCollectionCount = 24;

template <typename T, size_t N>
constexpr size_t Count(const T (&)[N]) {
  return N;
}

// The crawl of the universe happened from this instant on (2025-01-15 UTC),
// a few seconds per image in id order.
constexpr int64_t kCrawlEpoch = 1736899200;

// ---------------------------------------------------------------------------
// Formatting helpers.

std::string FormatTime(int64_t t, const char* fmt) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

std::string Hex(uint64_t v, int digits) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[v & 15];
    v >>= 4;
  }
  return out;
}

// The crawler's file name timestamp: datetime.now().strftime("%Y%m%d_%H%M%S_%f").
std::string CrawlTimestamp(int64_t seconds, int64_t micros) {
  char micro[8];
  std::snprintf(micro, sizeof micro, "%06d", static_cast<int>(micros));
  return FormatTime(seconds, "%Y%m%d_%H%M%S_") + micro;
}

size_t ColumnIndex(std::string_view name) {
  for (size_t i = 0; i < kImageColumns.size(); ++i) {
    if (kImageColumns[i] == name) return i;
  }
  return kImageColumns.size();
}

const AuthorDef& AuthorFor(int64_t id, uint64_t seed) {
  if (id >= 1 && static_cast<uint64_t>(id) <= kAuthorCount) return kAuthors[id - 1];
  Rng rng(Mix(seed, static_cast<uint64_t>(id), kSaltAuthor));
  if (rng.Below(100) < 40) return kAuthors[0];
  return kAuthors[1 + rng.Skewed(kAuthorCount - 1)];
}

size_t AuthorIndex(const AuthorDef& a) { return static_cast<size_t>(&a - kAuthors); }

int64_t TagCount(size_t vocabulary_index, uint64_t seed) {
  return 1 + static_cast<int64_t>(Mix(seed, vocabulary_index, kSaltTagCount) % 20000);
}

AlbumFacts AlbumAt(size_t author_index, int k) {
  size_t a = author_index * kAlbumsPerAuthor + static_cast<size_t>(k);
  AlbumFacts album;
  album.album_id = std::to_string(700001 + a);
  album.title = kAlbumTitles[a % Count(kAlbumTitles)];
  album.url = std::string("https://indafoto.hu/") + kAuthors[author_index].user + "/album/" +
              album.album_id;
  album.is_public = (a % 4) != 3;
  return album;
}

CollectionFacts CollectionAt(int c) {
  CollectionFacts col;
  col.collection_id = std::to_string(900001 + c);
  col.title = kCollectionTitles[static_cast<size_t>(c) % Count(kCollectionTitles)];
  if (c >= static_cast<int>(Count(kCollectionTitles)))
    col.title += " " + std::to_string(c / static_cast<int>(Count(kCollectionTitles)) + 1);
  col.url = "https://indafoto.hu/gyujtemeny/" + col.collection_id;
  col.is_public = (c % 5) != 4;
  return col;
}

int64_t ClampSize(int64_t file_size) { return file_size < kMinFileSize ? kMinFileSize : file_size; }

void FillFacts(int64_t id, uint64_t seed, int64_t file_size, ImageFacts* f, std::string* bytes) {
  const uint64_t uid = static_cast<uint64_t>(id);
  const AuthorDef& author = AuthorFor(id, seed);
  f->indafoto_id = id;
  f->author = author.name;
  f->author_folder = AuthorFolderName(f->author);

  const std::string user = author.user;
  f->url = "https://indafoto.hu/" + user + "/image/" + std::to_string(id) + "-" +
           Hex(Mix(seed, uid, kSaltUrlHash), 8);
  uint64_t hi = Mix(seed, uid, kSaltUuidHi), lo = Mix(seed, uid, kSaltUuidLo);
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                        // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  std::string h = Hex(hi, 16), l = Hex(lo, 16);
  f->uuid = h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + l.substr(0, 4) +
            "-" + l.substr(4);

  Rng crawl(Mix(seed, uid, kSaltCrawlTime));
  int64_t crawled = kCrawlEpoch + id * 3 + static_cast<int64_t>(crawl.Below(3));
  f->timestamp = CrawlTimestamp(crawled, static_cast<int64_t>(crawl.Below(1000000)));
  f->file_name = "image_" + std::to_string(id) + "_" + f->timestamp + ".jpg";

  *bytes = FileBytesFor(id, seed, file_size);
  f->file_size = static_cast<int64_t>(bytes->size());
  f->sha256 = Sha256Hex(*bytes);

  Rng title(Mix(seed, uid, kSaltTitle));
  Rng camera(Mix(seed, uid, kSaltCamera));
  Rng exposure(Mix(seed, uid, kSaltExposure));
  Rng dates(Mix(seed, uid, kSaltDates));
  Rng desc(Mix(seed, uid, kSaltDescription));
  const CameraDef& cam = kCameras[camera.Below(Count(kCameras))];
  // Uploaded sometime 2006..2024; taken up to a month earlier. The crawler
  // stores "YYYY-MM-DD HH:MM", or only the date when the page had no time.
  int64_t uploaded = 1136073600 + static_cast<int64_t>(dates.Below(19ULL * 365 * 86400));
  int64_t taken = uploaded - static_cast<int64_t>(dates.Below(30ULL * 86400));
  bool date_only = dates.Below(5) == 0;

  auto set = [f](std::string_view col, Value v) { f->MutableColumn(col) = std::move(v); };
  set("uuid", Value::Text(f->uuid));
  set("url", Value::Text(f->url));
  set("title", Value::Text(kTitles[title.Below(Count(kTitles))]));
  set("author", Value::Text(f->author));
  set("author_url", Value::Text("https://indafoto.hu/" + user));
  set("license", Value::Text(kLicenses[Mix(seed, uid, kSaltLicense) % Count(kLicenses)]));
  set("camera_make", Value::Text(cam.make));
  set("focal_length",
      Value::Text(std::to_string(kFocalLengths[exposure.Below(Count(kFocalLengths))]) + " mm"));
  set("aperture", Value::Text(kApertures[exposure.Below(Count(kApertures))]));
  set("shutter_speed", Value::Text(kShutterSpeeds[exposure.Below(Count(kShutterSpeeds))]));
  set("taken_date", Value::Text(FormatTime(taken, date_only ? "%Y-%m-%d" : "%Y-%m-%d %H:%M")));
  set("page_url", Value::Text(f->url + "/user"));
  // One in ten pages had no description at all.
  set("description", desc.Below(10) == 0
                         ? Value::Null()
                         : Value::Text(kDescriptions[desc.Below(Count(kDescriptions))]));
  set("camera_model", Value::Text(cam.model));
  set("sha256_hash", Value::Text(f->sha256));
  set("upload_date", Value::Text(FormatTime(uploaded, "%Y-%m-%d %H:%M")));
  set("metadata_updated", Value::Text(FormatTime(crawled, "%Y-%m-%d %H:%M:%S")));

  // One awkward tag, then 2..7 popular-first ordinary ones, all distinct.
  const std::vector<std::string>& vocabulary = TagVocabulary();
  Rng tags(Mix(seed, uid, kSaltTags));
  std::vector<size_t> picked = {static_cast<size_t>(tags.Below(kAwkwardTagCount))};
  size_t want = 3 + static_cast<size_t>(tags.Below(6));
  for (int attempts = 0; picked.size() < want && attempts < 64; ++attempts) {
    size_t i = kAwkwardTagCount + tags.Skewed(vocabulary.size() - kAwkwardTagCount);
    bool seen = false;
    for (size_t p : picked) seen = seen || p == i;
    if (!seen) picked.push_back(i);
  }
  f->tags.clear();
  for (size_t i : picked) f->tags.push_back(TagFacts{vocabulary[i], TagCount(i, seed)});

  // Albums belong to the author; collections are site-wide, so both are
  // shared by many images.
  Rng albums(Mix(seed, uid, kSaltAlbums));
  f->albums.clear();
  uint64_t a_roll = albums.Below(100);
  int k = static_cast<int>(albums.Below(kAlbumsPerAuthor));
  if (a_roll < 60) f->albums.push_back(AlbumAt(AuthorIndex(author), k));
  if (a_roll < 12) f->albums.push_back(AlbumAt(AuthorIndex(author), (k + 1) % kAlbumsPerAuthor));

  Rng cols(Mix(seed, uid, kSaltCollections));
  f->collections.clear();
  uint64_t c_roll = cols.Below(100);
  int c = static_cast<int>(cols.Skewed(kCollectionCount));
  if (c_roll < 35) f->collections.push_back(CollectionAt(c));
  if (c_roll < 8) f->collections.push_back(CollectionAt((c + 1) % kCollectionCount));
}

// ---------------------------------------------------------------------------
// Writing archives.

// Internal failure carrying the Status to return at the module edge.
struct GenError {
  Status status;
};

void WriteFile(const fs::path& path, const std::string& bytes) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) throw GenError{Status::FromErrno(errno, "create " + path.string())};
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw GenError{Status::FromErrno(errno, "write " + path.string())};
    }
    done += static_cast<size_t>(n);
  }
  // close() is left to UniqueFd: on local filesystems write() has already
  // reported ENOSPC, and a generator need not survive a power cut.
}

const char* const kOldImagesTableSql = R"sql(
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT UNIQUE,
    url TEXT,
    local_path TEXT,
    title TEXT,
    author TEXT,
    author_url TEXT,
    license TEXT,
    camera_make TEXT,
    focal_length TEXT,
    aperture TEXT,
    shutter_speed TEXT,
    taken_date TEXT,
    page_url TEXT
);
)sql";

// Places images and records their rows in one open archive. Callers own
// the transactions.
class ArchiveWriter {
 public:
  // `recount_each_file`: count the author's folder on disk before every
  // file, as the crawler does (AppendImages, where others may add files
  // meanwhile); otherwise count once per author and advance in memory,
  // which also works when no files are written.
  ArchiveWriter(Database* db, const fs::path& dir, bool recount_each_file)
      : db_(db),
        dir_(dir),
        image_root_(dir / "indafoto_archive"),
        counter_(image_root_),
        recount_each_file_(recount_each_file) {
    std::string columns = "local_path", params = "?";
    for (size_t i = 0; i < kImageColumns.size(); ++i) {
      std::string name(kImageColumns[i]);
      if (!db_->HasColumn("images", name)) continue;
      present_.push_back(i);
      columns += ", " + name;
      params += ", ?";
    }
    // Column names come from kImageColumns, never from data.
    insert_image_ = db_->Prepare("INSERT INTO images (" + columns + ") VALUES (" + params + ")");
    url_exists_ = db_->Prepare("SELECT 1 FROM images WHERE url = ? LIMIT 1");
    insert_tag_ = db_->Prepare("INSERT OR IGNORE INTO tags (name, count) VALUES (?, ?)");
    select_tag_ = db_->Prepare("SELECT id FROM tags WHERE name = ?");
    insert_image_tag_ = db_->Prepare("INSERT OR IGNORE INTO image_tags (image_id, tag_id) VALUES (?, ?)");
    insert_album_ = db_->Prepare(
        "INSERT OR IGNORE INTO albums (album_id, title, url, is_public) VALUES (?, ?, ?, ?)");
    select_album_ = db_->Prepare("SELECT id FROM albums WHERE album_id = ?");
    insert_image_album_ =
        db_->Prepare("INSERT OR IGNORE INTO image_albums (image_id, album_id) VALUES (?, ?)");
    insert_collection_ = db_->Prepare(
        "INSERT OR IGNORE INTO collections (collection_id, title, url, is_public) VALUES (?, ?, ?, ?)");
    select_collection_ = db_->Prepare("SELECT id FROM collections WHERE collection_id = ?");
    insert_image_collection_ = db_->Prepare(
        "INSERT OR IGNORE INTO image_collections (image_id, collection_id) VALUES (?, ?)");
  }

  bool HasSha256Column() const {
    for (size_t i : present_)
      if (kImageColumns[i] == "sha256_hash") return true;
    return false;
  }

  bool UrlExists(const std::string& url) {
    url_exists_.Bind(1, url);
    bool found = url_exists_.Step();
    url_exists_.Reset();
    return found;
  }

  // Decides the file's place by the layout rules and, when `bytes` is
  // given, writes it (through a temporary name when `via_temp`).
  std::string PlaceFile(const ImageFacts& f, const std::string* bytes, bool via_temp,
                        GeneratedArchive* out) {
    // Appends count what is on disk, like the crawler; a bulk generation
    // (maybe without files) counts once per author and then keeps score.
    int64_t existing;
    if (recount_each_file_) {
      existing = counter_.Count(f.author_folder);
    } else {
      auto it = planned_.find(f.author_folder);
      if (it == planned_.end()) it = planned_.emplace(f.author_folder, counter_.Count(f.author_folder)).first;
      existing = it->second++;
    }
    int64_t n = SubfolderFor(existing);
    std::string rel_dir = "indafoto_archive/" + f.author_folder + "/" + std::to_string(n);
    std::string local_path = rel_dir + "/" + f.file_name;
    if (bytes) {
      if (made_dirs_.insert(rel_dir).second) {
        std::error_code ec;
        fs::create_directories(dir_ / rel_dir, ec);
        if (ec) throw GenError{Status::FromErrno(ec.value(), "mkdir " + (dir_ / rel_dir).string())};
      }
      fs::path target = dir_ / local_path;
      if (via_temp) {
        fs::path temp = target;
        temp += ".tmp";
        WriteFile(temp, *bytes);
        if (::rename(temp.c_str(), target.c_str()) != 0)
          throw GenError{Status::FromErrno(errno, "rename " + temp.string())};
      } else {
        WriteFile(target, *bytes);
      }
      out->files_written++;
      out->bytes_written += static_cast<int64_t>(bytes->size());
    }
    return local_path;
  }

  // Inserts the row and its relations; returns images.id.
  int64_t InsertRow(const ImageFacts& f, const std::string& local_path, bool store_sha) {
    insert_image_.Bind(1, local_path);
    int param = 2;
    for (size_t i : present_) {
      if (kImageColumns[i] == "sha256_hash" && !store_sha)
        insert_image_.BindNull(param++);
      else
        insert_image_.Bind(param++, f.columns[i]);
    }
    insert_image_.Run();
    int64_t image_id = db_->LastInsertRowid();
    for (const TagFacts& t : f.tags) {
      int64_t tag_id = KeyedId(&tag_ids_, t.name, insert_tag_, select_tag_, [&](Statement& s) {
        s.Bind(1, t.name).Bind(2, t.count);
      });
      insert_image_tag_.Bind(1, image_id).Bind(2, tag_id).Run();
    }
    for (const AlbumFacts& a : f.albums) {
      int64_t id = KeyedId(&album_ids_, a.album_id, insert_album_, select_album_, [&](Statement& s) {
        s.Bind(1, a.album_id).Bind(2, a.title).Bind(3, a.url).Bind(4, a.is_public ? 1 : 0);
      });
      insert_image_album_.Bind(1, image_id).Bind(2, id).Run();
    }
    for (const CollectionFacts& c : f.collections) {
      int64_t id = KeyedId(&collection_ids_, c.collection_id, insert_collection_, select_collection_,
                           [&](Statement& s) {
                             s.Bind(1, c.collection_id).Bind(2, c.title).Bind(3, c.url).Bind(
                                 4, c.is_public ? 1 : 0);
                           });
      insert_image_collection_.Bind(1, image_id).Bind(2, id).Run();
    }
    return image_id;
  }

 private:
  // The local id of a natural key: cached, else inserted (the crawler's
  // INSERT OR IGNORE), else looked up because it already existed.
  template <typename BindInsert>
  int64_t KeyedId(std::unordered_map<std::string, int64_t>* cache, const std::string& key,
                  Statement& insert, Statement& select, BindInsert bind_insert) {
    auto it = cache->find(key);
    if (it != cache->end()) return it->second;
    bind_insert(insert);
    insert.Run();
    int64_t id;
    if (db_->Changes() > 0) {
      id = db_->LastInsertRowid();
    } else {
      select.Bind(1, key);
      if (!select.Step()) throw SqliteError(SQLITE_INTERNAL, "natural key vanished: " + key);
      id = select.Int(0);
      select.Reset();
    }
    cache->emplace(key, id);
    return id;
  }

  Database* db_;
  fs::path dir_;
  fs::path image_root_;
  AuthorFileCounter counter_;
  std::map<std::string, int64_t> planned_;  // bulk: files per author folder so far
  bool recount_each_file_;
  std::unordered_set<std::string> made_dirs_;
  std::vector<size_t> present_;  // indexes into kImageColumns present in `images`
  Statement insert_image_, url_exists_;
  Statement insert_tag_, select_tag_, insert_image_tag_;
  Statement insert_album_, select_album_, insert_image_album_;
  Statement insert_collection_, select_collection_, insert_image_collection_;
  std::unordered_map<std::string, int64_t> tag_ids_, album_ids_, collection_ids_;
};

Status ValidateSpec(const ArchiveSpec& spec) {
  if (spec.dir.empty()) return Status::Invalid("archive dir is empty");
  if (spec.file_size < kMinFileSize)
    return Status::Invalid("file size " + std::to_string(spec.file_size) + " is below the minimum " +
                           std::to_string(kMinFileSize));
  if (spec.batch_size <= 0) return Status::Invalid("batch size must be positive");
  if (spec.null_sha_every < 0) return Status::Invalid("null_sha_every must not be negative");
  if (spec.blank_percent < 0 || spec.blank_percent > 100)
    return Status::Invalid("blank_percent must be within 0..100");
  std::unordered_set<int64_t> seen;
  seen.reserve(spec.ids.size());
  for (int64_t id : spec.ids) {
    if (id <= 0) return Status::Invalid("indafoto id must be positive: " + std::to_string(id));
    if (!seen.insert(id).second) return Status::Invalid("duplicate indafoto id " + std::to_string(id));
  }
  return Status::Ok();
}

Status OpenArchiveDb(const fs::path& path, Database::Mode mode, Database* db) {
  // Generous busy timeout: a daemon under test may hold the write lock.
  return Database::Open(path.string(), mode, 10000, db);
}

}  // namespace

// ---------------------------------------------------------------------------
// Facts.

const Value& ImageFacts::Column(std::string_view name) const {
  static const Value kNull;
  size_t i = ColumnIndex(name);
  return i < columns.size() ? columns[i] : kNull;
}

Value& ImageFacts::MutableColumn(std::string_view name) {
  size_t i = ColumnIndex(name);
  if (i >= columns.size()) throw std::out_of_range("not an image column: " + std::string(name));
  return columns[i];
}

const std::vector<std::string>& UniverseAuthors() {
  static const std::vector<std::string> authors = [] {
    std::vector<std::string> v;
    for (const AuthorDef& a : kAuthors) v.emplace_back(a.name);
    return v;
  }();
  return authors;
}

const std::vector<std::string>& TagVocabulary() {
  static const std::vector<std::string> vocabulary = [] {
    std::vector<std::string> v(std::begin(kAwkwardTags), std::end(kAwkwardTags));
    v.insert(v.end(), std::begin(kTagWords), std::end(kTagWords));
    // Fill up with "<word> <year>": distinct because lcm(words, 15) exceeds
    // the number needed.
    for (size_t i = 0; v.size() < kVocabularySize; ++i)
      v.push_back(std::string(kTagWords[i % kTagWordCount]) + " " + std::to_string(2006 + i % 15));
    return v;
  }();
  return vocabulary;
}

std::vector<int64_t> IdRange(int64_t first, int64_t last) {
  std::vector<int64_t> ids;
  if (last < first) return ids;
  ids.reserve(static_cast<size_t>(last - first + 1));
  for (int64_t id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

std::string FileBytesFor(int64_t indafoto_id, uint64_t universe_seed, int64_t file_size,
                         uint32_t alteration) {
  std::string comment = "indafoto-gen " + std::to_string(universe_seed) + ":" +
                        std::to_string(indafoto_id);
  if (alteration != 0) comment += " altered " + std::to_string(alteration);
  // SOI, then a COM segment (its length counts itself, not the marker).
  std::string out = "\xFF\xD8\xFF\xFE";
  size_t seg = comment.size() + 2;
  out += static_cast<char>((seg >> 8) & 0xff);
  out += static_cast<char>(seg & 0xff);
  out += comment;
  size_t size = static_cast<size_t>(ClampSize(file_size));
  if (size < out.size() + 2) size = out.size() + 2;
  size_t pos = out.size(), fill_end = size - 2;
  out.resize(size);
  // Eight bytes per step: this runs over every byte of a million-image
  // benchmark archive. (Byte order is the host's; all our hosts are
  // little-endian, and only equality between runs matters.)
  Rng rng(Mix(universe_seed, static_cast<uint64_t>(indafoto_id), kSaltBytes + alteration * 131));
  for (; pos + 8 <= fill_end; pos += 8) {
    uint64_t r = rng.Next();
    std::memcpy(&out[pos], &r, 8);
  }
  for (uint64_t r = rng.Next(); pos < fill_end; ++pos, r >>= 8) out[pos] = static_cast<char>(r & 0xff);
  out[size - 2] = '\xFF';
  out[size - 1] = '\xD9';
  return out;
}

ImageFacts FactsFor(int64_t indafoto_id, uint64_t universe_seed, int64_t file_size) {
  ImageFacts f;
  std::string bytes;
  FillFacts(indafoto_id, universe_seed, file_size, &f, &bytes);
  return f;
}

ImageFacts ArchiveView(const ImageFacts& canonical, uint64_t universe_seed, uint32_t variant,
                       int blank_percent) {
  if (variant == 0) return canonical;
  ImageFacts v = canonical;
  const uint64_t id = static_cast<uint64_t>(canonical.indafoto_id);
  if (v.tags.size() >= 2) {
    size_t drop = static_cast<size_t>((id + variant) % v.tags.size());
    v.tags.erase(v.tags.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  Rng blank(Mix(universe_seed ^ (uint64_t{variant} << 32), id, kSaltVariantBlank));
  if (blank.Below(100) < static_cast<uint64_t>(blank_percent)) {
    auto blanked = [&blank] { return blank.Below(2) == 0 ? Value::Null() : Value::Text(""); };
    v.MutableColumn("description") = blanked();
    if (blank.Below(2) == 0) v.MutableColumn("camera_model") = blanked();
    if (blank.Below(4) == 0) v.MutableColumn("focal_length") = blanked();
  }
  // This crawler fetched the file at its own time, days apart.
  Rng when(Mix(universe_seed ^ (uint64_t{variant} << 32), id, kSaltVariantTime));
  int64_t crawled = kCrawlEpoch + canonical.indafoto_id * 3 + int64_t{variant} * 3 * 86400 +
                    static_cast<int64_t>(when.Below(3600));
  v.timestamp = CrawlTimestamp(crawled, static_cast<int64_t>(when.Below(1000000)));
  v.file_name = "image_" + std::to_string(canonical.indafoto_id) + "_" + v.timestamp + ".jpg";
  return v;
}

// ---------------------------------------------------------------------------
// Archives.

Status GenerateArchive(const ArchiveSpec& spec, GeneratedArchive* out) {
  Status s = ValidateSpec(spec);
  if (!s.ok()) return s;
  GeneratedArchive local;
  GeneratedArchive* result = out ? out : &local;
  *result = GeneratedArchive();
  result->dir = spec.dir;
  result->database = spec.dir / "indafoto.db";
  result->image_root = spec.dir / "indafoto_archive";

  std::error_code ec;
  if (fs::exists(result->database, ec))
    return Status::Invalid(result->database.string() +
                           " already exists (add images with AppendImages / indafoto-gen append)");
  fs::create_directories(result->image_root, ec);
  if (ec) return Status::FromErrno(ec.value(), "mkdir " + result->image_root.string());

  try {
    Database db;
    s = OpenArchiveDb(result->database, Database::Mode::kReadWriteCreate, &db);
    if (!s.ok()) return s;
    // A generator's output is rebuilt, not recovered: bulk-load with an
    // in-memory rollback journal and no fsyncs (a WAL would write every page
    // twice), then leave the database in WAL mode like the crawler's.
    db.Exec("PRAGMA journal_mode=MEMORY");
    db.Exec("PRAGMA synchronous=OFF");
    db.Exec("PRAGMA cache_size=-65536");
    if (spec.old_schema) db.Exec(kOldImagesTableSql);
    db.Exec(kCrawlerSchemaSql);

    ArchiveWriter writer(&db, spec.dir, /*recount_each_file=*/false);
    const bool has_sha = writer.HasSha256Column();
    {
      Transaction txn(db);
      Statement ban = db.Prepare(
          "INSERT OR IGNORE INTO banned_authors (author, reason, banned_date, banned_by) "
          "VALUES (?, ?, ?, ?)");
      for (const std::string& author : spec.banned_authors) {
        ban.Bind(1, author).Bind(2, "opt-out request (generated)").Bind(3, "2025-02-01 12:00:00")
            .Bind(4, "indafoto-gen").Run();
      }
      txn.Commit();
    }

    ImageFacts canonical;
    std::string bytes;
    size_t pos = 0;
    while (pos < spec.ids.size()) {
      Transaction txn(db);
      size_t end = std::min(spec.ids.size(), pos + static_cast<size_t>(spec.batch_size));
      for (; pos < end; ++pos) {
        int64_t id = spec.ids[pos];
        FillFacts(id, spec.universe_seed, spec.file_size, &canonical, &bytes);
        ImageFacts f = ArchiveView(canonical, spec.universe_seed, spec.variant, spec.blank_percent);
        if (spec.altered_ids.count(id)) {
          bytes = FileBytesFor(id, spec.universe_seed, spec.file_size, spec.variant + 1);
          f.sha256 = Sha256Hex(bytes);
          f.file_size = static_cast<int64_t>(bytes.size());
          f.MutableColumn("sha256_hash") = Value::Text(f.sha256);
        }
        bool store_sha = has_sha && !(spec.null_sha_every > 0 &&
                                      (pos + 1) % static_cast<size_t>(spec.null_sha_every) == 0);
        std::string local_path =
            writer.PlaceFile(f, spec.write_files ? &bytes : nullptr, /*via_temp=*/false, result);
        int64_t row_id = writer.InsertRow(f, local_path, store_sha);
        result->images_added++;
        if (spec.record_images)
          result->images.push_back(
              GeneratedImage{id, row_id, std::move(local_path), f.sha256, store_sha, f.file_size});
      }
      txn.Commit();
    }
    db.Exec("PRAGMA journal_mode=WAL");
  } catch (const SqliteError& e) {
    return e.ToStatus();
  } catch (const GenError& e) {
    return e.status;
  } catch (const fs::filesystem_error& e) {
    return Status::FromErrno(e.code().value(), e.what());
  }
  return Status::Ok();
}

Status MakePairSpecs(const fs::path& dir_a, const fs::path& dir_b, const PairOptions& o,
                     ArchiveSpec* a, ArchiveSpec* b) {
  if (o.a_count < 0 || o.b_count < 0 || o.overlap < 0)
    return Status::Invalid("pair counts must not be negative");
  if (o.overlap > o.a_count || o.overlap > o.b_count)
    return Status::Invalid("overlap " + std::to_string(o.overlap) +
                           " exceeds a side (a_count " + std::to_string(o.a_count) +
                           ", b_count " + std::to_string(o.b_count) + ")");
  if (o.first_id <= 0) return Status::Invalid("first id must be positive");
  if (dir_a == dir_b) return Status::Invalid("the two archives need different directories");
  for (ArchiveSpec* spec : {a, b}) {
    *spec = ArchiveSpec();
    spec->universe_seed = o.universe_seed;
    spec->file_size = o.file_size;
    spec->write_files = o.write_files;
    spec->null_sha_every = o.null_sha_every;
  }
  a->dir = dir_a;
  a->variant = 1;
  a->ids = IdRange(o.first_id, o.first_id + o.a_count - 1);
  a->banned_authors = o.a_banned_authors;
  int64_t b_first = o.first_id + o.a_count - o.overlap;
  b->dir = dir_b;
  b->variant = 2;
  b->ids = IdRange(b_first, b_first + o.b_count - 1);
  b->old_schema = o.b_old_schema;
  b->banned_authors = o.b_banned_authors;
  return Status::Ok();
}

Status GeneratePair(const fs::path& dir_a, const fs::path& dir_b, const PairOptions& options,
                    GeneratedArchive* a, GeneratedArchive* b) {
  ArchiveSpec spec_a, spec_b;
  Status s = MakePairSpecs(dir_a, dir_b, options, &spec_a, &spec_b);
  if (!s.ok()) return s;
  s = GenerateArchive(spec_a, a);
  if (!s.ok()) return s;
  return GenerateArchive(spec_b, b);
}

Status AppendImages(const fs::path& archive_dir, const std::vector<int64_t>& ids,
                    uint64_t universe_seed) {
  AppendOptions options;
  options.universe_seed = universe_seed;
  return AppendImages(archive_dir, ids, options, nullptr);
}

Status AppendImages(const fs::path& archive_dir, const std::vector<int64_t>& ids,
                    const AppendOptions& options, GeneratedArchive* out) {
  if (options.file_size < kMinFileSize)
    return Status::Invalid("file size " + std::to_string(options.file_size) +
                           " is below the minimum " + std::to_string(kMinFileSize));
  if (options.blank_percent < 0 || options.blank_percent > 100)
    return Status::Invalid("blank_percent must be within 0..100");
  for (int64_t id : ids)
    if (id <= 0) return Status::Invalid("indafoto id must be positive: " + std::to_string(id));
  GeneratedArchive local;
  GeneratedArchive* result = out ? out : &local;
  *result = GeneratedArchive();
  result->dir = archive_dir;
  result->database = archive_dir / "indafoto.db";
  result->image_root = archive_dir / "indafoto_archive";

  try {
    Database db;
    Status s = OpenArchiveDb(result->database, Database::Mode::kReadWrite, &db);
    if (!s.ok()) return s;
    if (!db.HasTable("images"))
      return Status::Invalid(result->database.string() + " has no images table");
    ArchiveWriter writer(&db, archive_dir, /*recount_each_file=*/true);
    const bool has_sha = writer.HasSha256Column();
    ImageFacts canonical;
    std::string bytes;
    bool first = true;
    for (int64_t id : ids) {
      FillFacts(id, options.universe_seed, options.file_size, &canonical, &bytes);
      if (writer.UrlExists(canonical.url)) {
        result->images_skipped++;
        continue;
      }
      if (!first && options.delay.count() > 0) std::this_thread::sleep_for(options.delay);
      first = false;
      ImageFacts f = ArchiveView(canonical, options.universe_seed, options.variant,
                                 options.blank_percent);
      // The crawler downloads first and records the row afterwards.
      std::string local_path = writer.PlaceFile(f, &bytes, /*via_temp=*/true, result);
      Transaction txn(db);
      int64_t row_id = writer.InsertRow(f, local_path, has_sha);
      txn.Commit();
      result->images_added++;
      result->images.push_back(
          GeneratedImage{id, row_id, std::move(local_path), f.sha256, has_sha, f.file_size});
    }
  } catch (const SqliteError& e) {
    return e.ToStatus();
  } catch (const GenError& e) {
    return e.status;
  } catch (const fs::filesystem_error& e) {
    return Status::FromErrno(e.code().value(), e.what());
  }
  return Status::Ok();
}

}  // namespace indafoto
