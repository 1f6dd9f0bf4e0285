// libFuzzer target for the JSON bodies the REST API and JSON-RPC accept: every route that
// reads a body, called through api::handle over a real store, as a client would.
//
//   ./tests/fuzz/hark_api_json_fuzz -max_total_time=60 -dict=../../tests/fuzz/api_json.dict corpus/
//
// The first input byte chooses the route; the rest is the body. Invariants beyond "no crash, no
// sanitizer report": no answer is a 5xx (bad input gets a 4xx saying why), every JSON answer
// parses, and JSON-RPC answers are JSON-RPC 2.0: one response object per request of a batch
// that is not a notification, each with `jsonrpc: "2.0"`, an `id`, and a result or an error.
#include "api_fuzz_store.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using hark::fuzz::check;
using json = nlohmann::json;
namespace http = boost::beast::http;

void check_rpc_response(const json& r) {
  check(r.is_object() && r.value("jsonrpc", "") == "2.0" && r.contains("id"));
  check(r.contains("result") != r.contains("error"));
  if (r.contains("error")) {
    const json& e = r["error"];
    check(e.is_object() && e.contains("code") && e["code"].is_number_integer() &&
          e.contains("message") && e["message"].is_string());
  }
}

void check_rpc(const hark::api::response& res) {
  if (res.result() == http::status::no_content) {
    check(res.body().empty());
    return;
  }
  check(res.result() == http::status::ok);
  const json answer = json::parse(res.body());
  if (answer.is_array()) {
    check(!answer.empty());
    for (const json& r : answer) {
      check_rpc_response(r);
    }
  } else {
    check_rpc_response(answer);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static hark::fuzz::api_store store;
  store.next_input();
  if (size == 0) {
    return 0;
  }
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  // A session that the routes with an id can find: the active one after POST /api/sessions.
  struct route {
    http::verb method;
    const char* target;
  };
  static constexpr std::array<route, 8> routes{{
      {http::verb::post, "/api/rpc"},
      {http::verb::post, "/api/rpc"},
      {http::verb::post, "/api/rpc"},
      {http::verb::post, "/api/sessions"},
      {http::verb::patch, "/api/sessions/active"},
      {http::verb::post, "/api/har/export"},
      {http::verb::post, "/api/passthrough"},
      {http::verb::post, "/api/sessions/active/activate"},
  }};
  const route& r = routes[data[0] % routes.size()];
  if ((data[0] & 0x80) != 0) {
    // Some inputs first make a session active, so that `active` resolves to one.
    store.send(http::verb::post, "/api/sessions", R"({"name":"fuzz"})");
  }
  const auto res = store.send(r.method, r.target, std::move(body));
  if (std::string_view(r.target) == "/api/rpc") {
    check_rpc(res);
  }
  return 0;
}
