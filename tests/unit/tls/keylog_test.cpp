#include "hark/tls/keylog.hpp"

#include "hark/tls/ca.hpp"
#include "hark/tls/context_cache.hpp"
#include "hark/tls/upstream_context.hpp"
#include "tls_test_support.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace hark::tls;
using namespace hark::tls::test;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start) + "<no newline>");
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
  return out;
}

/** label → lines with that label, from an NSS key log. */
std::multimap<std::string, std::string> by_label(const std::string& text) {
  std::multimap<std::string, std::string> out;
  for (const std::string& line : lines_of(text)) {
    out.emplace(line.substr(0, line.find(' ')), line);
  }
  return out;
}

TEST(keylog, file_created_private_and_appended_to) {
  temp_dir dir;
  const fs::path path = dir.path() / "keys.log";
  {
    keylog_file file(path);
    EXPECT_EQ(file.path(), path);
    file.write_line("CLIENT_RANDOM aa bb");
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    keylog_file again(path);
    again.write_line("CLIENT_RANDOM cc dd");
  }
  EXPECT_EQ(read_file(path), "CLIENT_RANDOM aa bb\nCLIENT_RANDOM cc dd\n");
}

TEST(keylog, unopenable_path_named) {
  temp_dir dir;
  const fs::path path = dir.path() / "missing-dir" / "keys.log";
  try {
    keylog_file file(path);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(keylog, concurrent_lines_stay_whole) {
  temp_dir dir;
  const fs::path path = dir.path() / "keys.log";
  keylog_file file(path);
  constexpr int thread_count = 8;
  constexpr int lines_per_thread = 300;
  const std::string payload(150, 'x');
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      const std::string line = "T" + std::to_string(t) + " " + payload;
      for (int i = 0; i < lines_per_thread; ++i) {
        file.write_line(line.c_str());
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const auto lines = lines_of(read_file(path));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(thread_count * lines_per_thread));
  std::map<std::string, int> counts;
  for (const std::string& line : lines) {
    ASSERT_EQ(line.size(), 3 + payload.size()) << line;
    ++counts[line.substr(0, 2)];
  }
  for (const auto& [who, count] : counts) {
    EXPECT_EQ(count, lines_per_thread) << who;
  }
}

class keylog_handshake : public ::testing::Test {
 protected:
  keylog_handshake()
      : ca_(certificate_authority::load_or_create({dir_.path() / "ca"})),
        issuer_(ca_),
        server_log_(dir_.path() / "server.log"),
        client_log_(dir_.path() / "client.log"),
        cache_(issuer_, {.keylog = &server_log_}),
        client_ctx_(
            make_upstream_context({.extra_ca_files = {ca_.cert_path()}, .keylog = &client_log_})) {}

  std::unique_ptr<tls_pair> connect() {
    server_ctx_ = cache_.get({"example.com"});
    auto pair = std::make_unique<tls_pair>(client_ctx_.get(), server_ctx_.get());
    prepare_upstream_ssl(pair->client(), "example.com", {"h2"}, true);
    set_alpn_choice(pair->server(), "h2");
    return pair;
  }

  std::string client_random(SSL* ssl) {
    unsigned char random[SSL3_RANDOM_SIZE];
    const std::size_t size = SSL_get_client_random(ssl, random, sizeof random);
    return hex(random, size);
  }

  temp_dir dir_;
  certificate_authority ca_;
  leaf_issuer issuer_;
  keylog_file server_log_;
  keylog_file client_log_;
  context_cache cache_;
  std::shared_ptr<SSL_CTX> client_ctx_;
  std::shared_ptr<SSL_CTX> server_ctx_;
};

TEST_F(keylog_handshake, tls13_secrets_of_both_sides) {
  const auto pair = connect();
  ASSERT_TRUE(pair->handshake());
  ASSERT_EQ(SSL_version(pair->client()), TLS1_3_VERSION);
  const std::string random = client_random(pair->client());
  ASSERT_EQ(random.size(), 64u);
  for (const fs::path& log : {server_log_.path(), client_log_.path()}) {
    const auto labels = by_label(read_file(log));
    for (const char* label :
         {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}) {
      const auto it = labels.find(label);
      ASSERT_NE(it, labels.end()) << label << " missing from " << log;
      // "LABEL <client random> <secret>", SHA-256 or SHA-384 sized secret.
      const std::string& line = it->second;
      EXPECT_EQ(line.substr(std::string(label).size() + 1, 64), random) << line;
      const std::size_t secret = line.size() - std::string(label).size() - 1 - 64 - 1;
      EXPECT_TRUE(secret == 64 || secret == 96) << line;
    }
  }
}

TEST_F(keylog_handshake, tls12_client_random_line) {
  const auto pair = connect();
  SSL_set_max_proto_version(pair->client(), TLS1_2_VERSION);
  ASSERT_TRUE(pair->handshake());
  const std::string random = client_random(pair->client());
  for (const fs::path& log : {server_log_.path(), client_log_.path()}) {
    const auto labels = by_label(read_file(log));
    const auto it = labels.find("CLIENT_RANDOM");
    ASSERT_NE(it, labels.end()) << log;
    // "CLIENT_RANDOM <client random> <48-byte master secret>"
    EXPECT_EQ(it->second.size(), std::string("CLIENT_RANDOM").size() + 1 + 64 + 1 + 96);
    EXPECT_EQ(it->second.substr(14, 64), random);
  }
}

TEST_F(keylog_handshake, detached_context_writes_nothing) {
  const auto ctx = make_upstream_context({.extra_ca_files = {ca_.cert_path()}});
  attach_keylog(ctx.get(), &client_log_);
  attach_keylog(ctx.get(), nullptr);
  client_ctx_ = ctx;
  const auto pair = connect();
  ASSERT_TRUE(pair->handshake());
  EXPECT_EQ(read_file(client_log_.path()), "");
  EXPECT_NE(read_file(server_log_.path()), "");
}

}  // namespace
