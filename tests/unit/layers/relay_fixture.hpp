#pragma once
// The proxy under test for the relay suites: serve_client for every connection accepted on
// 127.0.0.1:0, run on its own io_context thread, with a flow_sink that records every event. The
// test thread plays the client and a scripted_origin the server.

#include "script_socket.hpp"

#include "hark/layers/proxy_session.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <condition_variable>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hark::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using capture::flow;
using capture::flow_outcome;
using capture::header_list;
using capture::http_head;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// A flow_sink that records every event (called on the proxy's thread, read by the test's).

struct recorded_flow {
  std::string scheme;
  std::string host;
  std::uint16_t port = 0;
  std::string url;
  http_head request;
  std::string request_body;
  std::optional<header_list> request_trailers;
  std::optional<http_head> response;
  std::string response_body;
  std::optional<header_list> response_trailers;
  std::optional<flow_outcome> outcome;
  std::optional<hark::capture::net_address> remote_addr;
  bool is_websocket = false;
  bool measured_wait = false;
  std::string events;  ///< event names joined by spaces, repeated body pieces shown once

  std::string error_code() const {
    return outcome && outcome->error ? outcome->error->code : std::string();
  }
  std::string error_message() const {
    return outcome && outcome->error ? outcome->error->message : std::string();
  }
};

class recording_sink final : public hark::capture::flow_sink {
 public:
  void on_request_head(flow& f, const http_head& head) override {
    const std::lock_guard lock(mutex_);
    auto& r = flows_.emplace_back();
    r.scheme = f.scheme;
    r.host = f.host;
    r.port = f.port;
    r.url = f.url;
    r.request = head;
    f.sink_state = std::make_unique<index>(flows_.size() - 1);
    note(r, "request_head");
  }
  void on_request_body(flow& f, std::string_view bytes) override {
    const std::lock_guard lock(mutex_);
    auto& r = of(f);
    r.request_body.append(bytes);
    note(r, "request_body");
  }
  void on_request_end(flow& f, const header_list& trailers) override {
    const std::lock_guard lock(mutex_);
    auto& r = of(f);
    r.request_trailers = trailers;
    note(r, "request_end");
  }
  void on_response_head(flow& f, const http_head& head) override {
    const std::lock_guard lock(mutex_);
    auto& r = of(f);
    r.response = head;
    note(r, "response_head");
  }
  void on_response_body(flow& f, std::string_view bytes) override {
    const std::lock_guard lock(mutex_);
    auto& r = of(f);
    r.response_body.append(bytes);
    note(r, "response_body");
  }
  void on_response_end(flow& f, const header_list& trailers) override {
    const std::lock_guard lock(mutex_);
    auto& r = of(f);
    r.response_trailers = trailers;
    note(r, "response_end");
  }
  void on_flow_end(flow& f, const flow_outcome& outcome) override {
    const std::lock_guard lock(mutex_);
    auto& r = of(f);
    r.outcome = outcome;
    r.remote_addr = f.remote_addr;
    r.is_websocket = f.is_websocket;
    r.measured_wait = f.timings.wait.has_value();
    note(r, "flow_end");
    ++ended_;
    ended_changed_.notify_all();
  }

  /** The flows once `n` of them ended (bounded wait; fewer on timeout). */
  std::vector<recorded_flow> wait_ended(std::size_t n) {
    std::unique_lock lock(mutex_);
    ended_changed_.wait_for(lock, hark::test::wait_limit, [&] { return ended_ >= n; });
    return flows_;
  }
  std::vector<recorded_flow> flows() {
    const std::lock_guard lock(mutex_);
    return flows_;
  }

 private:
  struct index final : hark::capture::flow_state {
    explicit index(std::size_t i) : value(i) {}
    std::size_t value;
  };
  recorded_flow& of(flow& f) { return flows_.at(dynamic_cast<index&>(*f.sink_state).value); }
  static void note(recorded_flow& r, std::string_view event) {
    if (r.events.size() >= event.size() && r.events.ends_with(event) && event.ends_with("_body")) {
      return;
    }
    if (!r.events.empty()) {
      r.events += ' ';
    }
    r.events += event;
  }

  std::mutex mutex_;
  std::condition_variable ended_changed_;
  std::vector<recorded_flow> flows_;
  std::size_t ended_ = 0;
};

inline constexpr std::string_view complete_events =
    "request_head request_end response_head response_body response_end flow_end";

// ---------------------------------------------------------------------------------------------
// The proxy under test: serve_client for every connection accepted on 127.0.0.1:0.

inline asio::awaitable<void> accept_clients(tcp::acceptor& acceptor,
                                            hark::layers::worker_state& worker) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return;
    }
    asio::co_spawn(acceptor.get_executor(), hark::layers::serve_client(std::move(socket), worker),
                   asio::detached);
  }
}

inline hark::config test_config() {
  hark::config cfg;
  cfg.header_timeout = 2s;
  cfg.idle_timeout = 2s;
  cfg.connect_timeout = 2s;
  cfg.upstream_timeout = 1s;
  return cfg;
}

class relay : public ::testing::Test {
 protected:
  explicit relay(hark::config cfg = test_config()) : cfg_(std::move(cfg)) {
    services_.proxy_address = "127.0.0.1:" + std::to_string(proxy_port());
    services_.ca_pem = "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n";
    asio::co_spawn(io_, accept_clients(acceptor_, worker_), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~relay() override {
    io_.stop();
    thread_.join();
  }

  std::uint16_t proxy_port() const { return acceptor_.local_endpoint().port(); }
  script_socket connect() { return script_socket::connect(proxy_port()); }

  // Destroyed in reverse: the io_context last, after every socket that uses it.
  asio::io_context io_;
  hark::config cfg_;
  recording_sink sink_;
  hark::layers::proxy_services services_{cfg_, sink_};
  hark::layers::worker_state worker_{services_};
  tcp::acceptor acceptor_{io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  std::thread thread_;
};

inline std::string authority(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

/** `Content-Length` response with `body`. */
inline std::string ok_response(std::string_view body, std::string_view extra_fields = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_fields) + "\r\n" + std::string(body);
}

/** A bodiless GET for http://127.0.0.1:port/path through the proxy. */
inline std::string proxy_get(std::uint16_t port, std::string_view path) {
  return "GET http://" + authority(port) + std::string(path) +
         " HTTP/1.1\r\nHost: " + authority(port) + "\r\n\r\n";
}

/** What the origin receives for proxy_get(port, path). */
inline std::string origin_get(std::uint16_t port, std::string_view path) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + authority(port) + "\r\n\r\n";
}

/** Sends `pieces` with a pause between them so that the proxy reads each on its own (the pause
 *  only shapes the TCP segments; the test passes whatever the proxy's timing). */
inline void send_in_pieces(script_socket& s, std::initializer_list<std::string_view> pieces) {
  for (const auto piece : pieces) {
    s.send(piece);
    std::this_thread::sleep_for(30ms);
  }
}

/** Hark's synthetic text/plain response, as make_synthetic writes it. */
inline std::string synthetic(std::string_view status, std::string_view code, std::string_view body,
                             std::string_view connection) {
  return "HTTP/1.1 " + std::string(status) +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nX-Hark-Error: " + std::string(code) +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: " + std::string(connection) + "\r\n\r\n" + std::string(body);
}

/** Reads one Content-Length response; returns {head, body}. */
inline std::pair<std::string, std::string> read_response(script_socket& s) {
  auto head = s.read_until("\r\n\r\n");
  const auto at = head.find("Content-Length: ");
  if (at == std::string::npos) {
    return {head, ""};
  }
  const auto length = std::stoul(head.substr(at + 16));
  return {head, s.read_exact(length)};
}

inline constexpr std::string_view connect_established =
    "HTTP/1.1 200 Connection established\r\n\r\n";

}  // namespace hark::test
