// GET /api/har/export/:sid and POST /api/har/export {entryIds} (SPEC §6.4): HAR 1.2 streamed
// as HTTP/1.1 chunks, in constant memory whatever the session's size.
//
//   handler: 404 checks, head ──► har_stream::next(), once per chunk:
//     begin ──► entries: page of 256 documents (keyset on (started_us, row)) ──► per entry:
//               record from its document + bodies + WebSocket messages ──► HAR text
//               until the piece holds 64 KiB ──► … page empty ──► end: `]}}` ──► done: ""
//
// Memory: one page of entry documents and one entry's bodies at a time. No transaction is held
// between pieces (the API thread serves other requests between them): an entry inserted while
// the export runs is included if it sorts after the entries already sent, one deleted is left
// out.

#include "har.hpp"
#include "reply.hpp"

#include "hark/capture/entry_json.hpp"

#include <unordered_set>

namespace hark::api {
namespace {

namespace asio = boost::asio;

/** Entries read from the store per page. */
constexpr int page_size = 256;
/** A piece (one HTTP chunk) is sent once it holds this much; one entry may make it longer. */
constexpr std::size_t piece_size = std::size_t{64} << 10;

/** Where an export's entries come from, one page at a time; an empty page ends it. */
class document_source {
 public:
  virtual ~document_source() = default;
  virtual std::vector<store::entry_document> next_page(store::catalog& catalog) = 0;
};

/** Every entry of a session, oldest first, by keyset pages. */
class session_pages final : public document_source {
 public:
  explicit session_pages(std::string session_id) : session_id_(std::move(session_id)) {}

  std::vector<store::entry_document> next_page(store::catalog& catalog) override {
    if (done_) {
      return {};
    }
    auto page = catalog.entries_after(session_id_, after_, page_size);
    done_ = page.size() < static_cast<std::size_t>(page_size);
    if (!page.empty()) {
      after_ = page.back().position;
    }
    return page;
  }

 private:
  std::string session_id_;
  std::optional<store::entry_position> after_;
  bool done_ = false;
};

/** The entries named by id, in the order given; unknown ids are skipped. */
class id_pages final : public document_source {
 public:
  explicit id_pages(std::vector<std::string> ids) : ids_(std::move(ids)) {}

  std::vector<store::entry_document> next_page(store::catalog& catalog) override {
    std::vector<store::entry_document> page;
    while (next_ < ids_.size() && page.size() < static_cast<std::size_t>(page_size)) {
      if (auto doc = catalog.entry_by_id(ids_[next_++])) {
        page.push_back(std::move(*doc));
      }
    }
    return page;
  }

 private:
  std::vector<std::string> ids_;
  std::size_t next_ = 0;
};

/** The HAR document, produced piece by piece as the server pulls it. */
class har_stream final : public body_stream {
 public:
  har_stream(store::catalog& catalog, std::unique_ptr<document_source> source)
      : catalog_(catalog), source_(std::move(source)) {}

  asio::awaitable<std::string> next() override { co_return produce(); }

 private:
  enum class state { begin, entries, done };

  std::string produce() {
    std::string out;
    if (state_ == state::done) {
      return out;
    }
    out.reserve(piece_size + piece_size / 4);
    if (state_ == state::begin) {
      har::begin_log(out);
      state_ = state::entries;
    }
    while (out.size() < piece_size) {
      if (at_ == page_.size()) {
        page_ = source_->next_page(catalog_);
        at_ = 0;
        if (page_.empty()) {
          har::end_log(out);
          state_ = state::done;
          break;
        }
      }
      if (!first_) {
        out += ',';
      }
      first_ = false;
      render(std::move(page_[at_++]), out);
    }
    return out;
  }

  void render(store::entry_document&& doc, std::string& out) {
    har::entry_source source;
    source.record = capture::entry_from_json(doc.doc);
    std::string().swap(doc.doc);
    source.bodies = catalog_.bodies_of(doc.position.row);
    if (doc.is_websocket) {
      source.messages = catalog_.messages_of(doc.position.row);
    }
    har::write_entry(out, std::move(source));
  }

  store::catalog& catalog_;
  std::unique_ptr<document_source> source_;
  std::vector<store::entry_document> page_;
  std::size_t at_ = 0;
  bool first_ = true;
  state state_ = state::begin;
};

/** The head of a HAR download. */
response har_head(std::string_view file_name) {
  response res{http::status::ok, 11};
  res.set(http::field::content_type, json_content_type);
  res.set(http::field::content_disposition, har::attachment_disposition(file_name));
  return res;
}

response bad_request(std::string_view message) {
  return error_reply(http::status::bad_request, message);
}

/** The ids of `{"entryIds": [...]}`, in order and without repeats; or the 400 reply. */
std::variant<std::vector<std::string>, response> read_entry_ids(const request& req) {
  const auto body = parse_object_body(req);
  if (!body) {
    return bad_request("Invalid JSON body");
  }
  const auto it = body->find("entryIds");
  if (it == body->end() || it->is_null()) {
    return bad_request("Field 'entryIds' is required");
  }
  if (!it->is_array()) {
    return bad_request("Field 'entryIds' must be an array of strings");
  }
  if (it->empty()) {
    return bad_request("Field 'entryIds' must not be empty");
  }
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& id = (*it)[i];
    if (!id.is_string()) {
      return bad_request("Field 'entryIds' must be an array of strings (item " + std::to_string(i) +
                         " is not)");
    }
    if (seen.insert(id.get<std::string>()).second) {
      ids.push_back(id.get<std::string>());
    }
  }
  return ids;
}

}  // namespace

response export_session_har(call& c) {
  const auto sid = resolve_session_id(c.ctx, c.segment(2));
  if (!sid) {
    return error_reply(http::status::not_found, "No active session");
  }
  const auto session = c.ctx.catalog.get_session(*sid);
  if (!session) {
    return error_reply(http::status::not_found, "Session not found");
  }
  c.stream = std::make_unique<har_stream>(c.ctx.catalog, std::make_unique<session_pages>(*sid));
  return har_head(session->name);
}

response export_entries_har(call& c) {
  auto ids = read_entry_ids(c.req);
  if (auto* bad = std::get_if<response>(&ids)) {
    return std::move(*bad);
  }
  c.stream = std::make_unique<har_stream>(
      c.ctx.catalog,
      std::make_unique<id_pages>(std::get<std::vector<std::string>>(std::move(ids))));
  return har_head("hark-entries");
}

}  // namespace hark::api
