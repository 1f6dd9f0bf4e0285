#pragma once
// A real store on a temporary file, the API context over it, and helpers that call api::handle
// as a function: request in, response out.

#include "hark/api/router.hpp"
#include "hark/capture/entry_record.hpp"
#include "hark/capture/recording_state.hpp"
#include "hark/core/ids.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/database.hpp"
#include "hark/store/writer.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace hark::api::test {

namespace http = boost::beast::http;
using json = nlohmann::json;

class api_fixture : public ::testing::Test {
 protected:
  api_fixture()
      : dir_(std::filesystem::temp_directory_path() / ("hark-api-test-" + ids::new_ulid())) {
    std::filesystem::create_directories(dir_);
    db_ = std::make_unique<store::database>(db_path());
    catalog_ = std::make_unique<store::catalog>(*db_);
    ctx_ = std::make_unique<context>(context{*catalog_, recording_});
  }

  ~api_fixture() override {
    writer_.reset();
    ctx_.reset();
    catalog_.reset();
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::filesystem::path db_path() const { return dir_ / "hark.db"; }

  /** Sends one request through api::handle, Host `localhost:8889` unless `host` is given. */
  response call(http::verb method, const std::string& target, const std::string& body = {},
                const std::string& host = "localhost:8889") {
    request req{method, target, 11};
    if (!host.empty()) {
      req.set(http::field::host, host);
    }
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    return handle(*ctx_, req);
  }

  response get(const std::string& target) { return call(http::verb::get, target); }

  /** The response body as JSON (fails the test when it is not JSON). */
  static json body_json(const response& res) {
    auto value = json::parse(res.body(), nullptr, false);
    EXPECT_FALSE(value.is_discarded()) << res.body();
    return value;
  }

  static std::string error_of(const response& res) {
    const auto value = body_json(res);
    return value.is_object() && value.contains("error") ? value["error"].get<std::string>() : "";
  }

  /** Creates a session through the API; returns its JSON. */
  json create_session(const std::string& name) {
    const auto res = call(http::verb::post, "/api/sessions", json{{"name", name}}.dump());
    EXPECT_EQ(res.result(), http::status::created);
    return body_json(res);
  }

  /** A plain completed GET exchange in `session_id`, started `offset` after a fixed instant. */
  static capture::entry_record make_entry(const std::string& session_id, const std::string& host,
                                          std::chrono::milliseconds offset) {
    capture::entry_record record;
    const auto started = std::chrono::system_clock::time_point{} +
                         std::chrono::milliseconds(1'770'000'000'000) + offset;
    record.id = ids::new_ulid(started);
    record.session_id = session_id;
    record.url = "http://" + host + "/path";
    record.host = host;
    record.http_version = "HTTP/1.1";
    record.request.method = "GET";
    record.request.path = "/path";
    record.request.http_version = "HTTP/1.1";
    record.request.headers = {{"Host", host}, {"User-Agent", "test"}};
    record.request.body_size = 0;
    capture::response_record response;
    response.http_version = "HTTP/1.1";
    response.status_code = 200;
    response.status_text = "OK";
    response.headers = {{"Content-Type", "text/plain"}};
    response.body_size = 0;
    record.response = std::move(response);
    record.timings.started_at = started;
    record.duration_ms = 10;
    return record;
  }

  /** Writes `record` through the real store writer and waits for the commit. */
  void insert(capture::entry_record record) {
    if (!writer_) {
      store::writer_options options;
      options.database_path = db_path();
      writer_ = std::make_unique<store::writer>(std::move(options));
    }
    writer_->submit(std::move(record));
    writer_->flush();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::database> db_;
  std::unique_ptr<store::catalog> catalog_;
  capture::recording_state recording_;
  std::unique_ptr<context> ctx_;
  std::unique_ptr<store::writer> writer_;
};

}  // namespace hark::api::test
