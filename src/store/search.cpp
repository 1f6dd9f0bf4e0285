#include "search.hpp"

#include "statement.hpp"

#include "hark/core/hex.hpp"

#include <sqlite3.h>

#include <algorithm>

namespace hark::store {
namespace {

/** FTS5's extension API of this connection (https://sqlite.org/fts5.html#extending_fts5). */
fts5_api* fts5_api_of(database& db) {
  fts5_api* api = nullptr;
  auto st = statement::cached(db, "SELECT fts5(?1)");
  st.bind_pointer(1, static_cast<void*>(&api), "fts5_api_ptr");
  st.step();
  if (api == nullptr) {
    throw store_error("SQLite was built without FTS5");
  }
  return api;
}

// The shortest last word of q that also matches as the start of longer words.
constexpr std::size_t min_prefix_characters = 3;

/** Code points in UTF-8 `text`. */
std::size_t characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

/** `text` as an FTS5 string: in double quotes, inner ones doubled. */
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  out += '"';
}

}  // namespace

std::int64_t indexed_row(database& db) {
  auto st = statement::cached(db, "SELECT indexed_row FROM search_state");
  return st.step() ? st.column_int64(0) : 0;
}

std::int64_t index_pending(database& db, std::int64_t counted_from) {
  const std::int64_t from = indexed_row(db);
  std::int64_t top = 0;
  {
    auto st = statement::cached(db, "SELECT coalesce(max(row), 0) FROM entries");
    top = st.step() ? st.column_int64(0) : 0;
  }
  if (top > from) {
    auto fts = statement::cached(db,
                                 "INSERT INTO entries_fts (rowid, session, text, facets) "
                                 "SELECT row, session, text, facets FROM entry_search "
                                 "WHERE row > ?1");
    fts.bind(1, from).run();
    // Grouped by the method as sent ('get' and 'GET' apart), as the delete trigger finds them.
    auto counts = statement::cached(
        db,
        "INSERT INTO entry_counts "
        "SELECT session_id, host, method COLLATE BINARY, coalesce(status, 0), http_version, "
        "is_websocket, error_code IS NOT NULL, count(*), count(duration_ms), "
        "coalesce(sum(duration_ms), 0) "
        "FROM entries WHERE row > ?1 AND row < ?2 GROUP BY 1, 2, 3, 4, 5, 6, 7 "
        "ON CONFLICT (session_id, host, method, status, http_version, is_websocket, is_error) "
        "DO UPDATE SET entries = entries + excluded.entries, timed = timed + excluded.timed, "
        "duration_ms = duration_ms + excluded.duration_ms");
    counts.bind(1, from).bind(2, counted_from).run();
  }
  if (top != from) {
    auto st = statement::cached(db, "UPDATE search_state SET indexed_row = ?1");
    st.bind(1, top).run();
  }
  return top > from ? top - from : 0;
}

std::vector<std::string> search_tokens(database& db, std::string_view text) {
  fts5_api* api = fts5_api_of(db);
  void* context = nullptr;
  fts5_tokenizer tokenizer{};
  if (api->xFindTokenizer(api, "unicode61", &context, &tokenizer) != SQLITE_OK) {
    throw store_error("FTS5 has no unicode61 tokenizer");
  }
  Fts5Tokenizer* instance = nullptr;
  if (tokenizer.xCreate(context, nullptr, 0, &instance) != SQLITE_OK) {
    throw store_error("cannot create the unicode61 tokenizer");
  }
  std::vector<std::string> tokens;
  // A C callback: must not throw (STYLE 2); push_back can only fail with bad_alloc.
  const auto on_token = [](void* out, int, const char* token, int size, int, int) noexcept {
    try {
      static_cast<std::vector<std::string>*>(out)->emplace_back(token,
                                                                static_cast<std::size_t>(size));
      return SQLITE_OK;
    } catch (...) {
      return SQLITE_NOMEM;
    }
  };
  const int rc = tokenizer.xTokenize(instance, &tokens, FTS5_TOKENIZE_QUERY, text.data(),
                                     static_cast<int>(text.size()), on_token);
  tokenizer.xDelete(instance);
  if (rc != SQLITE_OK) {
    throw store_error("cannot tokenize the search text");
  }
  return tokens;
}

std::optional<std::string> fts_phrase(database& db, std::string_view q) {
  const auto tokens = search_tokens(db, q);
  if (tokens.empty()) {
    return std::nullopt;
  }
  std::string out = "text : (";
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i != 0) {
      out += " + ";
    }
    append_quoted(out, tokens[i]);
  }
  // A prefix query merges the matches of every word that starts with it: for one or two
  // characters, most words of a session (over a second for a million entries). Short last
  // words are taken whole.
  out += characters(tokens.back()) >= min_prefix_characters ? " *)" : ")";
  return out;
}

namespace {

/** ASCII case mapping, as SQLite's upper() and lower() (and NOCASE) do it. */
std::string ascii_case(std::string_view text, bool upper) {
  std::string out(text);
  for (auto& c : out) {
    if (upper && c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (!upper && c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> facet_filter(const entry_filter& filter, std::int64_t status_low,
                                        std::int64_t status_high,
                                        const std::vector<std::string>* domain_hosts) {
  std::vector<std::string> terms;
  const auto token = [&](const std::string& text) {
    std::string term = "facets : ";
    append_quoted(term, text);
    terms.push_back(std::move(term));
  };
  if (filter.host) {
    if (filter.host->starts_with("*.")) {
      if (domain_hosts == nullptr) {
        return std::nullopt;
      }
      // The session's hosts under the domain, one token each.
      std::string any = "facets : (";
      for (const auto& host : *domain_hosts) {
        any += any.ends_with("(") ? "" : " OR ";
        append_quoted(any, "hx" + to_hex(host));
      }
      any += domain_hosts->empty() ? "\"e0\" NOT \"e0\")" : ")";  // no host: nothing
      terms.push_back(std::move(any));
    } else {
      token("hx" + to_hex(ascii_case(*filter.host, false)));
    }
  }
  if (filter.method) {
    token("mx" + to_hex(ascii_case(*filter.method, true)));
  }
  if (filter.status) {
    if (status_low <= 0) {
      return std::nullopt;  // the facet says 0 for no response, where the column is NULL
    }
    token(status_low == status_high ? "s" + std::to_string(status_low)
                                    : "c" + std::to_string(status_low / 100) + "xx");
  }
  if (filter.http_version) {
    token("vx" + to_hex(*filter.http_version));
  }
  if (filter.is_websocket) {
    token(*filter.is_websocket ? "w1" : "w0");
  }
  if (filter.error) {
    token(*filter.error ? "e1" : "e0");
  }
  if (terms.empty()) {
    return std::nullopt;
  }
  std::string out;
  for (const auto& term : terms) {
    out += out.empty() ? "" : " AND ";
    out += term;
  }
  return out;
}

std::string session_filter(std::string_view session_id) {
  std::string out;
  out.reserve(session_id.size() + 13);
  out += "session : ";
  std::string plain;
  for (const char c : session_id) {
    if (c != '-') {
      plain += c;
    }
  }
  append_quoted(out, plain);
  return out;
}

}  // namespace hark::store
