#include "lib/archive/remote_image.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace indafoto {

namespace {

const Value kNull;

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteValue(Writer& w, const Value& v) {
  switch (v.type) {
    case Value::Type::kNull: w.Null(); break;
    case Value::Type::kInteger: w.Int64(v.integer); break;
    // JSON has no infinity (SQLite REAL has, e.g. 1e999), and rapidjson
    // writes nothing at all for one, breaking the whole record: null.
    case Value::Type::kReal:
      if (std::isfinite(v.real)) w.Double(v.real);
      else w.Null();
      break;
    case Value::Type::kText: w.String(v.text.data(), static_cast<rapidjson::SizeType>(v.text.size())); break;
  }
}

bool ReadValue(const rapidjson::Value& j, Value* out) {
  if (j.IsNull()) *out = Value::Null();
  else if (j.IsString()) *out = Value::Text(std::string(j.GetString(), j.GetStringLength()));
  else if (j.IsInt64()) *out = Value::Integer(j.GetInt64());
  else if (j.IsNumber()) *out = Value::Real(j.GetDouble());
  else if (j.IsBool()) *out = Value::Integer(j.GetBool() ? 1 : 0);
  else return false;
  return true;
}

template <typename Ref>
void WriteRef(Writer& w, const char* key_name, const std::string& key, const Ref& r) {
  w.StartObject();
  w.Key(key_name);
  w.String(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Key("title");
  WriteValue(w, r.title);
  w.Key("url");
  WriteValue(w, r.url);
  w.Key("is_public");
  WriteValue(w, r.is_public);
  w.EndObject();
}

template <typename Ref>
bool ReadRef(const rapidjson::Value& j, const char* key_name, std::string* key, Ref* r, std::string* error) {
  if (!j.IsObject() || !j.HasMember(key_name) || !j[key_name].IsString()) {
    *error = std::string("relation without string '") + key_name + "'";
    return false;
  }
  key->assign(j[key_name].GetString(), j[key_name].GetStringLength());
  for (auto [name, field] : {std::pair{"title", &r->title}, std::pair{"url", &r->url},
                             std::pair{"is_public", &r->is_public}}) {
    if (j.HasMember(name) && !ReadValue(j[name], field)) {
      *error = std::string("relation field '") + name + "' has a bad type";
      return false;
    }
  }
  return true;
}

// Parses `json` into `d` with exact numbers. rapidjson 1.1.0 converts
// numbers either fast but inexactly (a third of all doubles came back one
// unit in the last place off what its Writer wrote, so a REAL drifted on
// every hop through a catalog record or a manifest) or, with
// kParseFullPrecisionFlag, plainly wrong for some long integers
// (184467440737095516159 gave 1.7e-18). So it hands numbers over as text
// (kParseNumbersAsStringsFlag still checks their syntax) and they are
// converted here: integers with std::from_chars, others with strtod, which
// glibc rounds correctly (the process never leaves the "C" locale). A number
// too big for a double is an error, as rapidjson makes it. Iterative: a
// deeply nested document cannot overflow the stack.
class ExactNumberParser {
 public:
  explicit ExactNumberParser(std::string_view json) : json_(json) {}

  // Document::Populate's generator.
  bool operator()(rapidjson::Document& d) {
    doc_ = &d;
    rapidjson::MemoryStream ms(json_.data(), json_.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
    rapidjson::Reader reader;
    result_ = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(is, *this);
    return !result_.IsError();
  }
  bool failed() const { return result_.IsError(); }
  std::string Error() const {
    return std::string("bad JSON: ") +
           (too_big_ ? "Number too big to be stored in double." : rapidjson::GetParseError_En(result_.Code())) +
           " at offset " + std::to_string(result_.Offset());
  }

  // The SAX handler: everything but numbers goes to the document as is.
  bool Null() { return doc_->Null(); }
  bool Bool(bool b) { return doc_->Bool(b); }
  bool Int(int i) { return doc_->Int(i); }
  bool Uint(unsigned u) { return doc_->Uint(u); }
  bool Int64(int64_t i) { return doc_->Int64(i); }
  bool Uint64(uint64_t u) { return doc_->Uint64(u); }
  bool Double(double x) { return doc_->Double(x); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_->String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_->Key(s, n, copy); }
  bool StartObject() { return doc_->StartObject(); }
  bool EndObject(rapidjson::SizeType n) { return doc_->EndObject(n); }
  bool StartArray() { return doc_->StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return doc_->EndArray(n); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    const char* end = s + n;
    if (std::none_of(s, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; })) {
      int64_t i = 0;
      if (auto r = std::from_chars(s, end, i); r.ec == std::errc() && r.ptr == end) return doc_->Int64(i);
      uint64_t u = 0;
      if (auto r = std::from_chars(s, end, u); r.ec == std::errc() && r.ptr == end) return doc_->Uint64(u);
    }
    const std::string text(s, n);
    double x = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(x)) {
      too_big_ = true;
      return false;
    }
    return doc_->Double(x);
  }

 private:
  std::string_view json_;
  rapidjson::Document* doc_ = nullptr;
  rapidjson::ParseResult result_;
  bool too_big_ = false;
};

}  // namespace

const Value& RemoteImage::Get(std::string_view column) const {
  for (const auto& [name, value] : columns) {
    if (name == column) return value;
  }
  return kNull;
}

void RemoteImage::Set(std::string_view column, Value v) {
  for (auto& [name, value] : columns) {
    if (name == column) {
      value = std::move(v);
      return;
    }
  }
  columns.emplace_back(std::string(column), std::move(v));
}

std::string RemoteImageToJson(const RemoteImage& image) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("path");
  w.String(image.rel_path.data(), static_cast<rapidjson::SizeType>(image.rel_path.size()));
  w.Key("sha256");
  if (image.sha256.empty()) w.Null();
  else w.String(image.sha256.data(), static_cast<rapidjson::SizeType>(image.sha256.size()));
  w.Key("size");
  if (image.size < 0) w.Null();
  else w.Int64(image.size);
  w.Key("columns");
  w.StartObject();
  for (const auto& [name, value] : image.columns) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    WriteValue(w, value);
  }
  w.EndObject();
  w.Key("tags");
  w.StartArray();
  for (const auto& t : image.tags) w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  w.EndArray();
  w.Key("albums");
  w.StartArray();
  for (const auto& a : image.albums) WriteRef(w, "album_id", a.album_id, a);
  w.EndArray();
  w.Key("collections");
  w.StartArray();
  for (const auto& c : image.collections) WriteRef(w, "collection_id", c.collection_id, c);
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

bool ParseRemoteImage(std::string_view json, RemoteImage* out, std::string* error) {
  rapidjson::Document d;
  ExactNumberParser parser(json);
  d.Populate(parser);
  if (parser.failed()) {
    *error = parser.Error();
    return false;
  }
  if (!d.IsObject()) {
    *error = "entry is not a JSON object";
    return false;
  }
  *out = RemoteImage();
  if (!d.HasMember("path") || !d["path"].IsString()) {
    *error = "entry without string 'path'";
    return false;
  }
  out->rel_path.assign(d["path"].GetString(), d["path"].GetStringLength());
  if (d.HasMember("sha256") && !d["sha256"].IsNull()) {
    if (!d["sha256"].IsString()) {
      *error = "'sha256' is not a string";
      return false;
    }
    out->sha256.assign(d["sha256"].GetString(), d["sha256"].GetStringLength());
  }
  if (d.HasMember("size") && !d["size"].IsNull()) {
    if (!d["size"].IsInt64()) {
      *error = "'size' is not an integer";
      return false;
    }
    out->size = d["size"].GetInt64();
  }
  if (d.HasMember("columns")) {
    if (!d["columns"].IsObject()) {
      *error = "'columns' is not an object";
      return false;
    }
    for (auto& m : d["columns"].GetObject()) {
      Value v;
      if (!ReadValue(m.value, &v)) {
        *error = std::string("column '") + m.name.GetString() + "' has a bad type";
        return false;
      }
      out->columns.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), std::move(v));
    }
  }
  if (d.HasMember("tags")) {
    if (!d["tags"].IsArray()) {
      *error = "'tags' is not an array";
      return false;
    }
    for (auto& t : d["tags"].GetArray()) {
      if (!t.IsString()) {
        *error = "a tag is not a string";
        return false;
      }
      out->tags.emplace_back(t.GetString(), t.GetStringLength());
    }
  }
  if (d.HasMember("albums")) {
    if (!d["albums"].IsArray()) {
      *error = "'albums' is not an array";
      return false;
    }
    for (auto& a : d["albums"].GetArray()) {
      AlbumRef ref;
      if (!ReadRef(a, "album_id", &ref.album_id, &ref, error)) return false;
      out->albums.push_back(std::move(ref));
    }
  }
  if (d.HasMember("collections")) {
    if (!d["collections"].IsArray()) {
      *error = "'collections' is not an array";
      return false;
    }
    for (auto& c : d["collections"].GetArray()) {
      CollectionRef ref;
      if (!ReadRef(c, "collection_id", &ref.collection_id, &ref, error)) return false;
      out->collections.push_back(std::move(ref));
    }
  }
  return true;
}

}  // namespace

Status RemoteImageFromJson(std::string_view json, RemoteImage* out) {
  std::string error;
  if (!ParseRemoteImage(json, out, &error)) return Status::Corrupt(error);
  return Status::Ok();
}

}  // namespace indafoto
