// Sessions API (seed 000): every path, status code, field name and error string.

#include "api_fixture.hpp"

#include <sqlite3.h>

#include <regex>
#include <set>

namespace hark::api::test {
namespace {

using api_sessions = api_fixture;

std::set<std::string> keys_of(const json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) {
    keys.insert(key);
  }
  return keys;
}

TEST_F(api_sessions, list_is_empty_at_first) {
  const auto res = get("/api/sessions");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(body_json(res), json::parse(R"({"sessions":[]})"));
}

TEST_F(api_sessions, create_returns_201_with_the_seed_fields) {
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auto res = call(http::verb::post, "/api/sessions", R"({"name": "Login Flow Testing"})");
  ASSERT_EQ(res.result(), http::status::created);
  const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  const auto s = body_json(res);
  EXPECT_EQ(keys_of(s), (std::set<std::string>{"id", "name", "isActive", "isRecording", "createdAt",
                                               "updatedAt", "trafficCount", "totalBytes"}));
  EXPECT_TRUE(std::regex_match(s["id"].get<std::string>(), uuid_v4)) << s["id"];
  EXPECT_EQ(s["name"], "Login Flow Testing");
  EXPECT_EQ(s["isActive"], false);
  EXPECT_EQ(s["isRecording"], false);
  EXPECT_GE(s["createdAt"].get<std::int64_t>(), before);
  EXPECT_EQ(s["updatedAt"], s["createdAt"]);
  EXPECT_EQ(s["trafficCount"], 0);
  EXPECT_EQ(s["totalBytes"], 0);
  // Creating does not start recording anywhere.
  EXPECT_FALSE(recording_.target());
}

TEST_F(api_sessions, create_without_name_uses_the_date_time_default) {
  const std::regex default_name(R"(^Session \d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d{2}:\d{2} (AM|PM)$)");
  for (const std::string body : {"", "{}", R"({"name": ""})"}) {
    const auto res = call(http::verb::post, "/api/sessions", body);
    ASSERT_EQ(res.result(), http::status::created) << body;
    const auto name = body_json(res)["name"].get<std::string>();
    EXPECT_TRUE(std::regex_match(name, default_name)) << name;
  }
}

TEST_F(api_sessions, create_rejects_bad_bodies) {
  auto res = call(http::verb::post, "/api/sessions", R"({"name": 42})");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(error_of(res), "Field 'name' must be a string");
  res = call(http::verb::post, "/api/sessions", R"({"name": null})");
  EXPECT_EQ(error_of(res), "Field 'name' must be a string");
  for (const std::string body : {"{", "not json", "[1,2]", "\"name\"", "null", "42"}) {
    res = call(http::verb::post, "/api/sessions", body);
    EXPECT_EQ(res.result(), http::status::bad_request) << body;
    EXPECT_EQ(error_of(res), "Invalid JSON body") << body;
  }
  EXPECT_EQ(body_json(get("/api/sessions"))["sessions"].size(), 0u);
}

TEST_F(api_sessions, list_is_newest_first) {
  const auto first = create_session("first");
  const auto second = create_session("second");
  const auto third = create_session("third");
  const auto list = body_json(get("/api/sessions"))["sessions"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["id"], third["id"]);
  EXPECT_EQ(list[1]["id"], second["id"]);
  EXPECT_EQ(list[2]["id"], first["id"]);
  EXPECT_EQ(list[2], first);
}

TEST_F(api_sessions, get_by_id_and_unknown_id) {
  const auto s = create_session("one");
  const auto id = s["id"].get<std::string>();
  auto res = get("/api/sessions/" + id);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res), s);
  res = get("/api/sessions/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(body_json(res), json::parse(R"({"error":"Session not found"})"));
}

TEST_F(api_sessions, active_is_404_until_one_is_activated) {
  auto res = get("/api/sessions/active");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(body_json(res), json::parse(R"({"error":"No active session"})"));
  const auto id = create_session("work")["id"].get<std::string>();
  res = call(http::verb::post, "/api/sessions/" + id + "/activate");
  ASSERT_EQ(res.result(), http::status::ok);
  res = get("/api/sessions/active");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res)["id"], id);
}

TEST_F(api_sessions, activate_makes_one_session_active_and_recording) {
  const auto a = create_session("a")["id"].get<std::string>();
  const auto b = create_session("b")["id"].get<std::string>();
  auto res = call(http::verb::post, "/api/sessions/" + a + "/activate");
  ASSERT_EQ(res.result(), http::status::ok);
  auto s = body_json(res);
  EXPECT_EQ(s["id"], a);
  EXPECT_EQ(s["isActive"], true);
  EXPECT_EQ(s["isRecording"], true);
  EXPECT_EQ(recording_.target(), a);

  res = call(http::verb::post, "/api/sessions/" + b + "/activate");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(recording_.target(), b);
  s = body_json(get("/api/sessions/" + a));
  EXPECT_EQ(s["isActive"], false);
  EXPECT_EQ(s["isRecording"], false);
  int active = 0;
  const auto list = body_json(get("/api/sessions"));
  for (const auto& each : list["sessions"]) {
    active += each["isActive"].get<bool>() ? 1 : 0;
  }
  EXPECT_EQ(active, 1);

  res = call(http::verb::post, "/api/sessions/nope/activate");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Session not found");
  EXPECT_EQ(recording_.target(), b);
}

TEST_F(api_sessions, patch_renames_and_moves_updated_at) {
  const auto s = create_session("old");
  const auto id = s["id"].get<std::string>();
  const auto res = call(http::verb::patch, "/api/sessions/" + id, R"({"name": "Renamed Session"})");
  ASSERT_EQ(res.result(), http::status::ok);
  const auto updated = body_json(res);
  EXPECT_EQ(updated["name"], "Renamed Session");
  EXPECT_EQ(updated["id"], id);
  EXPECT_EQ(updated["createdAt"], s["createdAt"]);
  EXPECT_GE(updated["updatedAt"].get<std::int64_t>(), s["updatedAt"].get<std::int64_t>());
  EXPECT_EQ(body_json(get("/api/sessions/" + id))["name"], "Renamed Session");
}

TEST_F(api_sessions, patch_recording_and_active_update_the_recording_target) {
  const auto id = create_session("s")["id"].get<std::string>();
  // isActive: true behaves as activate.
  auto res = call(http::verb::patch, "/api/sessions/" + id, R"({"isActive": true})");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res)["isActive"], true);
  EXPECT_EQ(body_json(res)["isRecording"], true);
  EXPECT_EQ(recording_.target(), id);

  res = call(http::verb::patch, "/api/sessions/" + id, R"({"isRecording": false})");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res)["isRecording"], false);
  EXPECT_EQ(body_json(res)["isActive"], true);
  EXPECT_FALSE(recording_.target());

  res = call(http::verb::patch, "/api/sessions/" + id, R"({"isRecording": true})");
  EXPECT_EQ(body_json(res)["isRecording"], true);
  EXPECT_EQ(recording_.target(), id);

  res = call(http::verb::patch, "/api/sessions/" + id, R"({"isActive": false})");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res)["isActive"], false);
  EXPECT_FALSE(recording_.target());
  EXPECT_EQ(get("/api/sessions/active").result(), http::status::not_found);
}

TEST_F(api_sessions, patch_errors) {
  const auto id = create_session("s")["id"].get<std::string>();
  const auto path = "/api/sessions/" + id;
  auto res = call(http::verb::patch, path, R"({"name": ["x"]})");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(error_of(res), "Field 'name' must be a string");
  res = call(http::verb::patch, path, R"({"isActive": "yes"})");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(error_of(res), "Field 'isActive' must be a boolean");
  res = call(http::verb::patch, path, R"({"isRecording": 1})");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(error_of(res), "Field 'isRecording' must be a boolean");
  res = call(http::verb::patch, path, R"({"name": "x", )");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(error_of(res), "Invalid JSON body");
  res = call(http::verb::patch, path, "[]");
  EXPECT_EQ(error_of(res), "Invalid JSON body");
  // A rejected patch changes nothing, not even part of it.
  res = call(http::verb::patch, path, R"({"name": "changed", "isRecording": "no"})");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(body_json(get(path))["name"], "s");

  res = call(http::verb::patch, "/api/sessions/unknown", R"({"name": "x"})");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Session not found");
}

TEST_F(api_sessions, delete_removes_the_session_and_stops_recording) {
  const auto id = create_session("s")["id"].get<std::string>();
  call(http::verb::post, "/api/sessions/" + id + "/activate");
  ASSERT_EQ(recording_.target(), id);
  auto res = call(http::verb::delete_, "/api/sessions/" + id);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res), json::parse(R"({"success":true})"));
  EXPECT_FALSE(recording_.target());
  EXPECT_EQ(get("/api/sessions/" + id).result(), http::status::not_found);
  EXPECT_EQ(get("/api/sessions/active").result(), http::status::not_found);

  res = call(http::verb::delete_, "/api/sessions/" + id);
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Session not found");
}

std::int64_t count_rows(store::database& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  std::int64_t count = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    count = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return count;
}

TEST_F(api_sessions, delete_cascades_to_entries_and_bodies) {
  const auto doomed = create_session("doomed")["id"].get<std::string>();
  const auto kept = create_session("kept")["id"].get<std::string>();
  for (int i = 0; i < 3; ++i) {
    auto record = make_entry(doomed, "example.com", std::chrono::milliseconds(i));
    record.response_body = "body " + std::to_string(i);
    record.response->body_size = record.response_body.size();
    insert(std::move(record));
  }
  insert(make_entry(kept, "example.com", std::chrono::milliseconds(5)));
  auto s = body_json(get("/api/sessions/" + doomed));
  EXPECT_EQ(s["trafficCount"], 3);
  EXPECT_EQ(s["totalBytes"], 18);
  EXPECT_EQ(count_rows(*db_, "SELECT COUNT(*) FROM bodies"), 3);

  ASSERT_EQ(call(http::verb::delete_, "/api/sessions/" + doomed).result(), http::status::ok);
  EXPECT_EQ(get("/api/sessions/" + doomed + "/entries").result(), http::status::not_found);
  EXPECT_EQ(count_rows(*db_, "SELECT COUNT(*) FROM entries WHERE session_id = '" + doomed + "'"),
            0);
  EXPECT_EQ(count_rows(*db_, "SELECT COUNT(*) FROM bodies"), 0);
  EXPECT_EQ(body_json(get("/api/sessions/" + kept + "/entries"))["total"], 1);
}

TEST_F(api_sessions, wrong_methods_are_405_with_allow) {
  auto res = call(http::verb::delete_, "/api/sessions");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, POST");
  EXPECT_EQ(error_of(res), "Method not allowed");
  res = call(http::verb::put, "/api/sessions/some-id");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, PATCH, DELETE");
  res = call(http::verb::get, "/api/sessions/some-id/activate");
  EXPECT_EQ(res[http::field::allow], "POST");
  res = call(http::verb::post, "/api/sessions/active");
  EXPECT_EQ(res[http::field::allow], "GET, PATCH, DELETE");
}

}  // namespace
}  // namespace hark::api::test
