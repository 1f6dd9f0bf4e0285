#include "hark/tls/context_cache.hpp"

#include "hark/tls/ca.hpp"
#include "tls_test_support.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <atomic>
#include <latch>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace hark::tls;
using namespace hark::tls::test;
using std::chrono::hours;

class context_cache_test : public ::testing::Test {
 protected:
  context_cache_test()
      : ca_(certificate_authority::load_or_create({dir_.path() / "ca"})), issuer_(ca_) {}

  /** A client that trusts the CA, checks `host`, sends it as SNI and offers `alpn`. */
  std::unique_ptr<tls_pair> connect(SSL_CTX* server_ctx, const std::string& host,
                                    const std::vector<std::string>& alpn) {
    client_ctx_ = make_trusting_client(ca_.cert());
    auto pair = std::make_unique<tls_pair>(client_ctx_.get(), server_ctx);
    SSL_set_tlsext_host_name(pair->client(), host.c_str());
    SSL_set1_host(pair->client(), host.c_str());
    if (!alpn.empty()) {
      const std::string wire = alpn_wire(alpn);
      SSL_set_alpn_protos(pair->client(), reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned int>(wire.size()));
    }
    return pair;
  }

  temp_dir dir_;
  certificate_authority ca_;
  leaf_issuer issuer_;
  ssl_ctx_ptr client_ctx_;
};

// gtest_filter 'context_cache*' selects the fixture tests too.
using context_cache_handshake = context_cache_test;

TEST_F(context_cache_test, same_names_same_context) {
  context_cache cache(issuer_);
  const auto a = cache.get({"example.com", "www.example.com"});
  const auto b = cache.get({"example.com", "www.example.com"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a, b);
  EXPECT_EQ(cache.mints(), 1u);
  EXPECT_EQ(cache.size(), 1u);
  const auto other = cache.get({"example.org"});
  EXPECT_NE(other, a);
  EXPECT_EQ(cache.mints(), 2u);
}

TEST_F(context_cache_test, order_case_and_duplicates_do_not_matter) {
  context_cache cache(issuer_);
  const auto a = cache.get({"example.com", "WWW.example.com", "127.0.0.1"});
  const auto b = cache.get({"127.0.0.1", "www.example.com.", "Example.COM", "example.com"});
  EXPECT_EQ(a, b);
  EXPECT_EQ(cache.mints(), 1u);
  EXPECT_EQ(context_cache::key_of({"b.example", "A.example", "::1", "a.example"}),
            "::1,a.example,b.example");
}

TEST_F(context_cache_test, context_holds_a_leaf_for_the_names) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"api.example.com", "10.0.0.7"});
  X509* leaf = SSL_CTX_get0_certificate(ctx.get());
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(X509_check_host(leaf, "api.example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf, "10.0.0.7", 0), 1);
  EXPECT_EQ(X509_check_private_key(leaf, issuer_.key()), 1);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
}

TEST_F(context_cache_test, bad_names_throw_and_cache_nothing) {
  context_cache cache(issuer_);
  EXPECT_THROW(cache.get({}), std::invalid_argument);
  EXPECT_THROW(cache.get({"bad name"}), std::invalid_argument);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.mints(), 0u);
  EXPECT_THROW(context_cache(issuer_, context_cache_options{.capacity = 0}), std::invalid_argument);
}

TEST_F(context_cache_test, concurrent_gets_mint_each_name_set_once) {
  context_cache cache(issuer_);
  constexpr int thread_count = 8;
  constexpr int gets_per_thread = 25;  // 200 in all
  constexpr int name_count = 20;
  std::latch start(thread_count);
  std::vector<std::vector<std::shared_ptr<SSL_CTX>>> seen(thread_count);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < gets_per_thread; ++i) {
        const int n = (t * 7 + i) % name_count;
        // Vary the spelling: the key must not depend on it.
        const std::string name = (t % 2 == 0 ? "host" : "HOST") + std::to_string(n) + ".test";
        try {
          seen[t].push_back(cache.get({name, "shared.test"}));
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(cache.mints(), static_cast<std::uint64_t>(name_count));
  EXPECT_EQ(cache.size(), static_cast<std::size_t>(name_count));
  std::set<SSL_CTX*> distinct;
  for (const auto& list : seen) {
    for (const auto& ctx : list) {
      distinct.insert(ctx.get());
    }
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(name_count));
}

TEST_F(context_cache_test, least_recently_used_evicted) {
  context_cache cache(issuer_, {.capacity = 2});
  const auto a = cache.get({"a.test"});
  const auto b = cache.get({"b.test"});
  EXPECT_EQ(cache.get({"a.test"}), a);   // a is now the most recent
  const auto c = cache.get({"c.test"});  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.mints(), 3u);
  EXPECT_EQ(cache.get({"a.test"}), a);
  EXPECT_EQ(cache.get({"c.test"}), c);
  EXPECT_EQ(cache.mints(), 3u);
  const auto b2 = cache.get({"b.test"});  // minted again, evicts a
  EXPECT_NE(b2, b);
  EXPECT_EQ(cache.mints(), 4u);
  EXPECT_EQ(cache.get({"c.test"}), c);
  EXPECT_EQ(cache.mints(), 4u);
  EXPECT_NE(cache.get({"a.test"}), a);
  EXPECT_EQ(cache.mints(), 5u);
  // An evicted context stays usable by whoever holds it.
  EXPECT_EQ(SSL_CTX_get0_certificate(b.get()) != nullptr, true);
}

TEST_F(context_cache_test, refreshed_when_less_than_seven_days_left) {
  // Leaves live 44 days from now; the injected clock jumps forward.
  std::atomic<long> offset_days{0};
  context_cache_options options;
  options.clock = [&offset_days] {
    return std::chrono::system_clock::now() + hours(24 * offset_days.load());
  };
  context_cache cache(issuer_, std::move(options));
  const auto first = cache.get({"example.com"});
  offset_days = 36;  // 8 days left: still fine
  EXPECT_EQ(cache.get({"example.com"}), first);
  EXPECT_EQ(cache.mints(), 1u);
  offset_days = 38;  // 6 days left: re-minted
  const auto second = cache.get({"example.com"});
  EXPECT_NE(second, first);
  EXPECT_EQ(cache.mints(), 2u);
  offset_days = 0;  // the new leaf is fresh
  EXPECT_EQ(cache.get({"example.com"}), second);
  EXPECT_EQ(cache.mints(), 2u);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(context_cache_test, short_lived_leaves_are_reminted_every_time) {
  const leaf_issuer week(ca_, hours(24 * 7));  // 6 days left when issued
  context_cache cache(week);
  const auto a = cache.get({"example.com"});
  const auto b = cache.get({"example.com"});
  EXPECT_NE(a, b);
  EXPECT_EQ(cache.mints(), 2u);
}

TEST(context_cache_failure, failed_mint_is_rethrown_and_forgotten) {
  temp_dir dir;
  write_custom_ca(dir.path(), std::chrono::seconds(-3600), true);  // expired an hour ago
  const auto ca = certificate_authority::load_or_create({dir.path()});
  const leaf_issuer issuer(ca);
  context_cache cache(issuer);
  EXPECT_THROW(cache.get({"example.com"}), std::runtime_error);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_THROW(cache.get({"example.com"}), std::runtime_error);  // tried again, not cached
  EXPECT_EQ(cache.mints(), 0u);
}

TEST_F(context_cache_handshake, client_trusting_the_ca_gets_the_chosen_alpn) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"www.example.com", "example.com"});
  const auto pair = connect(ctx.get(), "www.example.com", {"h2", "http/1.1"});
  set_alpn_choice(pair->server(), "h2");
  ASSERT_TRUE(pair->handshake());
  EXPECT_EQ(SSL_get_verify_result(pair->client()), X509_V_OK);
  EXPECT_EQ(pair->client_alpn(), "h2");
  EXPECT_STREQ(SSL_get_servername(pair->server(), TLSEXT_NAMETYPE_host_name), "www.example.com");
  EXPECT_EQ(SSL_version(pair->client()), TLS1_3_VERSION);
  // The chain sent: leaf, then the CA.
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(pair->client());
  ASSERT_NE(chain, nullptr);
  ASSERT_EQ(sk_X509_num(chain), 2);
  EXPECT_EQ(X509_cmp(sk_X509_value(chain, 1), ca_.cert()), 0);
}

TEST_F(context_cache_handshake, http1_chosen) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"example.com"});
  const auto pair = connect(ctx.get(), "example.com", {"h2", "http/1.1"});
  set_alpn_choice(pair->server(), "http/1.1");
  ASSERT_TRUE(pair->handshake());
  EXPECT_EQ(pair->client_alpn(), "http/1.1");
}

TEST_F(context_cache_handshake, no_choice_means_no_alpn) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"example.com"});
  const auto pair = connect(ctx.get(), "example.com", {"h2", "http/1.1"});
  ASSERT_TRUE(pair->handshake());
  EXPECT_EQ(pair->client_alpn(), "");

  // A choice withdrawn before the handshake.
  const auto again = connect(ctx.get(), "example.com", {"h2", "http/1.1"});
  set_alpn_choice(again->server(), "h2");
  set_alpn_choice(again->server(), std::nullopt);
  ASSERT_TRUE(again->handshake());
  EXPECT_EQ(again->client_alpn(), "");
}

TEST_F(context_cache_handshake, choice_replaced) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"example.com"});
  const auto pair = connect(ctx.get(), "example.com", {"h2", "http/1.1"});
  set_alpn_choice(pair->server(), "h2");
  set_alpn_choice(pair->server(), "http/1.1");
  ASSERT_TRUE(pair->handshake());
  EXPECT_EQ(pair->client_alpn(), "http/1.1");
}

TEST_F(context_cache_handshake, choice_not_offered_by_the_client_is_fatal) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"example.com"});
  const auto pair = connect(ctx.get(), "example.com", {"http/1.1"});
  set_alpn_choice(pair->server(), "h2");
  EXPECT_FALSE(pair->handshake());
  EXPECT_FALSE(pair->server_ok());
  EXPECT_FALSE(pair->client_ok());
  ERR_clear_error();
}

TEST_F(context_cache_handshake, client_without_alpn_still_connects) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"example.com"});
  const auto pair = connect(ctx.get(), "example.com", {});
  set_alpn_choice(pair->server(), "h2");  // the callback only runs when ALPN is offered
  ASSERT_TRUE(pair->handshake());
  EXPECT_EQ(pair->client_alpn(), "");
}

TEST_F(context_cache_handshake, tls12_client_accepted_tls11_refused) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"example.com"});
  auto pair = connect(ctx.get(), "example.com", {"h2"});
  SSL_set_max_proto_version(pair->client(), TLS1_2_VERSION);
  set_alpn_choice(pair->server(), "h2");
  ASSERT_TRUE(pair->handshake());
  EXPECT_EQ(SSL_version(pair->client()), TLS1_2_VERSION);
  EXPECT_EQ(pair->client_alpn(), "h2");

  pair = connect(ctx.get(), "example.com", {});
  SSL_set_security_level(pair->client(), 0);
  SSL_set_min_proto_version(pair->client(), TLS1_VERSION);
  SSL_set_max_proto_version(pair->client(), TLS1_1_VERSION);
  EXPECT_FALSE(pair->handshake());
  ERR_clear_error();
}

TEST_F(context_cache_handshake, client_checking_another_host_rejects_the_leaf) {
  context_cache cache(issuer_);
  const auto ctx = cache.get({"example.com"});
  const auto pair = connect(ctx.get(), "example.org", {});
  EXPECT_FALSE(pair->handshake());
  EXPECT_EQ(SSL_get_verify_result(pair->client()), X509_V_ERR_HOSTNAME_MISMATCH);
  ERR_clear_error();
}

}  // namespace
