#include "hark/tls/upstream_context.hpp"

#include "hark/tls/ca.hpp"
#include "hark/tls/context_cache.hpp"
#include "tls_test_support.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace hark::tls;
using namespace hark::tls::test;
using std::chrono::seconds;

/** What the origin saw of the client's ALPN offer, in wire format. */
struct alpn_capture {
  std::string offered;
  bool called = false;
};

/** Records the client's offer and selects h2 when offered, else http/1.1, else nothing. */
int capture_and_select(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                       const unsigned char* in, unsigned int inlen, void* arg) noexcept {
  auto* capture = static_cast<alpn_capture*>(arg);
  capture->called = true;
  capture->offered.assign(reinterpret_cast<const char*>(in), inlen);
  for (const char* wanted : {"h2", "http/1.1"}) {
    const std::string wire = alpn_wire({wanted});
    if (const auto at = capture->offered.find(wire); at != std::string::npos) {
      *out = in + at + 1;
      *outlen = static_cast<unsigned char>(wire.size() - 1);
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

/** An origin with a self-signed certificate for localhost and 127.0.0.1. */
class upstream_context_test : public ::testing::Test {
 protected:
  upstream_context_test() : origin_key_(make_ec_key()) {
    cert_spec spec;
    spec.common_name = "localhost";
    spec.subject_alt_names = "DNS:localhost,IP:127.0.0.1";
    origin_cert_ = make_cert(spec, origin_key_.get());
    origin_cert_file_ = dir_.path() / "origin.pem";
    write_cert_pem(origin_cert_file_, origin_cert_.get());
    origin_ctx_ = make_origin(origin_cert_.get());
  }

  ssl_ctx_ptr make_origin(X509* cert) {
    ssl_ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(ctx.get(), cert);
    SSL_CTX_use_PrivateKey(ctx.get(), origin_key_.get());
    SSL_CTX_set_alpn_select_cb(ctx.get(), capture_and_select, &alpn_);
    return ctx;
  }

  /** Handshakes a client from `client_ctx`, prepared for `host`, with the origin. */
  std::unique_ptr<tls_pair> connect(SSL_CTX* client_ctx, const std::string& host,
                                    bool verify = true,
                                    const std::vector<std::string>& alpn = {"h2", "http/1.1"}) {
    auto pair = std::make_unique<tls_pair>(client_ctx, origin_ctx_.get());
    prepare_upstream_ssl(pair->client(), host, alpn, verify);
    pair->handshake();
    ERR_clear_error();
    return pair;
  }

  temp_dir dir_;
  pkey_ptr origin_key_;
  x509_ptr origin_cert_;
  fs::path origin_cert_file_;
  ssl_ctx_ptr origin_ctx_;
  alpn_capture alpn_;
};

TEST_F(upstream_context_test, self_signed_origin_rejected_with_reason) {
  const auto ctx = make_upstream_context({});
  const auto pair = connect(ctx.get(), "localhost");
  EXPECT_FALSE(pair->client_ok());
  EXPECT_FALSE(pair->server_ok());
  EXPECT_EQ(SSL_get_verify_result(pair->client()), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  EXPECT_EQ(verify_failure_reason(pair->client()), "self-signed certificate");
}

TEST_F(upstream_context_test, trusted_when_given_as_extra_ca) {
  const auto ctx = make_upstream_context({.extra_ca_files = {origin_cert_file_}});
  const auto pair = connect(ctx.get(), "localhost");
  ASSERT_TRUE(pair->client_ok());
  EXPECT_EQ(SSL_get_verify_result(pair->client()), X509_V_OK);
  EXPECT_EQ(verify_failure_reason(pair->client()), "ok");
  EXPECT_STREQ(SSL_get_servername(pair->server(), TLSEXT_NAMETYPE_host_name), "localhost");
  EXPECT_EQ(pair->client_alpn(), "h2");
}

TEST_F(upstream_context_test, hostname_mismatch_reported) {
  const auto ctx = make_upstream_context({.extra_ca_files = {origin_cert_file_}});
  const auto pair = connect(ctx.get(), "other.test");
  EXPECT_FALSE(pair->client_ok());
  EXPECT_EQ(verify_failure_reason(pair->client()), "hostname mismatch");
  EXPECT_STREQ(SSL_get_servername(pair->server(), TLSEXT_NAMETYPE_host_name), "other.test");
}

TEST_F(upstream_context_test, ip_literal_checked_without_sni) {
  const auto ctx = make_upstream_context({.extra_ca_files = {origin_cert_file_}});
  const auto pair = connect(ctx.get(), "127.0.0.1");
  ASSERT_TRUE(pair->client_ok());
  EXPECT_EQ(SSL_get_servername(pair->server(), TLSEXT_NAMETYPE_host_name), nullptr);

  const auto wrong = connect(ctx.get(), "127.0.0.2");
  EXPECT_FALSE(wrong->client_ok());
  EXPECT_EQ(verify_failure_reason(wrong->client()), "IP address mismatch");
  EXPECT_EQ(SSL_get_servername(wrong->server(), TLSEXT_NAMETYPE_host_name), nullptr);

  const auto v6 = connect(ctx.get(), "[::1]");
  EXPECT_FALSE(v6->client_ok());
  EXPECT_EQ(verify_failure_reason(v6->client()), "IP address mismatch");
}

TEST_F(upstream_context_test, trailing_dot_dropped_from_sni) {
  const auto ctx = make_upstream_context({.extra_ca_files = {origin_cert_file_}});
  const auto pair = connect(ctx.get(), "localhost.");
  ASSERT_TRUE(pair->client_ok());
  EXPECT_STREQ(SSL_get_servername(pair->server(), TLSEXT_NAMETYPE_host_name), "localhost");
}

TEST_F(upstream_context_test, verification_off_accepts_anything) {
  const auto insecure = make_upstream_context({.verify = false});
  EXPECT_TRUE(connect(insecure.get(), "other.test", false)->client_ok());
  // Per connection, on a verifying context.
  const auto verifying = make_upstream_context({});
  EXPECT_TRUE(connect(verifying.get(), "other.test", false)->client_ok());
  EXPECT_FALSE(connect(verifying.get(), "other.test", true)->client_ok());
}

TEST_F(upstream_context_test, expired_origin_reported) {
  cert_spec spec;
  spec.common_name = "localhost";
  spec.subject_alt_names = "DNS:localhost";
  spec.not_before_offset = seconds(-7200);
  spec.not_after_offset = seconds(-3600);
  const x509_ptr expired = make_cert(spec, origin_key_.get());
  const fs::path file = dir_.path() / "expired.pem";
  write_cert_pem(file, expired.get());
  origin_ctx_ = make_origin(expired.get());
  const auto ctx = make_upstream_context({.extra_ca_files = {file}});
  const auto pair = connect(ctx.get(), "localhost");
  EXPECT_FALSE(pair->client_ok());
  EXPECT_EQ(verify_failure_reason(pair->client()), "certificate has expired");
}

TEST_F(upstream_context_test, alpn_offer_restricted_to_h2_and_http1_in_order) {
  const auto ctx = make_upstream_context({.verify = false});
  const auto pair =
      connect(ctx.get(), "localhost", false, {"spdy/3.1", "http/1.1", "h3", "h2", "http/1.1"});
  ASSERT_TRUE(pair->client_ok());
  EXPECT_EQ(alpn_.offered, alpn_wire({"http/1.1", "h2"}));
  EXPECT_EQ(pair->client_alpn(), "h2");
}

TEST_F(upstream_context_test, no_alpn_offered_when_nothing_remains) {
  const auto ctx = make_upstream_context({.verify = false});
  const auto pair = connect(ctx.get(), "localhost", false, {"h3", "spdy/3.1"});
  ASSERT_TRUE(pair->client_ok());
  EXPECT_FALSE(alpn_.called);
  EXPECT_EQ(pair->client_alpn(), "");
}

TEST_F(upstream_context_test, bad_extra_ca_files_named) {
  const fs::path missing = dir_.path() / "missing.pem";
  try {
    make_upstream_context({.extra_ca_files = {missing}});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
  const fs::path garbage = dir_.path() / "garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";
  try {
    make_upstream_context({.extra_ca_files = {origin_cert_file_, garbage}});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(garbage.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_upstream_context({.extra_ca_files = {dir_.path()}}), std::runtime_error);
}

TEST_F(upstream_context_test, empty_host_rejected) {
  const auto ctx = make_upstream_context({});
  const ssl_ptr ssl(SSL_new(ctx.get()));
  EXPECT_THROW(prepare_upstream_ssl(ssl.get(), "", {}, true), std::invalid_argument);
  EXPECT_THROW(prepare_upstream_ssl(ssl.get(), "[]", {}, true), std::invalid_argument);
}

TEST(upstream_context_hark_origin, hark_leaf_trusted_through_the_ca_file) {
  temp_dir dir;
  const auto ca = certificate_authority::load_or_create({dir.path()});
  const leaf_issuer issuer(ca);
  context_cache cache(issuer);
  const auto server_ctx = cache.get({"example.com"});
  const auto client_ctx = make_upstream_context({.extra_ca_files = {ca.cert_path()}});
  tls_pair pair(client_ctx.get(), server_ctx.get());
  prepare_upstream_ssl(pair.client(), "example.com", {"h2", "http/1.1"}, true);
  set_alpn_choice(pair.server(), "http/1.1");
  ASSERT_TRUE(pair.handshake());
  EXPECT_EQ(pair.client_alpn(), "http/1.1");
  EXPECT_EQ(verify_failure_reason(pair.client()), "ok");
}

}  // namespace
