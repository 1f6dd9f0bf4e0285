// Entries API (SPEC §6.2): listing, filters, paging, single entries, deletion, stats.

#include "api_fixture.hpp"

#include <vector>

namespace hark::api::test {
namespace {

using namespace std::chrono_literals;

/** A session with five entries of different kinds, started 1 s apart (e0 oldest). */
class api_entries : public api_fixture {
 protected:
  api_entries() {
    sid_ = create_session("traffic")["id"].get<std::string>();
    call(http::verb::post, "/api/sessions/" + sid_ + "/activate");

    auto e0 = make_entry(sid_, "example.com", 0s);
    auto e1 = make_entry(sid_, "api.example.com", 1s);
    e1.request.method = "POST";
    e1.request.headers.emplace_back("X-Trace", "needle-42");
    e1.response->status_code = 404;
    auto e2 = make_entry(sid_, "other.org", 2s);
    e2.http_version = "HTTP/2";
    e2.response->status_code = 503;
    auto e3 = make_entry(sid_, "ws.example.com", 3s);
    e3.is_websocket = true;
    e3.url = "ws://ws.example.com/socket";
    e3.response->status_code = 101;
    auto e4 = make_entry(sid_, "down.example.net", 4s);
    e4.response.reset();
    e4.error = capture::flow_error{"connect_failed", "hark: cannot connect to down.example.net:80"};
    for (auto* e : {&e0, &e1, &e2, &e3, &e4}) {
      ids_.push_back(e->id);
      insert(std::move(*e));
    }
  }

  std::string entries_path() const { return "/api/sessions/" + sid_ + "/entries"; }

  /** The ids of the entries a list query returns, in order. */
  std::vector<std::string> ids_for(const std::string& query) {
    const auto res = get(entries_path() + query);
    EXPECT_EQ(res.result(), http::status::ok) << query << ": " << res.body();
    std::vector<std::string> ids;
    const auto page = body_json(res);
    for (const auto& e : page["entries"]) {
      ids.push_back(e["id"].get<std::string>());
    }
    return ids;
  }

  std::vector<std::string> pick(std::initializer_list<int> indexes) const {
    std::vector<std::string> out;
    for (const int i : indexes) {
      out.push_back(ids_[static_cast<std::size_t>(i)]);
    }
    return out;
  }

  std::string sid_;
  std::vector<std::string> ids_;
};

TEST_F(api_entries, list_is_oldest_first_with_total_and_null_cursor) {
  const auto res = get(entries_path());
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
  const auto page = body_json(res);
  EXPECT_EQ(page["total"], 5);
  EXPECT_TRUE(page["nextCursor"].is_null());
  ASSERT_EQ(page["entries"].size(), 5u);
  const auto& first = page["entries"][0];
  EXPECT_EQ(first["id"], ids_[0]);
  EXPECT_EQ(first["url"], "http://example.com/path");
  EXPECT_EQ(first["request"]["method"], "GET");
  EXPECT_EQ(first["response"]["statusCode"], 200);
  EXPECT_EQ(ids_for(""), ids_);
  EXPECT_EQ(ids_for("?order=desc"), pick({4, 3, 2, 1, 0}));
  EXPECT_EQ(ids_for("?order=asc"), ids_);
}

TEST_F(api_entries, cursor_pages_through_everything) {
  for (const std::string order : {"asc", "desc"}) {
    std::vector<std::string> seen;
    std::string query = "?limit=2&order=" + order;
    for (int pages = 0; pages < 10; ++pages) {
      const auto page = body_json(get(entries_path() + query));
      EXPECT_EQ(page["total"], 5);
      EXPECT_LE(page["entries"].size(), 2u);
      for (const auto& e : page["entries"]) {
        seen.push_back(e["id"].get<std::string>());
      }
      if (page["nextCursor"].is_null()) {
        break;
      }
      query = "?limit=2&order=" + order + "&cursor=" + page["nextCursor"].get<std::string>();
    }
    EXPECT_EQ(seen, order == "asc" ? ids_ : pick({4, 3, 2, 1, 0})) << order;
  }
}

TEST_F(api_entries, filters) {
  EXPECT_EQ(ids_for("?host=api.example.com"), pick({1}));
  EXPECT_EQ(ids_for("?host=API.Example.com"), pick({1}));
  EXPECT_EQ(ids_for("?host=*.example.com"), pick({0, 1, 3}));
  EXPECT_EQ(ids_for("?method=post"), pick({1}));
  EXPECT_EQ(ids_for("?status=404"), pick({1}));
  EXPECT_EQ(ids_for("?status=5xx"), pick({2}));
  EXPECT_EQ(ids_for("?status=5XX"), pick({2}));
  EXPECT_EQ(ids_for("?httpVersion=HTTP%2F2"), pick({2}));
  EXPECT_EQ(ids_for("?q=needle-42"), pick({1}));
  EXPECT_EQ(ids_for("?isWebSocket=true"), pick({3}));
  EXPECT_EQ(ids_for("?isWebSocket=false"), pick({0, 1, 2, 4}));
  EXPECT_EQ(ids_for("?error=true"), pick({4}));
  EXPECT_EQ(ids_for("?error=false"), pick({0, 1, 2, 3}));
  // e0 starts at 1770000000000 ms = 2026-02-02T02:40:00Z.
  EXPECT_EQ(ids_for("?since=1770000002000"), pick({2, 3, 4}));
  EXPECT_EQ(ids_for("?until=2026-02-02T02:40:01Z"), pick({0, 1}));
  EXPECT_EQ(ids_for("?since=2026-02-02T02:40:01.000Z&until=1770000003000"), pick({1, 2, 3}));
  EXPECT_EQ(ids_for("?host=*.example.com&method=GET&limit=1000"), pick({0, 3}));
  // Empty values are no filter.
  EXPECT_EQ(ids_for("?host=&status="), ids_);
  const auto page = body_json(get(entries_path() + "?host=*.example.com&limit=1"));
  EXPECT_EQ(page["total"], 3);
  EXPECT_FALSE(page["nextCursor"].is_null());
}

// q is full text over the URL and headers: words from their start, case-insensitive, the last
// one a prefix; what FTS5 would read as syntax is searched for like any text (docs/api.md).
TEST_F(api_entries, q_searches_words_and_never_fails_on_syntax) {
  EXPECT_EQ(ids_for("?q=NEEDLE"), pick({1}));
  EXPECT_EQ(ids_for("?q=needle%2042"), pick({1}));
  EXPECT_EQ(ids_for("?q=x-trace%3A%20need"), pick({1}));
  EXPECT_EQ(ids_for("?q=eedle"), pick({}));
  EXPECT_EQ(ids_for("?q=example.com%2Fpat&limit=1"), pick({0}));  // not ws.example.com/socket
  const auto page = body_json(get(entries_path() + "?q=example.com%2Fpat&limit=1&order=desc"));
  EXPECT_EQ(page["total"], 2);
  EXPECT_FALSE(page["nextCursor"].is_null());
  EXPECT_EQ(ids_for("?q=needle&status=4xx&method=POST"), pick({1}));
  EXPECT_EQ(ids_for("?q=needle&status=5xx"), pick({}));
  for (const char* q : {"%22", "%22%22", "*", "-", "%3A", "(", ")", "NEAR(", "AND", "OR%20NOT",
                        "%5E", "%7B", "%C3%A9", "%F0%9F%99%82", "%00", "%25", "%2B"}) {
    EXPECT_EQ(get(entries_path() + "?q=" + q).result(), http::status::ok) << q;
  }
}

TEST_F(api_entries, invalid_parameters_are_400_naming_them) {
  const auto error_for = [&](const std::string& query) {
    const auto res = get(entries_path() + query);
    EXPECT_EQ(res.result(), http::status::bad_request) << query;
    return error_of(res);
  };
  for (const std::string status : {"abc", "600", "4x", "40", "4044", "xx5", "099"}) {
    EXPECT_EQ(error_for("?status=" + status).rfind("Invalid status filter", 0), 0u) << status;
  }
  EXPECT_NE(error_for("?since=yesterday").find("since"), std::string::npos);
  EXPECT_NE(error_for("?until=2026-13-01").find("until"), std::string::npos);
  for (const std::string limit : {"0", "1001", "-5", "ten", "10x"}) {
    EXPECT_NE(error_for("?limit=" + limit).find("limit"), std::string::npos) << limit;
  }
  EXPECT_NE(error_for("?isWebSocket=maybe").find("isWebSocket"), std::string::npos);
  EXPECT_NE(error_for("?error=yes").find("error"), std::string::npos);
  EXPECT_NE(error_for("?order=sideways").find("order"), std::string::npos);
  EXPECT_EQ(error_for("?cursor=not-a-cursor"), "Invalid cursor");
}

TEST_F(api_entries, active_alias_and_unknown_sessions) {
  const auto res = get("/api/sessions/active/entries?limit=2");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res)["total"], 5);

  auto missing = get("/api/sessions/unknown/entries");
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_EQ(error_of(missing), "Session not found");

  call(http::verb::patch, "/api/sessions/" + sid_, R"({"isActive": false})");
  for (const std::string path :
       {"/api/sessions/active/entries", "/api/sessions/active/entries/latest",
        "/api/sessions/active/stats", "/api/sessions/active/entries/x/response/body"}) {
    missing = get(path);
    EXPECT_EQ(missing.result(), http::status::not_found) << path;
    EXPECT_EQ(error_of(missing), "No active session") << path;
  }
}

TEST_F(api_entries, single_entry_by_id_and_latest) {
  auto res = get(entries_path() + "/" + ids_[2]);
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
  auto entry = body_json(res);
  EXPECT_EQ(entry["id"], ids_[2]);
  EXPECT_EQ(entry["httpVersion"], "HTTP/2");
  EXPECT_EQ(entry["sessionId"], sid_);

  res = get(entries_path() + "/latest");
  ASSERT_EQ(res.result(), http::status::ok);
  entry = body_json(res);
  EXPECT_EQ(entry["id"], ids_[4]);
  EXPECT_EQ(entry["error"]["code"], "connect_failed");
  EXPECT_EQ(body_json(get("/api/sessions/active/entries/latest"))["id"], ids_[4]);

  res = get(entries_path() + "/01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Entry not found");
  res = get("/api/sessions/unknown/entries/" + ids_[2]);
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Session not found");
}

TEST_F(api_entries, entries_of_one_session_are_not_visible_in_another) {
  const auto other = create_session("other")["id"].get<std::string>();
  const auto res = get("/api/sessions/" + other + "/entries/" + ids_[0]);
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Entry not found");
  EXPECT_EQ(body_json(get("/api/sessions/" + other + "/entries"))["total"], 0);
}

TEST_F(api_entries, delete_one_entry) {
  auto res = call(http::verb::delete_, entries_path() + "/" + ids_[1]);
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res), json::parse(R"({"success":true})"));
  EXPECT_EQ(get(entries_path() + "/" + ids_[1]).result(), http::status::not_found);
  EXPECT_EQ(ids_for(""), pick({0, 2, 3, 4}));
  EXPECT_EQ(body_json(get("/api/sessions/" + sid_))["trafficCount"], 4);

  res = call(http::verb::delete_, entries_path() + "/" + ids_[1]);
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Entry not found");
  res = call(http::verb::delete_, "/api/sessions/unknown/entries/" + ids_[0]);
  EXPECT_EQ(error_of(res), "Session not found");
}

TEST_F(api_entries, delete_all_entries) {
  auto res = call(http::verb::delete_, entries_path());
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res), json::parse(R"({"success":true})"));
  const auto page = body_json(get(entries_path()));
  EXPECT_EQ(page["total"], 0);
  EXPECT_EQ(page["entries"].size(), 0u);
  EXPECT_EQ(body_json(get("/api/sessions/" + sid_))["trafficCount"], 0);
  // The session itself stays, still recording.
  EXPECT_EQ(recording_.target(), sid_);
  res = call(http::verb::delete_, "/api/sessions/unknown/entries");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Session not found");
}

TEST_F(api_entries, stats) {
  auto res = get("/api/sessions/" + sid_ + "/stats");
  ASSERT_EQ(res.result(), http::status::ok);
  const auto stats = body_json(res);
  EXPECT_EQ(stats["totalRequests"], 5);
  EXPECT_EQ(stats["completedRequests"], 4);
  EXPECT_EQ(stats["failedRequests"], 1);
  EXPECT_EQ(stats["totalBytes"], 0);
  EXPECT_DOUBLE_EQ(stats["avgDuration"].get<double>(), 10.0);
  EXPECT_EQ(body_json(get("/api/sessions/active/stats")), stats);
  res = get("/api/sessions/unknown/stats");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Session not found");
}

TEST_F(api_entries, websocket_messages) {
  auto res = get(entries_path() + "/" + ids_[3] + "/websocket");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res), json::parse(R"({"messages":[]})"));
  res = get(entries_path() + "/" + ids_[0] + "/websocket");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Entry is not a WebSocket");
  res = get(entries_path() + "/unknown/websocket");
  EXPECT_EQ(error_of(res), "Entry not found");
}

TEST_F(api_entries, wrong_methods_are_405) {
  auto res = call(http::verb::post, entries_path());
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, DELETE");
  res = call(http::verb::delete_, entries_path() + "/" + ids_[0] + "/response/body");
  EXPECT_EQ(res[http::field::allow], "GET");
  res = call(http::verb::post, "/api/sessions/" + sid_ + "/stats");
  EXPECT_EQ(res[http::field::allow], "GET");
}

}  // namespace
}  // namespace hark::api::test
