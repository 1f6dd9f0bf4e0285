#include "api_fixture.hpp"

namespace {

using namespace hark::api::test;

class api_metrics : public api_fixture {};

TEST_F(api_metrics, exposes_proxy_counters_in_prometheus_text) {
  hark::proxy_metrics m;
  m.connections_total = 7;
  m.count_request(hark::proxy_metrics::http1, 200, false);
  m.count_request(hark::proxy_metrics::http1, 404, false);
  m.count_request(hark::proxy_metrics::https1, 0, true);
  m.tls_handshake_failures[hark::proxy_metrics::client_alert] = 2;
  ctx_->metrics = &m;
  const auto res = get("/metrics");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  const auto& body = res.body();
  EXPECT_NE(body.find("# TYPE hark_connections_total counter\nhark_connections_total 7\n"),
            std::string::npos);
  EXPECT_NE(body.find("hark_requests_total{protocol=\"http/1.1\",status=\"2xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(body.find("hark_requests_total{protocol=\"http/1.1\",status=\"4xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(body.find("hark_requests_total{protocol=\"https/1.1\",status=\"failed\"} 1\n"),
            std::string::npos);
  EXPECT_NE(body.find("hark_tls_failures_total{reason=\"client_alert\"} 2\n"), std::string::npos);
}

TEST_F(api_metrics, only_get_and_host_guarded) {
  EXPECT_EQ(call(http::verb::post, "/metrics").result_int(), 405);
  EXPECT_EQ(call(http::verb::get, "/metrics", {}, "evil.example").result_int(), 403);
}

}  // namespace
