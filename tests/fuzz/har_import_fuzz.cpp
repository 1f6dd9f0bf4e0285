// libFuzzer target for HAR import (POST /api/har/import): the document is parsed, each entry
// read into a record (src/api/har_read.cpp) and the records stored, over a real store.
//
//   ./tests/fuzz/hark_har_import_fuzz -max_total_time=60 -dict=../../tests/fuzz/har_import.dict
//   corpus/
//
// Invariants beyond "no crash, no sanitizer report": the answer is 200 or a 400 saying why
// (never a 5xx); a 200 accounts for every entry (imported + errors = total) and its session
// then lists exactly the imported entries.
#include "api_fuzz_store.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hark::fuzz::check;
  using json = nlohmann::json;
  namespace http = boost::beast::http;
  static hark::fuzz::api_store store;
  store.next_input();
  std::string body(reinterpret_cast<const char*>(data), size);
  const auto res = store.send(http::verb::post, "/api/har/import", std::move(body));
  check(res.result() == http::status::ok || res.result() == http::status::bad_request ||
        res.result() == http::status::payload_too_large);
  if (res.result() != http::status::ok) {
    return 0;
  }
  const json answer = json::parse(res.body());
  const auto imported = answer.at("imported").get<std::size_t>();
  const auto total = answer.at("total").get<std::size_t>();
  check(imported + answer.at("errors").size() == total);
  const auto listed = store.send(
      http::verb::get,
      "/api/sessions/" + answer.at("sessionId").get<std::string>() + "/entries?limit=1", {});
  check(listed.result() == http::status::ok);
  check(json::parse(listed.body()).at("total").get<std::size_t>() == imported);
  return 0;
}
