#include "hark/tls/leaf.hpp"

#include "hark/tls/ca.hpp"
#include "tls_test_support.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace hark::tls;
using namespace hark::tls::test;
using std::chrono::hours;
using std::chrono::seconds;

constexpr long long day = 24LL * 3600;

/** Seconds from now to `t` (negative when in the past). */
long long seconds_from_now(const ASN1_TIME* t) {
  int days = 0;
  int secs = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, t), 1);
  return static_cast<long long>(days) * day + secs;
}

long long seconds_between(const ASN1_TIME* from, const ASN1_TIME* to) {
  int days = 0;
  int secs = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &secs, from, to), 1);
  return static_cast<long long>(days) * day + secs;
}

/** The SAN entries as "DNS:name" / "IP:text", in certificate order. */
std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                         static_cast<std::size_t>(ASN1_STRING_length(dns))));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text,
                sizeof text);
      out.push_back(std::string("IP:") + text);
    } else {
      out.push_back("other");
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string subject_entry(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) {
    return "";
  }
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<std::size_t>(ASN1_STRING_length(value)));
}

/** X509_verify_cert of `leaf` against a store holding only `ca`, for TLS server use. */
int verify_against(X509* ca, X509* leaf, const char* host = nullptr) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  X509_STORE_add_cert(store.get(), ca);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  if (host != nullptr) {
    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx.get()), host, 0);
  }
  if (X509_verify_cert(ctx.get()) == 1) {
    return X509_V_OK;
  }
  return X509_STORE_CTX_get_error(ctx.get());
}

std::string run(const std::string& command, int& status) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return out;
  }
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) {
    out += buffer;
  }
  status = pclose(pipe);
  return out;
}

class leaf : public ::testing::Test {
 protected:
  leaf() : ca_(certificate_authority::load_or_create({dir_.path() / "ca"})), issuer_(ca_) {}

  temp_dir dir_;
  certificate_authority ca_;
  leaf_issuer issuer_;
};

TEST_F(leaf, verifies_against_the_ca_for_server_use) {
  const x509_ptr cert = issuer_.issue({"example.com", "www.example.com"});
  ASSERT_TRUE(cert);
  EXPECT_EQ(verify_against(ca_.cert(), cert.get(), "www.example.com"), X509_V_OK);
  EXPECT_EQ(verify_against(ca_.cert(), cert.get(), "other.example.com"),
            X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(X509_check_issued(ca_.cert(), cert.get()), X509_V_OK);
}

TEST_F(leaf, rejected_by_an_unrelated_ca) {
  temp_dir other_dir;
  const auto other = certificate_authority::load_or_create({other_dir.path()});
  const x509_ptr cert = issuer_.issue({"example.com"});
  EXPECT_NE(verify_against(other.cert(), cert.get()), X509_V_OK);
}

TEST_F(leaf, verifies_with_the_openssl_cli) {
  int status = 0;
  run("command -v openssl", status);
  if (status != 0) {
    GTEST_SKIP() << "no openssl command line tool";
  }
  const x509_ptr cert = issuer_.issue({"example.com", "127.0.0.1"});
  const fs::path leaf_file = dir_.path() / "leaf.pem";
  write_cert_pem(leaf_file, cert.get());
  const std::string ca_file = ca_.cert_path().string();
  std::string out =
      run("openssl verify -CAfile '" + ca_file + "' '" + leaf_file.string() + "'", status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find(": OK"), std::string::npos) << out;
  out = run("openssl verify -purpose sslserver -verify_hostname example.com -CAfile '" + ca_file +
                "' '" + leaf_file.string() + "'",
            status);
  EXPECT_EQ(status, 0) << out;
  out = run(
      "openssl verify -verify_ip 127.0.0.1 -CAfile '" + ca_file + "' '" + leaf_file.string() + "'",
      status);
  EXPECT_EQ(status, 0) << out;
}

TEST_F(leaf, subject_alt_names_for_dns_and_ip_literals) {
  const x509_ptr cert =
      issuer_.issue({"Example.COM", "*.example.com", "127.0.0.1", "[2001:DB8::1]", "::1"});
  EXPECT_EQ(subject_alt_names(cert.get()),
            (std::vector<std::string>{"DNS:example.com", "DNS:*.example.com", "IP:127.0.0.1",
                                      "IP:2001:db8::1", "IP:::1"}));
}

TEST_F(leaf, names_deduplicated_case_insensitively) {
  const x509_ptr cert = issuer_.issue(
      {"example.com", "EXAMPLE.com", "example.com.", "::1", "0:0:0::1", "10.0.0.1", "10.0.0.1"});
  EXPECT_EQ(subject_alt_names(cert.get()),
            (std::vector<std::string>{"DNS:example.com", "IP:::1", "IP:10.0.0.1"}));
}

TEST_F(leaf, subject_is_hark_with_the_first_name_as_common_name) {
  const x509_ptr cert = issuer_.issue({"api.example.com", "example.com"});
  EXPECT_EQ(subject_entry(cert.get(), NID_commonName), "api.example.com");
  EXPECT_EQ(subject_entry(cert.get(), NID_organizationName), "Hark");
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca_.cert())), 0);

  const x509_ptr ip_first = issuer_.issue({"192.168.1.1"});
  EXPECT_EQ(subject_entry(ip_first.get(), NID_commonName), "192.168.1.1");
}

TEST_F(leaf, long_common_name_truncated_to_64_characters) {
  const std::string label(60, 'a');
  const std::string name = label + "." + label + ".example.com";
  const x509_ptr cert = issuer_.issue({name});
  EXPECT_EQ(subject_entry(cert.get(), NID_commonName), name.substr(0, 64));
  EXPECT_EQ(subject_alt_names(cert.get()), std::vector<std::string>{"DNS:" + name});
}

TEST_F(leaf, key_identifiers_link_to_the_ca) {
  const x509_ptr cert = issuer_.issue({"example.com"});
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert.get());
  const ASN1_OCTET_STRING* ca_ski = X509_get0_subject_key_id(ca_.cert());
  ASSERT_NE(aki, nullptr);
  ASSERT_NE(ca_ski, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, ca_ski), 0);
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.get());
  ASSERT_NE(ski, nullptr);
  EXPECT_NE(ASN1_OCTET_STRING_cmp(ski, ca_ski), 0);
}

TEST_F(leaf, server_auth_end_entity_with_digital_signature) {
  const x509_ptr cert = issuer_.issue({"example.com"});
  const std::uint32_t flags = X509_get_extension_flags(cert.get());
  EXPECT_TRUE(flags & EXFLAG_BCONS);  // basicConstraints present
  EXPECT_FALSE(flags & EXFLAG_CA);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<std::uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
}

TEST_F(leaf, validity_backdated_a_day_and_at_most_45_days) {
  const x509_ptr cert = issuer_.issue({"example.com"});
  const long long not_before = seconds_from_now(X509_get0_notBefore(cert.get()));
  const long long not_after = seconds_from_now(X509_get0_notAfter(cert.get()));
  EXPECT_NEAR(static_cast<double>(not_before), static_cast<double>(-day), 120.0);
  EXPECT_LE(not_after, 44 * day + 60);
  EXPECT_GT(not_after, 43 * day);
  EXPECT_LE(seconds_between(X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())),
            45 * day);
}

TEST_F(leaf, shorter_lifetime_on_request_and_clamped) {
  const leaf_issuer week(ca_, hours(24 * 7));
  const x509_ptr cert = week.issue({"example.com"});
  EXPECT_NEAR(static_cast<double>(seconds_from_now(X509_get0_notAfter(cert.get()))),
              static_cast<double>(6 * day), 120.0);
  EXPECT_EQ(leaf_issuer(ca_, hours(24 * 400)).lifetime(), leaf_issuer::max_lifetime);
  EXPECT_GT(leaf_issuer(ca_, seconds(0)).lifetime(), leaf_issuer::backdate);
}

TEST_F(leaf, random_serials) {
  const x509_ptr a = issuer_.issue({"example.com"});
  const x509_ptr b = issuer_.issue({"example.com"});
  const ASN1_INTEGER* serial = X509_get0_serialNumber(a.get());
  EXPECT_NE(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(b.get())), 0);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(serial, nullptr), BN_free);
  EXPECT_FALSE(BN_is_negative(bn.get()));
  EXPECT_FALSE(BN_is_zero(bn.get()));
  EXPECT_LE(BN_num_bits(bn.get()), 128);
}

TEST_F(leaf, one_key_pair_for_every_leaf) {
  const x509_ptr a = issuer_.issue({"a.example"});
  const x509_ptr b = issuer_.issue({"b.example", "10.1.2.3"});
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(a.get()), X509_get0_pubkey(b.get())), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(a.get()), issuer_.key()), 1);
  EXPECT_EQ(X509_check_private_key(a.get(), issuer_.key()), 1);
  EXPECT_EQ(EVP_PKEY_get_base_id(issuer_.key()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(issuer_.key()), 256);
  // A second issuer (another process) has another key.
  const leaf_issuer other(ca_);
  EXPECT_NE(EVP_PKEY_eq(other.key(), issuer_.key()), 1);
}

TEST_F(leaf, bad_names_rejected) {
  EXPECT_THROW(issuer_.issue({}), std::invalid_argument);
  EXPECT_THROW(issuer_.issue({""}), std::invalid_argument);
  EXPECT_THROW(issuer_.issue({"."}), std::invalid_argument);
  EXPECT_THROW(issuer_.issue({"exa mple.com"}), std::invalid_argument);
  EXPECT_THROW(issuer_.issue({"example.com,DNS:evil.com"}), std::invalid_argument);
  EXPECT_THROW(issuer_.issue({"fe80::1%eth0"}), std::invalid_argument);
  EXPECT_THROW(issuer_.issue({std::string(254, 'a')}), std::invalid_argument);
}

TEST_F(leaf, issuer_outlives_the_ca_object) {
  temp_dir other_dir;
  std::unique_ptr<leaf_issuer> issuer;
  x509_ptr ca_cert;
  {
    const auto ca = certificate_authority::load_or_create({other_dir.path()});
    issuer = std::make_unique<leaf_issuer>(ca);
    ca_cert.reset(X509_dup(ca.cert()));
  }
  const x509_ptr cert = issuer->issue({"example.com"});
  EXPECT_EQ(verify_against(ca_cert.get(), cert.get()), X509_V_OK);
}

TEST(leaf_names, normalized_in_order) {
  EXPECT_EQ(normalize_names({"B.example.", "a.example", "b.EXAMPLE", "[::ffff:1.2.3.4]"}),
            (std::vector<std::string>{"b.example", "a.example", "::ffff:1.2.3.4"}));
  EXPECT_TRUE(is_ip_literal("1.2.3.4"));
  EXPECT_TRUE(is_ip_literal("[::1]"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_FALSE(is_ip_literal("1.2.3"));
  EXPECT_FALSE(is_ip_literal("example.com"));
  EXPECT_FALSE(is_ip_literal(""));
  EXPECT_TRUE(is_certificate_name("*.Example.com."));
  EXPECT_TRUE(is_certificate_name("[::1]"));
  EXPECT_FALSE(is_certificate_name(""));
  EXPECT_FALSE(is_certificate_name("."));
  EXPECT_FALSE(is_certificate_name("bad name.example"));
  EXPECT_FALSE(is_certificate_name("caf\xc3\xa9.example"));
  EXPECT_FALSE(is_certificate_name(std::string(254, 'a')));
}

TEST(leaf_custom_ca, never_outlives_a_short_lived_ca) {
  temp_dir dir;
  write_custom_ca(dir.path(), seconds(10 * day), true);
  const auto ca = certificate_authority::load_or_create({dir.path()});
  const leaf_issuer issuer(ca);
  const x509_ptr cert = issuer.issue({"example.com"});
  EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(ca.cert())), 0);
  EXPECT_EQ(verify_against(ca.cert(), cert.get(), "example.com"), X509_V_OK);
}

TEST(leaf_custom_ca, ca_without_subject_key_identifier) {
  temp_dir dir;
  write_custom_ca(dir.path(), seconds(365 * day), false);
  const auto ca = certificate_authority::load_or_create({dir.path()});
  const leaf_issuer issuer(ca);
  const x509_ptr cert = issuer.issue({"example.com"});
  EXPECT_EQ(verify_against(ca.cert(), cert.get(), "example.com"), X509_V_OK);
}

TEST(leaf_custom_ca, expired_ca_refuses_to_issue) {
  temp_dir dir;
  write_custom_ca(dir.path(), seconds(-3600), true);
  const auto ca = certificate_authority::load_or_create({dir.path()});
  const leaf_issuer issuer(ca);
  EXPECT_THROW(issuer.issue({"example.com"}), std::runtime_error);
}

}  // namespace
