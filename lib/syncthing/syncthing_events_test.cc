#include "lib/syncthing/syncthing_events.h"

#include <catch2/catch.hpp>
#include <string>

#include "lib/syncthing/syncthing_client.h"

namespace indafoto {

namespace {

// Captured from Syncthing 1.19.2 (receive-only folder "sf" on device B,
// send-only on A): a delivery of a directory and two files, then a deletion,
// then a file that cannot replace a local directory of the same name.
const char kDelivery[] = R"json([
  {
    "id": 1,
    "globalID": 8,
    "time": "2026-11-25T10:16:13.066985119Z",
    "type": "DeviceConnected",
    "data": {
      "addr": "127.0.0.1:28385",
      "clientName": "syncthing",
      "clientVersion": "v1.19.2-ds1",
      "deviceName": "vm",
      "id": "WUO3UHC-ACU3FWS-IBBAZYC-D7OVVWS-AU72IUT-U4QO56S-7ZAVCGW-GKCQNA3",
      "type": "tcp-client"
    }
  },
  {
    "id": 2,
    "globalID": 13,
    "time": "2026-11-25T10:16:13.126915041Z",
    "type": "StateChanged",
    "data": {"folder": "sf", "from": "idle", "to": "scan-waiting"}
  },
  {
    "id": 3,
    "globalID": 14,
    "time": "2026-11-25T10:16:13.126942533Z",
    "type": "StateChanged",
    "data": {"duration": 0.126942042, "folder": "sf", "from": "scan-waiting", "to": "scanning"}
  },
  {
    "id": 4,
    "globalID": 15,
    "time": "2026-11-25T10:16:13.127459662Z",
    "type": "RemoteIndexUpdated",
    "data": {
      "device": "WUO3UHC-ACU3FWS-IBBAZYC-D7OVVWS-AU72IUT-U4QO56S-7ZAVCGW-GKCQNA3",
      "folder": "sf",
      "items": 3,
      "sequence": 3,
      "version": 3
    }
  },
  {
    "id": 8,
    "globalID": 19,
    "time": "2026-11-25T10:16:13.129305313Z",
    "type": "ItemStarted",
    "data": {"action": "update", "folder": "sf", "item": "sub", "type": "dir"}
  },
  {
    "id": 9,
    "globalID": 20,
    "time": "2026-11-25T10:16:13.129635488Z",
    "type": "ItemFinished",
    "data": {"action": "update", "error": null, "folder": "sf", "item": "sub", "type": "dir"}
  },
  {
    "id": 13,
    "globalID": 24,
    "time": "2026-11-25T10:16:13.132450173Z",
    "type": "ItemFinished",
    "data": {"action": "update", "error": null, "folder": "sf", "item": "a.txt", "type": "file"}
  },
  {
    "id": 14,
    "globalID": 25,
    "time": "2026-11-25T10:16:13.133814714Z",
    "type": "ItemFinished",
    "data": {"action": "update", "error": null, "folder": "sf", "item": "sub/b.jpg", "type": "file"}
  },
  {
    "id": 15,
    "globalID": 26,
    "time": "2026-11-25T10:16:13.134535798Z",
    "type": "LocalIndexUpdated",
    "data": {"filenames": ["sub", "a.txt", "sub/b.jpg"], "folder": "sf", "items": 3, "sequence": 3, "version": 3}
  },
  {
    "id": 19,
    "globalID": 33,
    "time": "2026-11-25T10:16:13.134922149Z",
    "type": "FolderCompletion",
    "data": {
      "completion": 100,
      "device": "WUO3UHC-ACU3FWS-IBBAZYC-D7OVVWS-AU72IUT-U4QO56S-7ZAVCGW-GKCQNA3",
      "folder": "sf",
      "globalBytes": 140,
      "globalItems": 3,
      "needBytes": 0,
      "needDeletes": 0,
      "needItems": 0,
      "sequence": 3
    }
  },
  {
    "id": 40,
    "globalID": 55,
    "time": "2026-11-25T10:16:34.799289103Z",
    "type": "ItemFinished",
    "data": {
      "action": "update",
      "error": "file modified but not rescanned; will try again later",
      "folder": "sf",
      "item": "c.jpg",
      "type": "file"
    }
  },
  {
    "id": 42,
    "globalID": 57,
    "time": "2026-11-25T10:16:34.799710852Z",
    "type": "ItemFinished",
    "data": {"action": "delete", "error": null, "folder": "sf", "item": "a.txt", "type": "file"}
  },
  {
    "id": 57,
    "globalID": 74,
    "time": "2026-11-25T10:16:34.806558096Z",
    "type": "FolderSummary",
    "data": {
      "folder": "sf",
      "summary": {
        "errors": 0, "globalBytes": 137, "globalDeleted": 1, "globalDirectories": 1,
        "globalFiles": 2, "globalSymlinks": 0, "globalTotalItems": 4, "ignorePatterns": false,
        "inSyncBytes": 134, "inSyncFiles": 1, "invalid": "", "localBytes": 392,
        "localDeleted": 1, "localDirectories": 3, "localFiles": 2, "localSymlinks": 0,
        "localTotalItems": 6, "needBytes": 3, "needDeletes": 0, "needDirectories": 0,
        "needFiles": 1, "needSymlinks": 0, "needTotalItems": 1, "pullErrors": 0,
        "receiveOnlyChangedBytes": 258, "receiveOnlyChangedDeletes": 0,
        "receiveOnlyChangedDirectories": 2, "receiveOnlyChangedFiles": 1,
        "receiveOnlyChangedSymlinks": 0, "receiveOnlyTotalItems": 3, "sequence": 7,
        "state": "sync-preparing", "stateChanged": "2026-11-25T10:16:34Z", "version": 7
      }
    }
  },
  {
    "id": 59,
    "globalID": 76,
    "time": "2026-11-25T10:16:34.807967332Z",
    "type": "ItemFinished",
    "data": {
      "action": "update",
      "error": "removing item to be replaced: remove /tmp/stgen/fb/c.jpg: directory not empty",
      "folder": "sf",
      "item": "c.jpg",
      "type": "file"
    }
  },
  {
    "id": 60,
    "globalID": 2,
    "time": "2026-11-25T10:15:43.495179426Z",
    "type": "ListenAddressesChanged",
    "data": {"address": {"Scheme": "tcp", "Host": "127.0.0.1:28385", "User": null}, "lan": [], "wan": []}
  },
  {
    "id": 61,
    "globalID": 90,
    "time": "2026-11-25T10:16:40.000000000Z",
    "type": "FolderErrors",
    "data": {"folder": "sf", "errors": [{"path": "c.jpg", "error": "directory not empty"}]}
  },
  {
    "id": 62,
    "globalID": 91,
    "time": "2026-11-25T10:16:41.000000000Z",
    "type": "StateChanged",
    "data": {"folder": "sf", "from": "scanning", "to": "error", "error": "folder marker missing"}
  }
])json";

}  // namespace

TEST_CASE("ParseSyncthingEvents reads a captured delivery", "[syncthing]") {
  std::vector<SyncthingEvent> ev;
  REQUIRE(ParseSyncthingEvents(kDelivery, &ev).ok());
  REQUIRE(ev.size() == 17);

  // Other types keep their name, ids, time and folder, nothing else.
  CHECK(ev[0].type == SyncthingEventType::kUnknown);
  CHECK(ev[0].type_name == "DeviceConnected");
  CHECK(ev[0].folder.empty());

  CHECK(ev[2].id == 3);
  CHECK(ev[2].global_id == 14);
  CHECK(ev[2].type_name == "StateChanged");
  CHECK(ev[2].folder == "sf");
  CHECK(ev[2].time == "2026-11-25T10:16:13.126942533Z");

  // A directory: finished, but not a received file.
  CHECK(ev[4].type_name == "ItemStarted");
  CHECK_FALSE(ev[4].IsItemFinished());
  CHECK(ev[5].IsItemFinished());
  CHECK(ev[5].item_type == "dir");
  CHECK_FALSE(ev[5].IsFileReceived());

  CHECK(ev[6].IsFileReceived());
  CHECK(ev[6].item == "a.txt");
  CHECK_FALSE(ev[6].error.has_value());
  CHECK(ev[7].IsFileReceived());
  CHECK(ev[7].item == "sub/b.jpg");
  CHECK(ev[7].folder == "sf");
  CHECK(ev[7].action == "update");
}

TEST_CASE("ParseSyncthingEvents keeps errors, deletions and unknown types", "[syncthing]") {
  std::vector<SyncthingEvent> ev;
  REQUIRE(ParseSyncthingEvents(kDelivery, &ev).ok());
  REQUIRE(ev.size() == 17);

  const SyncthingEvent& failed = ev[10];
  CHECK(failed.IsItemFinished());
  REQUIRE(failed.error.has_value());
  CHECK(*failed.error == "file modified but not rescanned; will try again later");
  CHECK_FALSE(failed.IsFileReceived());

  const SyncthingEvent& deleted = ev[11];
  CHECK(deleted.IsItemFinished());
  CHECK(deleted.action == "delete");
  CHECK_FALSE(deleted.error.has_value());
  CHECK_FALSE(deleted.IsFileReceived());

  CHECK(ev[12].type_name == "FolderSummary");
  CHECK(ev[12].folder == "sf");

  CHECK(ev[13].error.value_or("") ==
        "removing item to be replaced: remove /tmp/stgen/fb/c.jpg: directory not empty");

  const SyncthingEvent& unknown = ev[14];
  CHECK(unknown.type == SyncthingEventType::kUnknown);
  CHECK(unknown.type_name == "ListenAddressesChanged");
  CHECK(unknown.id == 60);
}

TEST_CASE("ParseSyncthingEvents accepts empty answers", "[syncthing]") {
  std::vector<SyncthingEvent> ev(3);
  CHECK(ParseSyncthingEvents("[]", &ev).ok());
  CHECK(ev.empty());
  CHECK(ParseSyncthingEvents("null", &ev).ok());
  CHECK(ev.empty());
  CHECK(ParseSyncthingEvents(R"([{"id":1,"globalID":1,"type":"Ping","data":null}])", &ev).ok());
  CHECK(ev.size() == 1);
  CHECK(ParseSyncthingEvents(R"([{"id":2,"type":"ConfigSaved","data":"x"}])", &ev).ok());
  CHECK(ev[0].type == SyncthingEventType::kUnknown);
  CHECK(ev[0].type_name == "ConfigSaved");
}

TEST_CASE("ParseSyncthingEvents rejects malformed input as Corrupt", "[syncthing]") {
  const char* bad[] = {
      "",
      "[",
      "{\"id\": 1}",
      "[1, 2]",
      "[{\"type\": \"ItemFinished\"}]",
      "[{\"id\": \"1\", \"type\": \"ItemFinished\", \"data\": {}}]",
      "[{\"id\": 1.5, \"type\": \"StateChanged\"}]",
      "[{\"id\": 1, \"type\": 7}]",
      "[{\"id\": 1, \"type\": \"ItemFinished\"}]",
      "[{\"id\": 1, \"type\": \"ItemFinished\", \"data\": {\"folder\": \"f\"}}]",
      "[{\"id\": 1, \"type\": \"ItemFinished\", \"data\": {\"folder\": \"f\", \"item\": 3}}]",
      "[{\"id\": 1, \"type\": \"ItemFinished\", \"data\": {\"folder\": \"f\", \"item\": \"x\", \"error\": "
      "1}}]",
      "[{\"id\": 1, \"type\": \"StateChanged\", \"data\": {\"folder\": [\"f\"]}}]",
      "[{\"id\": 1, \"type\": \"StateChanged\"}] trailing",
  };
  for (const char* json : bad) {
    INFO(json);
    std::vector<SyncthingEvent> ev(1);
    Status s = ParseSyncthingEvents(json, &ev);
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK(ev.empty());
  }
  // Deep nesting must not exhaust the stack.
  std::string deep(200000, '[');
  std::vector<SyncthingEvent> ev;
  CHECK(ParseSyncthingEvents(deep, &ev).code() == Status::Code::kCorrupt);
  // Nor may a truncated capture crash.
  std::string full = kDelivery;
  for (size_t cut = 0; cut < full.size(); cut += 97) {
    CHECK_FALSE(ParseSyncthingEvents(std::string_view(full).substr(0, cut), &ev).ok());
  }
}

TEST_CASE("ParseSyncthingDbStatus reads /rest/db/status", "[syncthing]") {
  SyncthingDbStatus st;
  REQUIRE(ParseSyncthingDbStatus(R"({"errors":0,"globalBytes":140,"globalDeleted":0,"globalDirectories":1,
    "globalFiles":2,"globalTotalItems":3,"inSyncBytes":140,"inSyncFiles":2,"invalid":"","localBytes":140,
    "localFiles":2,"localTotalItems":3,"needBytes":0,"needDeletes":0,"needFiles":0,"needTotalItems":0,
    "pullErrors":0,"receiveOnlyChangedFiles":0,"receiveOnlyTotalItems":0,"sequence":3,"state":"idle",
    "stateChanged":"2026-11-25T10:16:13Z","version":3})",
                                 &st)
              .ok());
  CHECK(st.state == "idle");
  CHECK(st.global_files == 2);
  CHECK(st.local_files == 2);
  CHECK(st.need_files == 0);
  CHECK(st.need_total_items == 0);
  CHECK(ParseSyncthingDbStatus("[]", &st).code() == Status::Code::kCorrupt);
  CHECK(ParseSyncthingDbStatus("{\"state\": 1}", &st).code() == Status::Code::kCorrupt);
  CHECK(ParseSyncthingDbStatus("no such folder", &st).code() == Status::Code::kCorrupt);
}

TEST_CASE("Syncthing folder config round-trips through JSON", "[syncthing]") {
  SyncthingFolder f;
  f.id = "indafoto-\"a\"";
  f.label = "Kovács";
  f.path = "/srv/a b";
  f.type = "receiveonly";
  f.device_ids = {"AAAAAAA-BBBBBBB", "CCCCCCC-DDDDDDD"};
  f.rescan_interval_s = 5;
  f.fs_watcher_delay_s = 1;
  SyncthingFolder back;
  REQUIRE(ParseSyncthingFolder(SyncthingFolderJson(f), &back).ok());
  CHECK(back.id == f.id);
  CHECK(back.label == f.label);
  CHECK(back.path == f.path);
  CHECK(back.type == f.type);
  CHECK(back.device_ids == f.device_ids);
  CHECK(back.rescan_interval_s == 5);
  CHECK(back.fs_watcher_delay_s == 1);
  CHECK(back.fs_watcher_enabled);

  std::vector<SyncthingFolder> all;
  REQUIRE(
      ParseSyncthingFolders("[" + SyncthingFolderJson(f) + "," + SyncthingFolderJson(f) + "]", &all).ok());
  CHECK(all.size() == 2);
  CHECK(ParseSyncthingFolders("{}", &all).code() == Status::Code::kCorrupt);
  CHECK(ParseSyncthingFolder(R"({"id":"x","devices":[{"deviceID":5}]})", &back).code() ==
        Status::Code::kCorrupt);
}

TEST_CASE("IsLoopbackHost and UrlEncode", "[syncthing]") {
  CHECK(IsLoopbackHost("127.0.0.1"));
  CHECK(IsLoopbackHost("127.3.2.1"));
  CHECK(IsLoopbackHost("::1"));
  CHECK(IsLoopbackHost("[::1]"));
  CHECK(IsLoopbackHost("::ffff:127.0.0.1"));
  CHECK(IsLoopbackHost("LocalHost"));
  CHECK_FALSE(IsLoopbackHost("128.0.0.1"));
  CHECK_FALSE(IsLoopbackHost("0.0.0.0"));
  CHECK_FALSE(IsLoopbackHost("localhost.example.com"));
  CHECK_FALSE(IsLoopbackHost("192.168.1.10"));
  CHECK_FALSE(IsLoopbackHost(""));
  CHECK(UrlEncode("abc-DEF_1.2~") == "abc-DEF_1.2~");
  CHECK(UrlEncode("a b/c&d=é") == "a%20b%2Fc%26d%3D%C3%A9");
}

}  // namespace indafoto
