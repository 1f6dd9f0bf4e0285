#include "hark/tls/ca.hpp"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;
using hark::tls::ca_options;
using hark::tls::certificate_authority;

/** A fresh directory under the system temp dir, removed with everything in it. */
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "hark-ca-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

certificate_authority make_ca(const fs::path& dir, std::string key_type = "ecdsa") {
  return certificate_authority::load_or_create(ca_options{dir, std::move(key_type)});
}

/** Seconds from now to `t` (negative when in the past). */
long long seconds_from_now(const ASN1_TIME* t) {
  int days = 0;
  int secs = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, t), 1);
  return static_cast<long long>(days) * 86400 + secs;
}

TEST(ca, creates_directory_cert_and_private_key) {
  temp_dir tmp;
  const fs::path dir = tmp.path() / "nested" / "ca";
  const auto ca = make_ca(dir);
  EXPECT_EQ(ca.cert_path(), dir / "ca.pem");
  ASSERT_TRUE(fs::exists(dir / "ca.pem"));
  ASSERT_TRUE(fs::exists(dir / "ca-key.pem"));
  EXPECT_EQ(read_file(dir / "ca.pem"), ca.cert_pem());
  EXPECT_NE(ca.cert_pem().find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  // PKCS#8, unencrypted.
  EXPECT_NE(read_file(dir / "ca-key.pem").find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  // No temporary files left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 2);
}

TEST(ca, file_and_directory_modes) {
  temp_dir tmp;
  const fs::path dir = tmp.path() / "ca";
  const mode_t old_umask = umask(077);  // the cert must still come out world-readable
  make_ca(dir);
  umask(old_umask);
  struct stat st {};
  ASSERT_EQ(stat((dir / "ca-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir / "ca.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(ca, second_load_returns_the_same_ca) {
  temp_dir tmp;
  const auto first = make_ca(tmp.path());
  const auto second = make_ca(tmp.path());
  EXPECT_EQ(first.cert_pem(), second.cert_pem());
  EXPECT_EQ(first.cert_der(), second.cert_der());
  EXPECT_EQ(EVP_PKEY_eq(first.key(), second.key()), 1);
}

TEST(ca, every_install_is_unique) {
  temp_dir a;
  temp_dir b;
  const auto ca_a = make_ca(a.path());
  const auto ca_b = make_ca(b.path());
  EXPECT_NE(ca_a.cert_der(), ca_b.cert_der());
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(ca_a.cert()), X509_get0_serialNumber(ca_b.cert())),
      0);
  EXPECT_NE(X509_NAME_cmp(X509_get_subject_name(ca_a.cert()), X509_get_subject_name(ca_b.cert())),
            0);
  EXPECT_NE(EVP_PKEY_eq(ca_a.key(), ca_b.key()), 1);
}

TEST(ca, subject_names_hark_and_is_self_issued) {
  temp_dir tmp;
  const auto ca = make_ca(tmp.path());
  std::array<char, 256> cn{};
  ASSERT_GT(X509_NAME_get_text_by_NID(X509_get_subject_name(ca.cert()), NID_commonName, cn.data(),
                                      static_cast<int>(cn.size())),
            0);
  EXPECT_EQ(std::string(cn.data()).rfind("Hark CA (", 0), 0u) << cn.data();
  std::array<char, 64> org{};
  ASSERT_GT(X509_NAME_get_text_by_NID(X509_get_subject_name(ca.cert()), NID_organizationName,
                                      org.data(), static_cast<int>(org.size())),
            0);
  EXPECT_STREQ(org.data(), "Hark");
  EXPECT_EQ(X509_check_issued(ca.cert(), ca.cert()), X509_V_OK);
  EXPECT_EQ(X509_get_signature_nid(ca.cert()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_get_version(ca.cert()), X509_VERSION_3);
}

TEST(ca, extensions_make_it_a_ca) {
  temp_dir tmp;
  const auto ca = make_ca(tmp.path());
  X509* cert = ca.cert();

  int critical = -1;
  std::unique_ptr<BASIC_CONSTRAINTS, decltype(&BASIC_CONSTRAINTS_free)> bc(
      static_cast<BASIC_CONSTRAINTS*>(
          X509_get_ext_d2i(cert, NID_basic_constraints, &critical, nullptr)),
      BASIC_CONSTRAINTS_free);
  ASSERT_TRUE(bc);
  EXPECT_NE(bc->ca, 0);
  EXPECT_EQ(critical, 1);

  critical = -1;
  std::unique_ptr<ASN1_BIT_STRING, decltype(&ASN1_BIT_STRING_free)> ku(
      static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(cert, NID_key_usage, &critical, nullptr)),
      ASN1_BIT_STRING_free);
  ASSERT_TRUE(ku);
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(X509_get_key_usage(cert), static_cast<std::uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));

  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert);
  ASSERT_NE(ski, nullptr);
  EXPECT_EQ(ASN1_STRING_length(ski), 20);  // SHA-1 of the public key, RFC 5280 §4.2.1.2 (1)
  EXPECT_EQ(X509_check_ca(cert), 1);
}

TEST(ca, ten_years_starting_yesterday) {
  temp_dir tmp;
  const auto ca = make_ca(tmp.path());
  const long long before = seconds_from_now(X509_get0_notBefore(ca.cert()));
  const long long after = seconds_from_now(X509_get0_notAfter(ca.cert()));
  EXPECT_LE(before, -86400 + 60);
  EXPECT_GE(before, -86400 - 60);
  const long long ten_years = 10LL * 365 * 86400;
  EXPECT_GE(after, ten_years - 86400);
  EXPECT_LE(after, ten_years + 3 * 86400);
}

TEST(ca, rsa_key_type) {
  temp_dir tmp;
  const auto ca = make_ca(tmp.path(), "rsa");
  EXPECT_EQ(EVP_PKEY_get_base_id(ca.key()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(ca.key()), 2048);
  EXPECT_EQ(X509_get_signature_nid(ca.cert()), NID_sha256WithRSAEncryption);
  EXPECT_NE(ca.describe().find("key: RSA 2048\n"), std::string::npos) << ca.describe();
  // Reloading an RSA CA while the configured type is ecdsa keeps the existing CA.
  EXPECT_EQ(make_ca(tmp.path(), "ecdsa").cert_pem(), ca.cert_pem());
}

TEST(ca, unknown_key_type_is_rejected) {
  temp_dir tmp;
  try {
    make_ca(tmp.path() / "ca", "dsa");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "unknown CA key type 'dsa' (expected ecdsa or rsa)");
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "ca" / "ca-key.pem"));
}

TEST(ca, mismatched_key_and_cert_are_rejected) {
  temp_dir a;
  temp_dir b;
  make_ca(a.path());
  make_ca(b.path());
  fs::copy_file(b.path() / "ca-key.pem", a.path() / "ca-key.pem",
                fs::copy_options::overwrite_existing);
  try {
    make_ca(a.path());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
}

TEST(ca, one_missing_file_is_named) {
  for (const char* missing : {"ca.pem", "ca-key.pem"}) {
    temp_dir tmp;
    make_ca(tmp.path());
    fs::remove(tmp.path() / missing);
    try {
      make_ca(tmp.path());
      FAIL() << "expected an exception for missing " << missing;
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find((tmp.path() / missing).string() + " is missing"), std::string::npos)
          << message;
    }
    // Nothing was regenerated behind the user's back.
    EXPECT_FALSE(fs::exists(tmp.path() / missing));
  }
}

TEST(ca, garbage_cert_is_rejected) {
  temp_dir tmp;
  make_ca(tmp.path());
  std::ofstream(tmp.path() / "ca.pem") << "not a certificate\n";
  EXPECT_THROW(make_ca(tmp.path()), std::runtime_error);
}

TEST(ca, der_round_trips) {
  temp_dir tmp;
  const auto ca = make_ca(tmp.path());
  const std::string der = ca.cert_der();
  ASSERT_FALSE(der.empty());
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, decltype(&X509_free)> parsed(
      d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(der.data()) + der.size());
  EXPECT_EQ(X509_cmp(parsed.get(), ca.cert()), 0);
}

TEST(ca, describe_lists_subject_key_validity_and_fingerprint) {
  temp_dir tmp;
  const auto ca = make_ca(tmp.path());
  const std::string text = ca.describe();
  EXPECT_NE(text.find("subject: CN=Hark CA ("), std::string::npos) << text;
  EXPECT_NE(text.find(",O=Hark\n"), std::string::npos) << text;
  EXPECT_NE(text.find("key: ECDSA P-256\n"), std::string::npos) << text;
  EXPECT_NE(text.find("not before: 2"), std::string::npos) << text;
  EXPECT_NE(text.find("Z / not after: 2"), std::string::npos) << text;
  const auto at = text.find("sha256 fingerprint: ");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string fingerprint = text.substr(at + 20, 32 * 3 - 1);
  for (std::size_t i = 0; i < fingerprint.size(); ++i) {
    if (i % 3 == 2) {
      EXPECT_EQ(fingerprint[i], ':') << fingerprint;
    } else {
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(fingerprint[i])) &&
                  !std::islower(static_cast<unsigned char>(fingerprint[i])))
          << fingerprint;
    }
  }
}

TEST(ca, openssl_cli_accepts_the_files) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "no openssl binary";
  }
  temp_dir tmp;
  make_ca(tmp.path());
  const std::string cert = (tmp.path() / "ca.pem").string();
  const std::string key = (tmp.path() / "ca-key.pem").string();
  EXPECT_EQ(std::system(("openssl x509 -in '" + cert + "' -noout -text >/dev/null").c_str()), 0);
  EXPECT_EQ(std::system(("openssl pkey -in '" + key + "' -noout >/dev/null").c_str()), 0);
  // A self-signed CA verifies against itself as the only trust anchor.
  EXPECT_EQ(
      std::system(
          ("openssl verify -x509_strict -CAfile '" + cert + "' '" + cert + "' >/dev/null").c_str()),
      0);
}

/** Runs `openssl req` to make a self-signed cert + key in `dir`; false without the binary. */
bool openssl_req(const fs::path& dir, const std::string& extra) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
    return false;
  }
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 "
      "-nodes -days 30 -subj '/CN=My Own CA' " +
      extra + " -keyout '" + (dir / "ca-key.pem").string() + "' -out '" +
      (dir / "ca.pem").string() + "' >/dev/null 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return true;
}

TEST(ca, bring_your_own_ca_is_loaded_as_it_is) {
  temp_dir tmp;
  if (!openssl_req(tmp.path(), "-addext basicConstraints=critical,CA:TRUE")) {
    GTEST_SKIP() << "no openssl binary";
  }
  const std::string pem = read_file(tmp.path() / "ca.pem");
  const auto ca = make_ca(tmp.path(), "rsa");
  EXPECT_EQ(ca.cert_pem(), pem);
  EXPECT_NE(ca.describe().find("subject: CN=My Own CA\n"), std::string::npos) << ca.describe();
  EXPECT_NE(ca.describe().find("key: ECDSA P-384\n"), std::string::npos) << ca.describe();
}

TEST(ca, a_non_ca_certificate_is_rejected) {
  temp_dir tmp;
  if (!openssl_req(tmp.path(), "-addext basicConstraints=critical,CA:FALSE")) {
    GTEST_SKIP() << "no openssl binary";
  }
  try {
    make_ca(tmp.path());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a CA certificate"), std::string::npos) << e.what();
  }
}

}  // namespace
