#pragma once
// A real store on a temporary file and the REST API's context over it, for the API's libFuzzer
// targets: requests go through api::handle exactly as the API thread serves them. The store is
// created again every `renew_every` inputs, so that what earlier inputs created (sessions,
// imported entries) does not slow the run down without bound.

#include "hark/api/router.hpp"
#include "hark/capture/recording_state.hpp"
#include "hark/capture/tls_registry.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/database.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace hark::fuzz {

namespace http = boost::beast::http;

/** Aborts (a libFuzzer finding) when `condition` is false, saying which check it was. */
inline void check(bool condition, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE()) {
  if (!condition) {
    std::fprintf(stderr, "check failed at %s:%d\n", file, line);
    std::abort();
  }
}

class api_store {
 public:
  static constexpr int renew_every = 512;

  api_store()
      : dir_(std::filesystem::temp_directory_path() /
             ("hark-api-fuzz-" + std::to_string(::getpid()))) {}
  ~api_store() {
    close();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  /** Called at the start of each input: every renew_every inputs the store starts empty, so
   *  that it does not grow without bound. Never between the requests of one input, which may
   *  depend on each other (an import, then the listing of its session). */
  void next_input() {
    if (++inputs_ % renew_every == 0) {
      close();
    }
  }

  /** The context, opening a fresh store when there is none. */
  api::context& context() {
    if (!ctx_) {
      close();
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      std::filesystem::create_directories(dir_);
      db_.emplace(dir_ / "hark.db");
      catalog_.emplace(*db_);
      ctx_.emplace(api::context{*catalog_, recording_});
      ctx_->tls = &tls_;
    }
    return *ctx_;
  }

  /** Sends `body` as `method target` with a loopback Host; checks what any request's answer
   *  must be: never a 5xx for what a client sent, and JSON whenever the API says so. */
  api::response send(http::verb method, const std::string& target, std::string body) {
    api::request req{method, target, 11};
    req.set(http::field::host, "localhost:8889");
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    api::response res = api::handle(context(), req);
    const bool json_ok = !res[http::field::content_type].starts_with("application/json") ||
                         res.body().empty() ||
                         !nlohmann::json::parse(res.body(), nullptr, false).is_discarded();
    if (res.result_int() < 200 || res.result_int() >= 500 || !json_ok) {
      std::fprintf(stderr, "%s %s -> %d %s\n", std::string(to_string(method)).c_str(),
                   target.c_str(), res.result_int(), res.body().substr(0, 300).c_str());
      std::abort();
    }
    return res;
  }

 private:
  void close() {
    ctx_.reset();
    catalog_.reset();
    db_.reset();
  }

  std::filesystem::path dir_;
  capture::recording_state recording_;
  capture::tls_registry tls_{1000, nullptr};  // passthrough patterns, as the daemon has
  std::optional<store::database> db_;
  std::optional<store::catalog> catalog_;
  std::optional<api::context> ctx_;
  int inputs_ = 0;
};

}  // namespace hark::fuzz
