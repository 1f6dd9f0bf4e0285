#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace {

using namespace hark::store;
using hark::capture::entry_record;
using test::sample_record;
using test::temp_dir;

struct spec {
  std::string host;
  std::string url;
  std::string method;
  std::optional<int> status;
  std::string http_version;
  std::int64_t started_us;
};

class entries : public ::testing::Test {
 protected:
  temp_dir dir_;
  database db_{dir_.path() / "hark.db"};
  catalog catalog_{db_};
  session session_ = catalog_.create_active_session("s", 1000);
  std::map<std::string, std::string> ids_;  ///< name → entry id

  entry_record make(const spec& s) {
    auto r = sample_record(session_.id, s.started_us);
    r.host = s.host;
    r.url = s.url;
    r.request.method = s.method;
    r.http_version = s.http_version;
    if (s.status) {
      r.response->status_code = *s.status;
    } else {
      r.response.reset();
    }
    return r;
  }

  /** Seven entries that each filter tells apart. */
  void write_mixed() {
    std::vector<std::pair<std::string, entry_record>> records;
    records.emplace_back(
        "get", make({"example.com", "http://example.com/a", "GET", 200, "HTTP/1.1", 1000}));
    auto post =
        make({"api.example.com", "https://api.example.com/login", "POST", 201, "HTTP/2", 2000});
    post.request.headers.emplace_back("Authorization", "Bearer 100%_secret");
    post.request.body_size = 50;
    post.response->body_size = 150;
    post.duration_ms = 30.0;
    records.emplace_back("post", std::move(post));
    records.emplace_back(
        "404", make({"other.org", "http://other.org/missing", "GET", 404, "HTTP/1.1", 3000}));
    auto err5 = make(
        {"deep.api.example.com", "https://deep.api.example.com/x", "DELETE", 503, "HTTP/2", 4000});
    err5.response->headers.emplace_back("X-Trace", "abc123");
    records.emplace_back("503", std::move(err5));
    auto ws = make({"example.com", "ws://example.com/socket", "GET", 101, "HTTP/1.1", 5000});
    ws.is_websocket = true;
    records.emplace_back("ws", std::move(ws));
    auto failed = make({"down.test", "http://down.test/", "GET", std::nullopt, "HTTP/1.1", 6000});
    failed.error = hark::capture::flow_error{"connect_failed", "hark: cannot connect"};
    failed.duration_ms.reset();
    records.emplace_back("failed", std::move(failed));
    records.emplace_back("notexample", make({"notexample.com", "http://notexample.com/", "GET", 200,
                                             "HTTP/1.1", 7000}));
    writer w({.database_path = dir_.path() / "hark.db"});
    for (auto& [name, record] : records) {
      ids_[name] = record.id;
      w.submit(std::move(record));
    }
  }

  /** Names of the entries matching `f` (one page of at most 1000), checking total. */
  std::set<std::string> names(entry_filter f) {
    f.session_id = session_.id;
    f.limit = 1000;
    const auto page = catalog_.list_entries(f);
    EXPECT_TRUE(page);
    std::set<std::string> out;
    if (!page) {
      return out;
    }
    for (const auto& doc : page->entries) {
      const auto id = nlohmann::json::parse(doc)["id"].get<std::string>();
      for (const auto& [name, entry_id] : ids_) {
        if (entry_id == id) {
          out.insert(name);
        }
      }
    }
    EXPECT_EQ(page->total, static_cast<std::int64_t>(page->entries.size()));
    EXPECT_FALSE(page->next_cursor);
    return out;
  }

  /** Every id of the session in page order, walking next_cursor with `limit`. */
  std::vector<std::string> walk(entry_filter f, int limit, int& pages) {
    f.session_id = session_.id;
    f.limit = limit;
    std::vector<std::string> out;
    pages = 0;
    for (;;) {
      const auto page = catalog_.list_entries(f);
      if (!page || ++pages > 1000) {
        ADD_FAILURE() << "no page or endless paging";
        return out;
      }
      EXPECT_LE(page->entries.size(), static_cast<std::size_t>(limit));
      for (const auto& doc : page->entries) {
        out.push_back(nlohmann::json::parse(doc)["id"].get<std::string>());
      }
      if (!page->next_cursor) {
        return out;
      }
      f.cursor = page->next_cursor;
    }
  }
};

using names_t = std::set<std::string>;

TEST_F(entries, no_filter_lists_everything_oldest_first) {
  write_mixed();
  entry_filter f;
  f.session_id = session_.id;
  const auto page = catalog_.list_entries(f);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 7);
  ASSERT_EQ(page->entries.size(), 7U);
  EXPECT_EQ(nlohmann::json::parse(page->entries.front())["id"], ids_["get"]);
  EXPECT_EQ(nlohmann::json::parse(page->entries.back())["id"], ids_["notexample"]);
  EXPECT_EQ(nlohmann::json::parse(page->entries.front())["sessionId"], session_.id);
  f.descending = true;
  EXPECT_EQ(nlohmann::json::parse(catalog_.list_entries(f)->entries.front())["id"],
            ids_["notexample"]);
}

TEST_F(entries, host_filter_is_exact_or_domain_with_subdomains) {
  write_mixed();
  EXPECT_EQ(names({.host = "example.com"}), (names_t{"get", "ws"}));
  EXPECT_EQ(names({.host = "EXAMPLE.com"}), (names_t{"get", "ws"}));
  EXPECT_EQ(names({.host = "*.example.com"}), (names_t{"get", "post", "503", "ws"}));
  EXPECT_EQ(names({.host = "*.api.example.com"}), (names_t{"post", "503"}));
  EXPECT_EQ(names({.host = "nothing.test"}), names_t{});
}

TEST_F(entries, method_filter_ignores_case) {
  write_mixed();
  EXPECT_EQ(names({.method = "post"}), (names_t{"post"}));
  EXPECT_EQ(names({.method = "Delete"}), (names_t{"503"}));
  EXPECT_EQ(names({.method = "get"}), (names_t{"get", "404", "ws", "failed", "notexample"}));
}

TEST_F(entries, status_filter_takes_a_code_or_a_class) {
  write_mixed();
  EXPECT_EQ(names({.status = "404"}), (names_t{"404"}));
  EXPECT_EQ(names({.status = "5xx"}), (names_t{"503"}));
  EXPECT_EQ(names({.status = "2XX"}), (names_t{"get", "post", "notexample"}));
  EXPECT_EQ(names({.status = "1xx"}), (names_t{"ws"}));
  EXPECT_EQ(names({.status = "500"}), names_t{});
  entry_filter bad;
  bad.session_id = session_.id;
  bad.status = "abc";
  EXPECT_THROW(catalog_.list_entries(bad), std::invalid_argument);
}

TEST_F(entries, http_version_filter) {
  write_mixed();
  EXPECT_EQ(names({.http_version = "HTTP/2"}), (names_t{"post", "503"}));
}

TEST_F(entries, q_searches_url_and_headers) {
  write_mixed();
  EXPECT_EQ(names({.q = "missing"}), (names_t{"404"}));           // URL
  EXPECT_EQ(names({.q = "bearer 100%_SEC"}), (names_t{"post"}));  // request header, any case
  EXPECT_EQ(names({.q = "abc123"}), (names_t{"503"}));            // response header
  EXPECT_EQ(names({.q = "x-trace: abc"}), (names_t{"503"}));      // as a header line
  EXPECT_EQ(names({.q = "%"}), (names_t{"post"}));  // no word: literal, LIKE wildcards escaped
  EXPECT_EQ(names({.q = "1_0"}), names_t{});
  EXPECT_EQ(names({.q = "\\"}), names_t{});
}

TEST_F(entries, time_window_filters_are_inclusive) {
  write_mixed();
  EXPECT_EQ(names({.since_us = 6000}), (names_t{"failed", "notexample"}));
  EXPECT_EQ(names({.until_us = 2000}), (names_t{"get", "post"}));
  EXPECT_EQ(names({.since_us = 2000, .until_us = 4000}), (names_t{"post", "404", "503"}));
}

TEST_F(entries, websocket_and_error_filters) {
  write_mixed();
  EXPECT_EQ(names({.is_websocket = true}), (names_t{"ws"}));
  EXPECT_EQ(names({.is_websocket = false}).size(), 6U);
  EXPECT_EQ(names({.error = true}), (names_t{"failed"}));
  EXPECT_EQ(names({.error = false}).count("failed"), 0U);
  EXPECT_EQ(names({.error = false}).size(), 6U);
}

TEST_F(entries, filters_combine) {
  write_mixed();
  EXPECT_EQ(names({.host = "*.example.com", .method = "GET"}), (names_t{"get", "ws"}));
  EXPECT_EQ(names({.host = "*.example.com", .status = "2xx", .http_version = "HTTP/2"}),
            (names_t{"post"}));
}

TEST_F(entries, unknown_session_is_nullopt) {
  write_mixed();
  EXPECT_FALSE(catalog_.list_entries({.session_id = "no-such-session"}));
  EXPECT_FALSE(catalog_.get_entry_json("no-such-session", ids_["get"]));
  EXPECT_FALSE(catalog_.get_entry_json("no-such-session", "latest"));
  EXPECT_FALSE(catalog_.stats("no-such-session"));
  EXPECT_FALSE(catalog_.entry_exists("no-such-session", ids_["get"]));
}

TEST_F(entries, get_entry_and_latest) {
  write_mixed();
  const auto doc = catalog_.get_entry_json(session_.id, ids_["404"]);
  ASSERT_TRUE(doc);
  const auto json = nlohmann::json::parse(*doc);
  EXPECT_EQ(json["id"], ids_["404"]);
  EXPECT_EQ(json["sessionId"], session_.id);
  EXPECT_EQ(json["response"]["statusCode"], 404);
  const auto latest = catalog_.get_entry_json(session_.id, "latest");
  ASSERT_TRUE(latest);
  EXPECT_EQ(nlohmann::json::parse(*latest)["id"], ids_["notexample"]);
  EXPECT_TRUE(catalog_.entry_exists(session_.id, "latest"));
  EXPECT_FALSE(catalog_.get_entry_json(session_.id, "01HZZZZZZZZZZZZZZZZZZZZZZZ"));
  const auto empty = catalog_.create_session("empty", 2000);
  EXPECT_FALSE(catalog_.get_entry_json(empty.id, "latest"));
  EXPECT_FALSE(catalog_.get_entry_json(empty.id, ids_["get"]));  // another session's entry
}

TEST_F(entries, stats_summarise_the_session) {
  write_mixed();
  const auto stats = catalog_.stats(session_.id);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->total_requests, 7);
  EXPECT_EQ(stats->completed_requests, 6);
  EXPECT_EQ(stats->failed_requests, 1);
  EXPECT_EQ(stats->total_bytes, 200);
  // Six entries have a duration: five of 10 ms and one of 30 ms.
  EXPECT_DOUBLE_EQ(stats->avg_duration, 80.0 / 6.0);
  const auto empty = catalog_.create_session("empty", 2000);
  const auto none = catalog_.stats(empty.id);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->total_requests, 0);
  EXPECT_EQ(none->avg_duration, 0.0);
}

class paging : public entries {
 protected:
  std::vector<std::string> order_;  ///< ids in (started_us, row) order

  void SetUp() override {
    writer w({.database_path = dir_.path() / "hark.db"});
    for (int i = 0; i < 250; ++i) {
      // Three entries share each start time: the row breaks the tie.
      auto r = sample_record(session_.id, 1'700'000'000'000'000 + (i / 3) * 1000);
      if (i % 2 == 0) {
        r.request.headers.emplace_back("X-Even", "yes");
      }
      order_.push_back(r.id);
      w.submit(std::move(r));
    }
  }
};

TEST_F(paging, ascending_walk_returns_every_entry_once_in_order) {
  int pages = 0;
  EXPECT_EQ(walk({}, 100, pages), order_);
  EXPECT_EQ(pages, 3);
}

TEST_F(paging, descending_walk_returns_every_entry_once_newest_first) {
  int pages = 0;
  const auto got = walk({.descending = true}, 100, pages);
  EXPECT_EQ(got, std::vector<std::string>(order_.rbegin(), order_.rend()));
  EXPECT_EQ(pages, 3);
}

TEST_F(paging, exact_fit_has_no_cursor_on_the_last_page) {
  int pages = 0;
  EXPECT_EQ(walk({}, 125, pages).size(), 250U);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(walk({}, 1000, pages).size(), 250U);
  EXPECT_EQ(pages, 1);
  EXPECT_EQ(walk({}, 1, pages).size(), 250U);
  EXPECT_EQ(pages, 250);
}

TEST_F(paging, total_and_paging_follow_the_filter) {
  entry_filter f;
  f.session_id = session_.id;
  f.q = "x-even";
  f.limit = 30;
  const auto first = catalog_.list_entries(f);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->total, 125);
  EXPECT_EQ(first->entries.size(), 30U);
  int pages = 0;
  const auto got = walk({.q = "x-even", .descending = true}, 30, pages);
  std::vector<std::string> expected;
  for (int i = 248; i >= 0; i -= 2) {
    expected.push_back(order_[static_cast<std::size_t>(i)]);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(pages, 5);
}

TEST_F(paging, limit_is_clamped_to_1_to_1000) {
  const auto page = catalog_.list_entries({.session_id = session_.id, .limit = 0});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->entries.size(), 1U);
  EXPECT_EQ(page->total, 250);
  EXPECT_TRUE(page->next_cursor);
}

TEST_F(paging, bad_cursor_throws) {
  for (const char* cursor :
       {"", "!!!!", "abc", "MTp4", "MToxMjM=", "MToxMjM+", "bm9jb2xvbg", "MTow"}) {
    entry_filter f;
    f.session_id = session_.id;
    f.cursor = cursor;
    EXPECT_THROW(catalog_.list_entries(f), bad_cursor) << cursor;
  }
  // A cursor is opaque: it must survive a round trip through the API unchanged.
  const auto page = catalog_.list_entries({.session_id = session_.id, .limit = 10});
  ASSERT_TRUE(page && page->next_cursor);
  EXPECT_EQ(page->next_cursor->find_first_of("+/=&?% "), std::string::npos);
}

}  // namespace
