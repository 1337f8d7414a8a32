#include "lib/syncthing/syncthing_events.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <utility>

namespace indafoto {

namespace {

using rapidjson::Value;

struct TypeName {
  SyncthingEventType type;
  const char* name;
};

constexpr TypeName kTypeNames[] = {
    {SyncthingEventType::kItemFinished, "ItemFinished"},
};

// Field readers. A missing field leaves the target alone; a field of the
// wrong JSON type is an error, because it means we misunderstand the format
// and acting on a half-understood event is worse than skipping the batch.
class Reader {
 public:
  explicit Reader(std::string context) : context_(std::move(context)) {}

  bool String(const Value& obj, const char* key, std::string* out) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd()) return true;
    if (!it->value.IsString()) return Fail(key, "a string");
    out->assign(it->value.GetString(), it->value.GetStringLength());
    return true;
  }

  bool Int(const Value& obj, const char* key, int64_t* out) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd()) return true;
    if (!it->value.IsInt64()) return Fail(key, "an integer");
    *out = it->value.GetInt64();
    return true;
  }

  // null → nullopt; a string → that string.
  bool NullableString(const Value& obj, const char* key, std::optional<std::string>* out) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || it->value.IsNull()) {
      out->reset();
      return true;
    }
    if (!it->value.IsString()) return Fail(key, "null or a string");
    out->emplace(it->value.GetString(), it->value.GetStringLength());
    return true;
  }

  bool Fail(const char* key, const char* expected) {
    error_ = context_ + ": field \"" + key + "\" is not " + expected;
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  std::string context_;
  std::string error_;
};

bool ReadDbStatus(const Value& obj, Reader* r, SyncthingDbStatus* s) {
  return r->String(obj, "state", &s->state) && r->Int(obj, "globalFiles", &s->global_files) &&
         r->Int(obj, "localFiles", &s->local_files) && r->Int(obj, "needFiles", &s->need_files) &&
         r->Int(obj, "needTotalItems", &s->need_total_items);
}

// Reads the folder of any event, and the fields of an ItemFinished.
bool ReadData(const Value& data, Reader* r, SyncthingEvent* ev) {
  if (!r->String(data, "folder", &ev->folder)) return false;
  if (ev->type != SyncthingEventType::kItemFinished) return true;
  // Without a folder and an item the event is useless to an importer;
  // treat it as a format we do not understand.
  auto folder = data.FindMember("folder");
  auto item = data.FindMember("item");
  if (folder == data.MemberEnd() || item == data.MemberEnd())
    return r->Fail(folder == data.MemberEnd() ? "folder" : "item", "present");
  return r->String(data, "item", &ev->item) && r->String(data, "type", &ev->item_type) &&
         r->String(data, "action", &ev->action) && r->NullableString(data, "error", &ev->error);
}

Status ParseDocument(std::string_view json, rapidjson::Document* doc) {
  // Iterative parsing: nesting depth cannot exhaust the stack.
  doc->Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc->HasParseError()) {
    return Status::Corrupt(std::string("Syncthing sent malformed JSON: ") +
                           rapidjson::GetParseError_En(doc->GetParseError()) + " at offset " +
                           std::to_string(doc->GetErrorOffset()));
  }
  return Status::Ok();
}

}  // namespace

SyncthingEventType SyncthingEventTypeFromName(std::string_view name) {
  for (const TypeName& t : kTypeNames) {
    if (name == t.name) return t.type;
  }
  return SyncthingEventType::kUnknown;
}

Status ParseSyncthingEvents(std::string_view json, std::vector<SyncthingEvent>* out) {
  out->clear();
  rapidjson::Document doc;
  Status s = ParseDocument(json, &doc);
  if (!s.ok()) return s;
  // Syncthing answers a long-poll that saw nothing with "[]"; older versions
  // have been seen to send "null" in the same case.
  if (doc.IsNull()) return Status::Ok();
  if (!doc.IsArray()) return Status::Corrupt("Syncthing events: expected a JSON array");

  std::vector<SyncthingEvent> events;
  events.reserve(doc.Size());
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    const Value& e = doc[i];
    std::string context = "Syncthing event #" + std::to_string(i);
    if (!e.IsObject()) return Status::Corrupt(context + " is not an object");
    Reader r(context);
    SyncthingEvent ev;
    auto id = e.FindMember("id");
    auto type = e.FindMember("type");
    if (id == e.MemberEnd() || type == e.MemberEnd()) {
      return Status::Corrupt(context + " lacks \"id\" or \"type\"");
    }
    if (!r.Int(e, "id", &ev.id) || !r.Int(e, "globalID", &ev.global_id) ||
        !r.String(e, "type", &ev.type_name) || !r.String(e, "time", &ev.time)) {
      return Status::Corrupt(r.error());
    }
    ev.type = SyncthingEventTypeFromName(ev.type_name);
    auto data = e.FindMember("data");
    // Some event types carry no object (null, or a bare value): nothing to read.
    if (data != e.MemberEnd() && data->value.IsObject()) {
      Reader dr(context + " (" + ev.type_name + ") data");
      if (!ReadData(data->value, &dr, &ev)) return Status::Corrupt(dr.error());
    } else if (ev.type == SyncthingEventType::kItemFinished) {
      return Status::Corrupt(context + " (" + ev.type_name + ") has no data object");
    }
    events.push_back(std::move(ev));
  }
  *out = std::move(events);
  return Status::Ok();
}

Status ParseSyncthingDbStatus(std::string_view json, SyncthingDbStatus* out) {
  rapidjson::Document doc;
  Status s = ParseDocument(json, &doc);
  if (!s.ok()) return s;
  if (!doc.IsObject()) return Status::Corrupt("Syncthing db status: expected a JSON object");
  SyncthingDbStatus st;
  Reader r("Syncthing db status");
  if (!ReadDbStatus(doc, &r, &st)) return Status::Corrupt(r.error());
  *out = std::move(st);
  return Status::Ok();
}

}  // namespace indafoto
