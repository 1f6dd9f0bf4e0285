// q through the search index (migration 3): word and phrase matching, folding, inputs that are
// FTS5 syntax, filters combined with q, paging in both of the listing's plans, and the index
// and entry counts following inserts and deletes.
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <thread>

namespace {

using namespace hark::store;
using hark::capture::entry_record;
using test::query_int;
using test::sample_record;
using test::temp_dir;
using names_t = std::set<std::string>;
using namespace std::chrono_literals;

class search : public ::testing::Test {
 protected:
  temp_dir dir_;
  database db_{dir_.path() / "hark.db"};
  catalog catalog_{db_};
  session session_ = catalog_.create_active_session("s", 1000);
  std::map<std::string, std::string> ids_;  ///< name → entry id

  /** A sample entry started `n` ms after the others' epoch. */
  entry_record make(int n) { return sample_record(session_.id, 1'700'000'000'000'000 + n * 1000); }

  /** Writes the named records through a writer and waits for them. */
  void write(std::vector<std::pair<std::string, entry_record>> records) {
    writer w({.database_path = dir_.path() / "hark.db"});
    for (auto& [name, record] : records) {
      ids_[name] = record.id;
      w.submit(std::move(record));
    }
    w.flush();
  }

  std::string name_of(const std::string& id) const {
    for (const auto& [name, entry_id] : ids_) {
      if (entry_id == id) {
        return name;
      }
    }
    return "?";
  }

  /** Names of every entry `f` lists (all pages, walking next_cursor with `limit`), checking
   *  that each page reports the same total and that it is the number listed. */
  std::vector<std::string> walk(entry_filter f, int limit = 1000) {
    f.session_id = f.session_id.empty() ? session_.id : f.session_id;
    f.limit = limit;
    std::vector<std::string> out;
    std::optional<std::int64_t> total;
    for (int pages = 0; pages < 1000; ++pages) {
      const auto page = catalog_.list_entries(f);
      if (!page) {
        ADD_FAILURE() << "no such session";
        return out;
      }
      if (total) {
        EXPECT_EQ(page->total, *total);
      }
      total = page->total;
      EXPECT_LE(page->entries.size(), static_cast<std::size_t>(limit));
      for (const auto& doc : page->entries) {
        out.push_back(name_of(nlohmann::json::parse(doc)["id"].get<std::string>()));
      }
      if (!page->next_cursor) {
        EXPECT_EQ(*total, static_cast<std::int64_t>(out.size()));
        return out;
      }
      f.cursor = page->next_cursor;
    }
    ADD_FAILURE() << "endless paging";
    return out;
  }

  names_t names(entry_filter f) {
    const auto listed = walk(std::move(f));
    return {listed.begin(), listed.end()};
  }

  names_t q(const std::string& text) { return names({.q = text}); }

  /** Entries of the session in the search index, counted there. */
  std::int64_t indexed(const std::string& session_id) {
    std::string token;
    for (const char c : session_id) {
      if (c != '-') {
        token += c;
      }
    }
    return query_int(db_, "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'session : \"" +
                              token + "\"'");
  }

  /** The session's stats (from the entry counts) against a pass over its entries. */
  void expect_stats_exact(const std::string& session_id) {
    const auto stats = catalog_.stats(session_id);
    ASSERT_TRUE(stats);
    const std::string where = " FROM entries WHERE session_id = '" + session_id + "'";
    EXPECT_EQ(stats->total_requests, query_int(db_, "SELECT count(*)" + where));
    EXPECT_EQ(stats->completed_requests,
              query_int(db_, "SELECT count(*)" + where +
                                 " AND status IS NOT NULL AND error_code IS NULL"));
    EXPECT_EQ(stats->failed_requests,
              query_int(db_, "SELECT count(*)" + where + " AND error_code IS NOT NULL"));
    EXPECT_EQ(stats->total_bytes,
              query_int(db_, "SELECT coalesce(sum(request_bytes + response_bytes), 0)" + where));
    // In thousandths of a millisecond: the counts add and subtract doubles.
    EXPECT_EQ(std::llround(stats->avg_duration * 1000),
              query_int(db_, "SELECT round(coalesce(avg(duration_ms), 0) * 1000)" + where));
  }

  void expect_index_intact() {
    expect_stats_exact(session_.id);
    // Every entry has one token of each facet kind: a delete that gave FTS5 other values than
    // it indexed (the trigger and the entry_search view disagreeing) leaves some behind.
    const auto indexed = query_int(
        db_, "SELECT count(*) FROM entries WHERE row <= (SELECT indexed_row FROM search_state)");
    for (const char* kind : {"mx", "vx", "s", "c", "w", "e", "hx"}) {
      EXPECT_EQ(query_int(db_, std::string("SELECT count(*) FROM entries_fts WHERE entries_fts "
                                           "MATCH 'facets : ") +
                                   kind + "*'"),
                indexed)
          << kind;
    }
    EXPECT_NO_THROW(db_.exec("INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')"));
    EXPECT_EQ(query_int(db_, "SELECT indexed_row FROM search_state"),
              query_int(db_, "SELECT coalesce(max(row), 0) FROM entries"));
    EXPECT_EQ(query_int(db_, "SELECT coalesce(sum(entries), 0) FROM entry_counts"),
              query_int(db_, "SELECT count(*) FROM entries"));
  }
};

TEST_F(search, words_match_from_their_start_in_the_url_and_headers) {
  auto api = make(1);
  api.url = "https://api.example.com/api/v1/users/42?sort=name";
  api.request.headers.emplace_back("Authorization", "Bearer abc.def");
  api.response->headers.emplace_back("X-Request-Id", "7f3a9c1e");
  auto other = make(2);
  other.url = "https://static.example.com/app.js";
  write({{"api", std::move(api)}, {"other", std::move(other)}});

  EXPECT_EQ(q("users"), names_t{"api"});
  EXPECT_EQ(q("api/v1/use"), names_t{"api"});  // the last word is a prefix
  EXPECT_EQ(q("/v1/users/42"), names_t{"api"});
  EXPECT_EQ(q("example.com/api"), names_t{"api"});
  EXPECT_EQ(q("authorization: bearer abc"), names_t{"api"});  // name and value, as a line
  EXPECT_EQ(q("7f3a"), names_t{"api"});
  EXPECT_EQ(q("request-id 7f3a9c1e"), names_t{"api"});
  EXPECT_EQ(q("example"), (names_t{"api", "other"}));
  EXPECT_EQ(q("app.js"), names_t{"other"});
  // Words match from their start, in the order given: not inside a word, not reordered.
  EXPECT_EQ(q("sers"), names_t{});
  EXPECT_EQ(q("users api"), names_t{});
  EXPECT_EQ(q("us/v1"), names_t{});
  EXPECT_EQ(q("nothing-like-this"), names_t{});
}

// A last word of one or two characters would be the start of very many words: it is taken
// whole; from three characters on it is a prefix.
TEST_F(search, short_last_words_are_whole_words) {
  auto whole = make(1);
  whole.request.headers.emplace_back("X-Short", "ab");
  auto longer = make(2);
  longer.request.headers.emplace_back("X-Long", "abacus");
  auto cjk = make(3);
  cjk.request.headers.emplace_back("X-Place", "東京タ");
  write({{"whole", std::move(whole)}, {"longer", std::move(longer)}, {"cjk", std::move(cjk)}});
  EXPECT_EQ(q("ab"), names_t{"whole"});
  EXPECT_EQ(q("aba"), names_t{"longer"});
  EXPECT_EQ(q("x-short: a"), names_t{});
  EXPECT_EQ(q("x-long: abac"), names_t{"longer"});
  EXPECT_EQ(q("東京"), names_t{});
  EXPECT_EQ(q("東京タ"), names_t{"cjk"});
}

TEST_F(search, case_and_accents_are_folded) {
  auto city = make(1);
  city.request.headers.emplace_back("X-City", "Köln, Café Zürich");
  auto tokyo = make(2);
  tokyo.response->headers.emplace_back("X-Place", "東京 タワー");
  write({{"city", std::move(city)}, {"tokyo", std::move(tokyo)}});

  for (const char* text : {"köln", "KÖLN", "koln", "CAFE", "café zür", "x-city: köln", "X-CITY"}) {
    EXPECT_EQ(q(text), names_t{"city"}) << text;
  }
  EXPECT_EQ(q("東京"), names_t{"tokyo"});  // a whole word: two characters
  EXPECT_EQ(q("タワ"), names_t{});
  EXPECT_EQ(q("タワー"), names_t{"tokyo"});
  EXPECT_EQ(q("USER-AGENT: CURL"), (names_t{"city", "tokyo"}));
}

TEST_F(search, fts5_syntax_in_q_is_searched_for_not_interpreted) {
  auto quoted = make(1);
  quoted.request.headers.emplace_back("X-Note", "say \"hello\" AND NOT (near) x:y {a} ^b c*");
  auto plain = make(2);
  write({{"quoted", std::move(quoted)}, {"plain", std::move(plain)}});

  // Operators and punctuation are words or separators like any other text.
  EXPECT_EQ(q("\"hello\""), names_t{"quoted"});
  EXPECT_EQ(q("say \"hello"), names_t{"quoted"});
  EXPECT_EQ(q("AND"), names_t{"quoted"});
  EXPECT_EQ(q("NOT near"), names_t{"quoted"});
  EXPECT_EQ(q("(near)"), names_t{"quoted"});
  EXPECT_EQ(q("x:y"), names_t{"quoted"});
  EXPECT_EQ(q("{a} ^b"), names_t{"quoted"});
  EXPECT_EQ(q("near*"), names_t{"quoted"});
  EXPECT_EQ(q("hello OR plain"), names_t{});
  EXPECT_EQ(q("\" AND"), names_t{"quoted"});
  // Without a single word, q is matched literally: `:` is in every header line, `*` and `}`
  // only in X-Note.
  EXPECT_EQ(q(":"), (names_t{"quoted", "plain"}));
  EXPECT_EQ(q("*"), names_t{"quoted"});
  EXPECT_EQ(q("}"), names_t{"quoted"});
  EXPECT_EQ(q("%"), names_t{});
  // Nothing a user types is an error.
  const std::vector<std::string> inputs = {"\"",
                                           "\"\"",
                                           "\"a",
                                           "a\"",
                                           "(",
                                           ")",
                                           "()",
                                           "*",
                                           "**",
                                           "-",
                                           "--",
                                           "+",
                                           "^",
                                           "{",
                                           "}",
                                           ":",
                                           "a:",
                                           ":a",
                                           "NEAR(",
                                           "NEAR(a b, 1)",
                                           "AND",
                                           "OR",
                                           "NOT",
                                           "a AND",
                                           "OR b",
                                           "\\",
                                           "'",
                                           "%",
                                           "_",
                                           std::string("a\0b", 3),
                                           std::string(1, '\0'),
                                           "\xff\xfe",
                                           "🙂",
                                           "a*b*c",
                                           std::string(5000, 'x'),
                                           std::string(300, '"')};
  for (const auto& text : inputs) {
    EXPECT_NO_THROW(q(text)) << text;
  }
}

TEST_F(search, q_combines_with_every_other_filter) {
  std::vector<std::pair<std::string, entry_record>> records;
  for (int i = 0; i < 8; ++i) {
    auto r = make(i);
    r.request.headers.emplace_back("X-Tag", i % 2 == 0 ? "even" : "odd");
    r.host = i < 4 ? "a.example.com" : "b.example.com";
    r.request.method = i % 4 == 3 ? "PATCH" : "GET";
    r.response->status_code = i == 6 ? 500 : 200;
    if (i == 7) {
      r.response.reset();
      r.error = hark::capture::flow_error{"connect_failed", "hark: cannot connect"};
    }
    records.emplace_back("e" + std::to_string(i), std::move(r));
  }
  write(std::move(records));

  EXPECT_EQ(names({.host = "a.example.com", .q = "even"}), (names_t{"e0", "e2"}));
  EXPECT_EQ(names({.host = "*.example.com", .q = "odd"}), (names_t{"e1", "e3", "e5", "e7"}));
  EXPECT_EQ(names({.method = "patch", .q = "odd"}), (names_t{"e3", "e7"}));
  EXPECT_EQ(names({.status = "5xx", .q = "even"}), names_t{"e6"});
  EXPECT_EQ(names({.status = "2xx", .q = "x-tag: odd"}), (names_t{"e1", "e3", "e5"}));
  EXPECT_EQ(names({.q = "odd", .error = true}), names_t{"e7"});
  EXPECT_EQ(names({.q = "odd", .is_websocket = false}), (names_t{"e1", "e3", "e5", "e7"}));
  EXPECT_EQ(names({.http_version = "HTTP/1.1", .q = "even"}), (names_t{"e0", "e2", "e4", "e6"}));
  const std::int64_t t0 = 1'700'000'000'000'000;
  EXPECT_EQ(names({.q = "even", .since_us = t0 + 2000, .until_us = t0 + 4000}),
            (names_t{"e2", "e4"}));
  EXPECT_EQ(names({.host = "b.example.com", .method = "PATCH", .q = "even"}), names_t{});
}

class search_paging : public search {
 protected:
  /** 250 entries, several per start time; `tagged(i)` ones carry X-Tag: needle. */
  std::vector<std::string> write_tagged(const std::function<bool(int)>& tagged) {
    std::vector<std::pair<std::string, entry_record>> records;
    std::vector<std::string> expected;
    for (int i = 0; i < 250; ++i) {
      auto r = sample_record(session_.id, 1'700'000'000'000'000 + (i / 3) * 1000);
      if (tagged(i)) {
        r.request.headers.emplace_back("X-Tag", "needle");
        expected.push_back("e" + std::to_string(i));
      }
      records.emplace_back("e" + std::to_string(i), std::move(r));
    }
    write(std::move(records));
    return expected;
  }

  void expect_walks(const std::vector<std::string>& expected) {
    for (const int limit : {1, 7, 30, 1000}) {
      EXPECT_EQ(walk({.q = "needle"}, limit), expected) << limit;
      EXPECT_EQ(walk({.q = "needle", .descending = true}, limit),
                std::vector<std::string>(expected.rbegin(), expected.rend()))
          << limit;
    }
  }
};

// Common matches: the page walks the session in time order and asks the index about windows.
TEST_F(search_paging, common_matches) {
  expect_walks(write_tagged([](int i) { return i % 2 == 0; }));
}

// Matches bunched at the end: the first windows hold none, later ones grow.
TEST_F(search_paging, matches_bunched_at_one_end) {
  expect_walks(write_tagged([](int i) { return i >= 150; }));
}

// Rare matches: read by row id and sorted.
TEST_F(search_paging, rare_matches) {
  expect_walks(write_tagged([](int i) { return i == 3 || i == 100 || i == 101 || i == 249; }));
}

TEST_F(search_paging, matches_with_another_filter) {
  std::vector<std::pair<std::string, entry_record>> records;
  std::vector<std::string> expected;
  for (int i = 0; i < 250; ++i) {
    auto r = sample_record(session_.id, 1'700'000'000'000'000 + i * 1000);
    r.host = i % 5 == 0 ? "five.example.com" : "other.example.com";
    if (i % 3 == 0) {
      r.request.headers.emplace_back("X-Tag", "needle");
      if (i % 5 == 0) {
        expected.push_back("e" + std::to_string(i));
      }
    }
    records.emplace_back("e" + std::to_string(i), std::move(r));
  }
  write(std::move(records));
  for (const int limit : {1, 4, 1000}) {
    EXPECT_EQ(walk({.host = "five.example.com", .q = "needle"}, limit), expected) << limit;
  }
}

// Time bounds that leave hundreds of entries: the total asks the index for the matches within
// their rows at once, and keeps only the entries the other filters leave.
TEST_F(search_paging, many_entries_within_time_bounds) {
  std::vector<std::pair<std::string, entry_record>> records;
  std::vector<std::string> expected;
  const std::int64_t t0 = 1'700'000'000'000'000;
  for (int i = 0; i < 700; ++i) {
    auto r = sample_record(session_.id, t0 + i * 1000);
    r.host = i % 5 == 0 ? "five.example.com" : "other.example.com";
    if (i % 3 == 0) {
      r.request.headers.emplace_back("X-Tag", "needle");
      if (i % 5 != 0 && i >= 50 && i <= 650) {
        expected.push_back("e" + std::to_string(i));
      }
    }
    records.emplace_back("e" + std::to_string(i), std::move(r));
  }
  write(std::move(records));
  for (const int limit : {7, 1000}) {
    const entry_filter f{.host = "other.example.com",
                         .q = "needle",
                         .since_us = t0 + 50'000,
                         .until_us = t0 + 650'000};
    EXPECT_EQ(walk(f, limit), expected) << limit;
    entry_filter newest_first = f;
    newest_first.descending = true;
    EXPECT_EQ(walk(newest_first, limit),
              std::vector<std::string>(expected.rbegin(), expected.rend()))
        << limit;
    // Without time bounds: the host's entries through their index.
    entry_filter by_host{.host = "five.example.com", .q = "needle"};
    std::vector<std::string> fives;
    for (int i = 0; i < 700; i += 15) {
      fives.push_back("e" + std::to_string(i));
    }
    EXPECT_EQ(walk(by_host, limit), fives) << limit;
  }
}

TEST_F(search, deleted_entries_leave_the_index_and_the_counts) {
  const auto other = catalog_.create_session("other", 2000);
  std::vector<std::pair<std::string, entry_record>> records;
  for (int i = 0; i < 6; ++i) {
    auto r = make(i);
    r.request.headers.emplace_back("X-Word", "w" + std::to_string(i));
    records.emplace_back("e" + std::to_string(i), std::move(r));
  }
  auto elsewhere = sample_record(other.id);
  elsewhere.request.headers.emplace_back("X-Word", "w0");
  records.emplace_back("elsewhere", std::move(elsewhere));
  write(std::move(records));
  EXPECT_EQ(indexed(session_.id), 6);
  EXPECT_EQ(q("x-word"), (names_t{"e0", "e1", "e2", "e3", "e4", "e5"}));
  expect_index_intact();

  ASSERT_TRUE(catalog_.delete_entry(session_.id, ids_["e2"]));
  EXPECT_EQ(q("w2"), names_t{});
  EXPECT_EQ(q("x-word"), (names_t{"e0", "e1", "e3", "e4", "e5"}));
  EXPECT_EQ(names({.method = "GET"}).size(), 5U);
  EXPECT_EQ(indexed(session_.id), 5);
  expect_index_intact();

  ASSERT_TRUE(catalog_.delete_entries(session_.id));
  EXPECT_EQ(q("x-word"), names_t{});
  EXPECT_EQ(names({.method = "GET"}), names_t{});
  EXPECT_EQ(indexed(session_.id), 0);
  EXPECT_EQ(indexed(other.id), 1);
  EXPECT_EQ(names({.session_id = other.id, .q = "w0"}), names_t{"elsewhere"});
  expect_index_intact();

  ASSERT_TRUE(catalog_.delete_session(other.id));
  EXPECT_EQ(indexed(other.id), 0);
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'w0'"), 0);
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM entry_counts WHERE entries > 0"), 0);
  expect_index_intact();
}

// Sessions larger than one delete transaction (4096 row ids), interleaved with another's rows.
TEST_F(search, large_sessions_are_deleted_in_chunks) {
  const auto other = catalog_.create_session("other", 2000);
  {
    writer w({.database_path = dir_.path() / "hark.db"});
    for (int i = 0; i < 9000; ++i) {
      auto r = make(i);
      if (i % 100 == 0) {
        r.session_id = other.id;
        r.request.headers.emplace_back("X-Other", "kept");
      }
      r.request.body_size = 1;
      r.response_body = "x";
      w.submit(std::move(r));
      if (i % 4000 == 0) {
        w.flush();
      }
    }
  }
  EXPECT_EQ(catalog_.get_session(session_.id)->traffic_count, 8910);
  ASSERT_TRUE(catalog_.delete_entries(session_.id));
  EXPECT_EQ(catalog_.get_session(session_.id)->traffic_count, 0);
  EXPECT_EQ(catalog_.get_session(session_.id)->total_bytes, 0);
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM entries"), 90);
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM bodies"), 90);
  EXPECT_EQ(indexed(session_.id), 0);
  EXPECT_EQ(walk({.session_id = other.id, .q = "kept"}, 50).size(), 90U);
  EXPECT_EQ(catalog_.get_session(other.id)->traffic_count, 90);
  expect_index_intact();
  ASSERT_TRUE(catalog_.delete_session(other.id));
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM entries"), 0);
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM bodies"), 0);
  expect_index_intact();
}

// SQLite hands out the row id of the newest entry again once it is deleted: the new entry must
// be indexed, and the old one's words must not find it.
TEST_F(search, a_reused_row_id_is_indexed_again) {
  auto alpha = make(1);
  alpha.request.headers.emplace_back("X-Word", "alpha");
  auto bravo = make(2);
  bravo.request.headers.emplace_back("X-Word", "bravo");
  write({{"alpha", std::move(alpha)}, {"bravo", std::move(bravo)}});
  const auto bravo_row =
      query_int(db_, "SELECT row FROM entries WHERE id = '" + ids_["bravo"] + "'");
  ASSERT_TRUE(catalog_.delete_entry(session_.id, ids_["bravo"]));
  auto charlie = make(3);
  charlie.request.headers.emplace_back("X-Word", "charlie");
  write({{"charlie", std::move(charlie)}});
  ASSERT_EQ(query_int(db_, "SELECT row FROM entries WHERE id = '" + ids_["charlie"] + "'"),
            bravo_row);
  EXPECT_EQ(q("bravo"), names_t{});
  EXPECT_EQ(q("charlie"), names_t{"charlie"});
  EXPECT_EQ(q("x-word"), (names_t{"alpha", "charlie"}));
  expect_index_intact();
}

// An import (or any other connection) may insert entries itself: they are counted at once and
// searchable once the writer has folded them in (within a second when it is idle).
TEST_F(search, entries_inserted_by_another_connection_are_indexed) {
  writer w({.database_path = dir_.path() / "hark.db"});
  db_.exec(
      "INSERT INTO entries (id, session_id, started_us, host, method, status, http_version, url, "
      "search_text, doc) VALUES ('01IMPORTED', '" +
      session_.id +
      "', 5, 'imported.test', 'GET', 200, 'HTTP/1.1', 'http://imported.test/', "
      "'http://imported.test/\nX-Origin: har-import\n', '{\"id\":\"01IMPORTED\"}')");
  ids_["imported"] = "01IMPORTED";
  EXPECT_EQ(names({.host = "imported.test"}), names_t{"imported"});  // counted before indexing
  expect_stats_exact(session_.id);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (q("har-import").empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(q("har-import"), names_t{"imported"});
  expect_index_intact();
}

// Totals and pages against a brute-force evaluation of every filter over varied entries.
TEST_F(search, listings_agree_with_a_brute_force_evaluation) {
  struct model {
    std::string host, method, http_version;
    int status = 0;  // 0: no response
    bool websocket = false;
    std::vector<std::string> words;
    int index = 0;  // started at t0 + index ms
  };
  static const std::vector<std::string> hosts = {"a.example.com", "b.example.com", "c.test",
                                                 "x.a.example.com", "a-example.com"};
  static const std::vector<std::string> methods = {"GET", "get", "POST", "PUT", "PATCH"};
  static const std::vector<std::string> versions = {"HTTP/1.1", "HTTP/2", "HTTP/1.0"};
  static const std::vector<int> statuses = {0, 200, 204, 404, 500, 101};
  static const std::vector<std::string> vocabulary = {"zulu", "yankee", "xray", "whiskey", "zulus"};
  std::map<std::string, model> models;
  std::vector<std::pair<std::string, entry_record>> records;
  std::uint64_t seed = 12345;
  const auto next = [&](std::size_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>((seed >> 33) % n);
  };
  for (int i = 0; i < 300; ++i) {
    model m{hosts[next(5)],
            methods[next(5)],
            versions[next(3)],
            statuses[next(6)],
            next(10) == 0,
            {},
            i};
    for (std::size_t k = next(4); k > 0; --k) {
      m.words.push_back(vocabulary[next(vocabulary.size())]);
    }
    auto r = make(i);
    r.host = m.host;
    r.url = "http://" + m.host + "/p";
    r.request.method = m.method;
    r.http_version = m.http_version;
    r.is_websocket = m.websocket;
    if (m.status == 0) {
      r.response.reset();
      r.error = hark::capture::flow_error{"connect_failed", "x"};
    } else {
      r.response->status_code = m.status;
    }
    std::string words;
    for (const auto& word : m.words) {
      words += (words.empty() ? "" : " ") + word;
    }
    auto& headers = r.response ? r.response->headers : r.request.headers;
    headers.emplace_back("X-Words", words);
    r.duration_ms = next(7) == 0 ? std::nullopt : std::optional<double>(0.25 * double(next(400)));
    const auto name = "e" + std::to_string(i);
    models[name] = m;
    records.emplace_back(name, std::move(r));
  }
  write(std::move(records));
  // Delete some, so that the counts have been taken down too.
  for (int i = 0; i < 300; i += 7) {
    const auto name = "e" + std::to_string(i);
    ASSERT_TRUE(catalog_.delete_entry(session_.id, ids_[name]));
    models.erase(name);
  }
  expect_index_intact();

  const auto lower = [](std::string s) {
    for (auto& c : s) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
  };
  const auto upper = [](std::string s) {
    for (auto& c : s) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
  };
  // q's words: consecutive in X-Words (the last header), the last one a prefix from three
  // characters on.
  const auto has_phrase = [](const std::vector<std::string>& words, const std::string& q) {
    std::vector<std::string> want;
    for (std::size_t start = 0; start < q.size();) {
      const auto end = q.find(' ', start);
      want.push_back(q.substr(start, end == std::string::npos ? std::string::npos : end - start));
      start = end == std::string::npos ? q.size() : end + 1;
    }
    for (std::size_t i = 0; i + want.size() <= words.size(); ++i) {
      bool match = true;
      for (std::size_t k = 0; k < want.size() && match; ++k) {
        const auto& word = words[i + k];
        const bool prefix = k + 1 == want.size() && want[k].size() >= 3;
        match = prefix ? word.rfind(want[k], 0) == 0 : word == want[k];
      }
      if (match) {
        return true;
      }
    }
    return false;
  };
  std::vector<entry_filter> filters;
  for (const std::optional<std::string>& host :
       {std::optional<std::string>{}, std::optional<std::string>{"a.example.com"},
        std::optional<std::string>{"*.example.com"}, std::optional<std::string>{"*.a.example.com"},
        std::optional<std::string>{"*.TEST"}}) {
    for (const std::optional<std::string>& method :
         {std::optional<std::string>{}, std::optional<std::string>{"GET"},
          std::optional<std::string>{"patch"}}) {
      for (const std::optional<std::string>& status :
           {std::optional<std::string>{}, std::optional<std::string>{"2xx"},
            std::optional<std::string>{"404"}}) {
        for (const std::optional<std::string>& text :
             {std::optional<std::string>{}, std::optional<std::string>{"zulu"},
              std::optional<std::string>{"yankee xr"}, std::optional<std::string>{"yankee xra"}}) {
          filters.push_back({.host = host, .method = method, .status = status, .q = text});
        }
      }
    }
  }
  filters.push_back({.http_version = "HTTP/1.0"});
  filters.push_back({.http_version = "HTTP/2", .is_websocket = true});
  filters.push_back({.is_websocket = false, .error = true});
  filters.push_back({.method = "PUT", .q = "whiskey", .error = false});
  filters.push_back({.host = "*.no.example.com", .q = "zulu"});  // a domain without hosts
  filters.push_back({.host = "*.test", .method = "get", .q = "zulu"});
  // Time bounds with q: few entries (one lookup each in the index), many (one pass over the
  // matches in their range of rows), and with a value filter.
  const std::int64_t t0 = 1'700'000'000'000'000;
  for (const auto& [since, until] :
       std::vector<std::pair<int, int>>{{10, 40}, {0, 299}, {100, 290}}) {
    for (const std::optional<std::string>& text :
         {std::optional<std::string>{"zulu"}, std::optional<std::string>{"yankee xr"}}) {
      filters.push_back({.q = text, .since_us = t0 + since * 1000, .until_us = t0 + until * 1000});
      filters.push_back({.host = "a.example.com",
                         .q = text,
                         .since_us = t0 + since * 1000,
                         .until_us = t0 + until * 1000});
    }
  }
  for (const auto& f : filters) {
    names_t expected;
    for (const auto& [name, m] : models) {
      const std::string host = f.host ? lower(*f.host) : "";
      const bool host_ok =
          !f.host ||
          (host.rfind("*.", 0) == 0 ? m.host.ends_with(host.substr(1)) || m.host == host.substr(2)
                                    : m.host == host);
      const bool method_ok = !f.method || upper(*f.method) == upper(m.method);
      const bool status_ok =
          !f.status || (*f.status == "2xx" ? m.status >= 200 && m.status < 300
                                           : std::to_string(m.status) == *f.status);
      const bool version_ok = !f.http_version || *f.http_version == m.http_version;
      const bool ws_ok = !f.is_websocket || *f.is_websocket == m.websocket;
      const bool error_ok = !f.error || *f.error == (m.status == 0);
      const bool q_ok = !f.q || has_phrase(m.words, *f.q);
      const std::int64_t started = t0 + m.index * 1000;
      const bool time_ok =
          (!f.since_us || started >= *f.since_us) && (!f.until_us || started <= *f.until_us);
      if (host_ok && method_ok && status_ok && version_ok && ws_ok && error_ok && q_ok && time_ok) {
        expected.insert(name);
      }
    }
    const auto listed = walk(f, 13);
    EXPECT_EQ(names_t(listed.begin(), listed.end()), expected)
        << "host=" << f.host.value_or("-") << " method=" << f.method.value_or("-")
        << " status=" << f.status.value_or("-") << " q=" << f.q.value_or("-")
        << " since=" << f.since_us.value_or(0) - t0 << " until=" << f.until_us.value_or(0) - t0;
  }
}

}  // namespace
