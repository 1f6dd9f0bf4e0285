// GET /api/events in process: the routed reply's head, then its body pulled piece by piece on a
// test io_context (SSE frames, keep-alive, filters, drop, close), and once over a real socket
// to see a stream end when the server stops.

#include "api_fixture.hpp"

#include "hark/api/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <thread>

namespace hark::api::test {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;
using capture::event_type;

/** Runs one next() of `body` into `out`; `running` is cleared when it returns. */
net::awaitable<void> pull_into(body_stream* body, std::optional<std::string>* out, bool* running) {
  auto piece = co_await body->next();
  *out = std::move(piece);
  *running = false;
}

/** One SSE frame as a client reads it. */
struct frame {
  std::string id;
  std::string event;
  std::string data;
};

/** Parses the frames of `text` (comments skipped, `data:` lines joined with LF). */
std::vector<frame> parse_frames(const std::string& text) {
  std::vector<frame> out;
  frame current;
  bool any = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find('\n', pos);
    const auto line = text.substr(pos, end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    if (line.empty()) {
      if (any) {
        out.push_back(current);
      }
      current = {};
      any = false;
      continue;
    }
    if (line[0] == ':') {
      continue;
    }
    const auto colon = line.find(": ");
    const auto field = line.substr(0, colon);
    const auto value = colon == std::string::npos ? "" : line.substr(colon + 2);
    any = true;
    if (field == "id") {
      current.id = value;
    } else if (field == "event") {
      current.event = value;
    } else if (field == "data") {
      current.data += current.data.empty() ? value : "\n" + value;
    }
  }
  return out;
}

class api_events : public api_fixture {
 protected:
  api_events() : hub_(hub_options()) {
    ctx_->events = &hub_;
    ctx_->events_keepalive = 1h;
  }

  ~api_events() override {
    writer_.reset();  // it may publish to hub_ until it stops
  }

  static capture::event_hub_options hub_options() {
    capture::event_hub_options options;
    options.max_queued_events = 4;
    return options;
  }

  /** Routes GET `target`: the reply, with its body stream when it is one. */
  reply open(const std::string& target) {
    request req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost:8889");
    return serve(*ctx_, req);
  }

  /** The next piece of `r`'s body, or nullopt when none came within `timeout` (the pull then
   *  stays pending, and the next call goes on waiting for it). */
  std::optional<std::string> pull(reply& r, std::chrono::milliseconds timeout = 2s) {
    if (!running_) {
      running_ = true;
      result_.reset();
      net::co_spawn(ioc_, pull_into(r.body.get(), &result_, &running_), net::detached);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!result_ && std::chrono::steady_clock::now() < deadline) {
      ioc_.restart();
      ioc_.run_one_until(deadline);
    }
    auto out = std::move(result_);
    result_.reset();
    return out;
  }

  /** The frames of the next piece (fails the test when none comes). */
  std::vector<frame> pull_frames(reply& r) {
    const auto piece = pull(r);
    EXPECT_TRUE(piece.has_value()) << "no event within 2 s";
    return piece ? parse_frames(*piece) : std::vector<frame>{};
  }

  /** Makes insert() use a writer that publishes to the hub. */
  void use_publishing_writer() {
    store::writer_options options;
    options.database_path = db_path();
    options.events = &hub_;
    writer_ = std::make_unique<store::writer>(std::move(options));
  }

  capture::event_hub hub_;
  net::io_context ioc_;  // after hub_: destroyed first, with any pending pull
  std::optional<std::string> result_;
  bool running_ = false;
};

TEST_F(api_events, head_is_an_event_stream) {
  auto r = open("/api/events");
  ASSERT_TRUE(r.body);
  EXPECT_EQ(r.head.result(), http::status::ok);
  EXPECT_EQ(r.head[http::field::content_type], "text/event-stream");
  EXPECT_EQ(r.head[http::field::cache_control], "no-cache");
  EXPECT_TRUE(r.head.chunked());
  EXPECT_EQ(hub_.subscriber_count(), 1u);  // subscribed before the head goes out
}

TEST_F(api_events, session_changes_arrive_as_frames_with_the_session_object) {
  auto r = open("/api/events");
  const auto created = create_session("watched");
  auto frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, "1");
  EXPECT_EQ(frames[0].event, "session");
  EXPECT_EQ(json::parse(frames[0].data), json({{"action", "created"}, {"session", created}}));

  const auto id = created["id"].get<std::string>();
  const auto patched = body_json(call(http::verb::patch, "/api/sessions/" + id, R"({"name":"x"})"));
  frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, "2");
  EXPECT_EQ(frames[0].event, "session");
  EXPECT_EQ(json::parse(frames[0].data), json({{"action", "updated"}, {"session", patched}}));

  EXPECT_EQ(call(http::verb::delete_, "/api/sessions/" + id).result_int(), 200);
  frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "session");
  EXPECT_EQ(json::parse(frames[0].data), json({{"action", "deleted"}, {"session", {{"id", id}}}}));
}

TEST_F(api_events, activation_updates_the_session_it_replaces_too) {
  const auto first = create_session("first");
  const auto second = create_session("second");
  const auto first_id = first["id"].get<std::string>();
  const auto second_id = second["id"].get<std::string>();
  ASSERT_EQ(call(http::verb::post, "/api/sessions/" + first_id + "/activate").result_int(), 200);
  auto r = open("/api/events");
  ASSERT_EQ(call(http::verb::post, "/api/sessions/" + second_id + "/activate").result_int(), 200);
  const auto frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].event, "session");
  EXPECT_EQ(json::parse(frames[0].data)["action"], "updated");
  EXPECT_EQ(json::parse(frames[0].data)["session"]["id"], first_id);
  EXPECT_EQ(json::parse(frames[0].data)["session"]["isActive"], false);
  EXPECT_EQ(frames[1].event, "session");
  EXPECT_EQ(json::parse(frames[1].data)["session"]["id"], second_id);
  EXPECT_EQ(json::parse(frames[1].data)["session"]["isActive"], true);
}

TEST_F(api_events, committed_entry_is_sent_whole_and_is_already_readable) {
  const auto session = create_session("traffic")["id"].get<std::string>();
  use_publishing_writer();
  auto r = open("/api/events?types=entry");
  auto record = make_entry(session, "example.com", 0ms);
  const auto entry_id = record.id;
  insert(std::move(record));
  const auto frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "entry");
  const auto doc = json::parse(frames[0].data);
  EXPECT_EQ(doc["id"], entry_id);
  EXPECT_EQ(doc["sessionId"], session);
  const auto stored = get("/api/sessions/" + session + "/entries/" + entry_id);
  ASSERT_EQ(stored.result_int(), 200);
  EXPECT_EQ(body_json(stored), doc);

  // Deleting entries changes the session's counters: announced as an update (not asked for
  // by this stream's type filter, so it sees nothing).
  EXPECT_EQ(call(http::verb::delete_, "/api/sessions/" + session + "/entries").result_int(), 200);
  EXPECT_FALSE(pull(r, 100ms).has_value());
}

TEST_F(api_events, deleting_entries_announces_the_new_counts) {
  const auto session = create_session("traffic")["id"].get<std::string>();
  insert(make_entry(session, "example.com", 0ms));
  auto r = open("/api/events");
  EXPECT_EQ(call(http::verb::delete_, "/api/sessions/" + session + "/entries").result_int(), 200);
  const auto frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "session");
  EXPECT_EQ(json::parse(frames[0].data)["session"]["trafficCount"], 0);
}

TEST_F(api_events, session_filter_keeps_other_sessions_out) {
  const auto a = create_session("a")["id"].get<std::string>();
  const auto b = create_session("b")["id"].get<std::string>();
  auto r = open("/api/events?sessionId=" + a);
  ASSERT_TRUE(r.body);
  EXPECT_EQ(call(http::verb::patch, "/api/sessions/" + b, R"({"name":"b2"})").result_int(), 200);
  EXPECT_EQ(call(http::verb::patch, "/api/sessions/" + a, R"({"name":"a2"})").result_int(), 200);
  const auto frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(json::parse(frames[0].data)["session"]["name"], "a2");
}

TEST_F(api_events, unknown_session_is_404_before_any_stream) {
  auto r = open("/api/events?sessionId=no-such-session");
  EXPECT_FALSE(r.body);
  EXPECT_EQ(r.head.result_int(), 404);
  EXPECT_EQ(body_json(r.head), json({{"error", "Session not found"}}));
  r = open("/api/events?sessionId=active");
  EXPECT_FALSE(r.body);
  EXPECT_EQ(body_json(r.head), json({{"error", "No active session"}}));
  EXPECT_EQ(hub_.live_subscriptions(), 0u);
}

TEST_F(api_events, active_names_the_session_active_when_subscribing) {
  const auto a = create_session("a")["id"].get<std::string>();
  ASSERT_EQ(call(http::verb::post, "/api/sessions/" + a + "/activate").result_int(), 200);
  auto r = open("/api/events?sessionId=active&types=session");
  ASSERT_TRUE(r.body);
  ASSERT_EQ(call(http::verb::delete_, "/api/sessions/" + a).result_int(), 200);
  const auto frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "session");
  EXPECT_EQ(json::parse(frames[0].data)["action"], "deleted");
}

TEST_F(api_events, unknown_type_is_400) {
  const auto r = open("/api/events?types=entry,bogus");
  EXPECT_FALSE(r.body);
  EXPECT_EQ(r.head.result_int(), 400);
  EXPECT_EQ(error_of(r.head), "Invalid types filter: unknown event type 'bogus'");
}

TEST_F(api_events, keep_alive_comment_after_silence) {
  ctx_->events_keepalive = 50ms;
  auto r = open("/api/events");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(pull(r), ": keep-alive\n\n");
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
  EXPECT_EQ(pull(r), ": keep-alive\n\n");
}

TEST_F(api_events, a_consumer_that_falls_behind_is_told_and_ended) {
  auto r = open("/api/events");
  for (int i = 0; i < 5; ++i) {  // the queue holds 4
    hub_.publish(event_type::entry, "s", "{}");
  }
  EXPECT_EQ(hub_.dropped_total(), 1u);
  EXPECT_EQ(pull(r), "event: dropped\ndata: {\"reason\":\"queue_full\"}\n\n");
  EXPECT_EQ(pull(r), "");  // the end of the body
  EXPECT_EQ(pull(r), "");
}

TEST_F(api_events, closing_the_hub_ends_a_waiting_stream) {
  auto r = open("/api/events");
  EXPECT_FALSE(pull(r, 50ms).has_value());  // waiting for events
  std::thread closer([this] { hub_.close(); });
  closer.join();
  EXPECT_EQ(pull(r), "");
}

TEST_F(api_events, frames_split_data_on_line_breaks_and_batch_a_burst) {
  auto r = open("/api/events");
  hub_.publish(event_type::tls_failure, "", "one\ntwo\r\nthree");
  hub_.publish(event_type::tls_failure, "", "{}");
  EXPECT_EQ(pull(r),
            "id: 1\nevent: tls_failure\ndata: one\ndata: two\ndata: three\n\n"
            "id: 2\nevent: tls_failure\ndata: {}\n\n");
}

TEST_F(api_events, wakes_come_from_another_thread) {
  auto r = open("/api/events");
  EXPECT_FALSE(pull(r, 20ms).has_value());
  std::thread publisher([this] { hub_.publish(event_type::entry, "s", R"({"id":"x"})"); });
  const auto frames = pull_frames(r);
  publisher.join();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, R"({"id":"x"})");
}

TEST_F(api_events, ending_the_response_unsubscribes) {
  {
    auto r = open("/api/events");
    EXPECT_EQ(hub_.subscriber_count(), 1u);
  }
  EXPECT_EQ(hub_.subscriber_count(), 0u);
  EXPECT_EQ(hub_.live_subscriptions(), 0u);
}

TEST_F(api_events, without_a_hub_the_route_is_unavailable) {
  ctx_->events = nullptr;
  const auto r = open("/api/events");
  EXPECT_FALSE(r.body);
  EXPECT_EQ(r.head.result_int(), 503);
  EXPECT_EQ(call(http::verb::post, "/api/events").result_int(), 405);
}

TEST_F(api_events, metrics_count_subscribers_and_drops) {
  auto r = open("/api/events");
  auto body = get("/metrics").body();
  EXPECT_NE(body.find("hark_events_subscribers 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("hark_events_dropped_subscribers_total 0\n"), std::string::npos);
  for (int i = 0; i < 5; ++i) {
    hub_.publish(event_type::entry, "s", "{}");
  }
  body = get("/metrics").body();
  EXPECT_NE(body.find("hark_events_subscribers 0\n"), std::string::npos) << body;
  EXPECT_NE(body.find("hark_events_dropped_subscribers_total 1\n"), std::string::npos);
}

// --- over a socket ----------------------------------------------------------------------------

/** Reads from `stream` into `seen` until it contains `needle`; false at EOF or error. */
bool read_until_seen(beast::tcp_stream& stream, std::string& seen, std::string_view needle) {
  while (seen.find(needle) == std::string::npos) {
    char buf[4096];
    beast::error_code ec;
    const auto n = stream.read_some(net::buffer(buf), ec);
    if (ec) {
      return false;
    }
    seen.append(buf, n);
  }
  return true;
}

TEST_F(api_events, server_stop_ends_an_open_stream_with_its_last_chunk) {
  net::io_context server_ioc;
  server srv(server_ioc, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0), *ctx_);
  srv.start();
  std::thread thread([&server_ioc] { server_ioc.run(); });

  net::io_context client_ioc;
  beast::tcp_stream stream(client_ioc);
  stream.expires_after(10s);
  stream.connect(srv.local_endpoint());
  net::write(stream,
             net::buffer(std::string("GET /api/events HTTP/1.1\r\nHost: localhost\r\n\r\n")));
  std::string seen;
  ASSERT_TRUE(read_until_seen(stream, seen, "\r\n\r\n"));
  EXPECT_NE(seen.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Content-Type: text/event-stream\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << seen;

  hub_.publish(event_type::entry, "s", R"({"id":"e"})");
  ASSERT_TRUE(read_until_seen(stream, seen, "id: 1\nevent: entry\ndata: {\"id\":\"e\"}\n\n\r\n"));

  const auto stopped_at = std::chrono::steady_clock::now();
  srv.stop();
  ASSERT_TRUE(read_until_seen(stream, seen, "\r\n0\r\n\r\n")) << seen;
  std::string rest;
  EXPECT_FALSE(read_until_seen(stream, rest, "never"));  // then the server closes
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 2s);

  server_ioc.stop();
  thread.join();
}

TEST_F(api_events, har_import_announces_its_session) {
  auto r = open("/api/events?types=session");
  const std::string har =
      R"({"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[{)"
      R"("startedDateTime":"2026-01-01T00:00:00.000Z","time":1,)"
      R"("request":{"method":"GET","url":"http://example.com/","httpVersion":"HTTP/1.1",)"
      R"("cookies":[],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},)"
      R"("response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],)"
      R"("headers":[],"content":{"size":0,"mimeType":"text/plain"},"redirectURL":"",)"
      R"("headersSize":-1,"bodySize":0},"cache":{},)"
      R"("timings":{"send":0,"wait":1,"receive":0}}]}})";
  const auto imported = body_json(call(http::verb::post, "/api/har/import", har));
  ASSERT_EQ(imported["imported"], 1) << imported.dump();
  auto frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  auto data = json::parse(frames[0].data);
  EXPECT_EQ(data["action"], "created");
  EXPECT_EQ(data["session"]["id"], imported["sessionId"]);
  EXPECT_EQ(data["session"]["trafficCount"], 1);

  const auto sid = imported["sessionId"].get<std::string>();
  ASSERT_EQ(call(http::verb::post, "/api/har/import?sessionId=" + sid, har).result_int(), 200);
  frames = pull_frames(r);
  ASSERT_EQ(frames.size(), 1u);
  data = json::parse(frames[0].data);
  EXPECT_EQ(data["action"], "updated");
  EXPECT_EQ(data["session"]["trafficCount"], 2);
}

}  // namespace
}  // namespace hark::api::test
