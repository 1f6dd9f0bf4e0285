#include "hark/tls/ca.hpp"

#include "openssl_util.hpp"

#include "hark/core/hex.hpp"
#include "hark/core/time.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

namespace hark::tls {

using detail::set_random_serial;
using detail::throw_openssl;
namespace {

namespace fs = std::filesystem;

template <auto Free>
struct openssl_deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free_all>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;

constexpr std::string_view cert_file_name = "ca.pem";
constexpr std::string_view key_file_name = "ca-key.pem";
constexpr int validity_years = 10;
constexpr std::time_t backdate_seconds = 24 * 60 * 60;
// X.520 ub-common-name is 64 characters; leave room for "Hark CA (" + " xxxxxxxx)".
constexpr std::size_t max_host_name_length = 40;

[[noreturn]] void throw_errno(const std::string& what, int error) {
  throw std::runtime_error(what + ": " + std::generic_category().message(error));
}

void check_key_type(const std::string& key_type) {
  if (key_type != "ecdsa" && key_type != "rsa") {
    throw std::runtime_error("unknown CA key type '" + key_type + "' (expected ecdsa or rsa)");
  }
}

std::string random_hex(std::size_t bytes) {
  std::array<unsigned char, 16> raw{};
  if (bytes > raw.size() || RAND_bytes(raw.data(), static_cast<int>(bytes)) != 1) {
    throw_openssl("cannot get random bytes");
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(raw.data()), bytes));
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') {
    return "localhost";
  }
  std::string name = buf.data();
  if (name.size() > max_host_name_length) {
    name.resize(max_host_name_length);
  }
  return name;
}

// ---------------------------------------------------------------------------------------------
// Creating a CA

pkey_ptr generate_key(const std::string& key_type) {
  EVP_PKEY* key = nullptr;
  if (key_type == "rsa") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
  } else {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  }
  if (key == nullptr) {
    throw_openssl("cannot generate the CA key");
  }
  return pkey_ptr(key);
}

void set_validity(X509* cert) {
  // Backdated a day so that clients with a slightly wrong clock accept it.
  const std::time_t not_before = std::time(nullptr) - backdate_seconds;
  std::tm tm{};
  gmtime_r(&not_before, &tm);
  tm.tm_year += validity_years;
  const std::time_t not_after = timegm(&tm);
  if (ASN1_TIME_set(X509_getm_notBefore(cert), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), not_after) == nullptr) {
    throw_openssl("cannot set the CA validity");
  }
}

void set_subject_and_issuer(X509* cert) {
  const std::string common_name = "Hark CA (" + host_name() + " " + random_hex(4) + ")";
  X509_NAME* name = X509_get_subject_name(cert);
  const auto add = [name](const char* field, const std::string& value) {
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      throw_openssl(std::string("cannot set the CA subject ") + field);
    }
  };
  add("O", "Hark");
  add("CN", common_name);
  if (X509_set_issuer_name(cert, name) != 1) {
    throw_openssl("cannot set the CA issuer");
  }
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ext_ptr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    throw_openssl(std::string("cannot add the CA extension ") + OBJ_nid2sn(nid));
  }
}

x509_ptr make_self_signed(EVP_PKEY* key) {
  x509_ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    throw_openssl("cannot create the CA certificate");
  }
  set_random_serial(cert.get(), "the CA");
  set_validity(cert.get());
  set_subject_and_issuer(cert.get());
  if (X509_set_pubkey(cert.get(), key) != 1) {
    throw_openssl("cannot set the CA public key");
  }
  X509V3_CTX ctx{};
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  // SKI before AKI: the AKI of a self-signed certificate copies its own SKI.
  add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
    throw_openssl("cannot sign the CA certificate");
  }
  return cert;
}

std::string mem_bio_contents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string cert_to_pem(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    throw_openssl("cannot encode the CA certificate");
  }
  return mem_bio_contents(bio.get());
}

/** PKCS#8 PrivateKeyInfo, unencrypted (OpenSSL 3's PEM_write_bio_PrivateKey format). */
std::string key_to_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw_openssl("cannot encode the CA key");
  }
  return mem_bio_contents(bio.get());
}

/** Closes a file descriptor it owns. */
class unique_fd {
 public:
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  ~unique_fd() { reset(); }
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&&) = delete;
  int get() const noexcept { return fd_; }
  /** Closes now; returns close()'s errno, or 0. */
  int reset() noexcept {
    int error = 0;
    if (fd_ >= 0 && ::close(fd_) != 0) {
      error = errno;
    }
    fd_ = -1;
    return error;
  }

 private:
  int fd_;
};

/** Writes `data` to a new temporary file with exactly `mode`, then renames it over `target`:
 *  readers see either no file or the whole file, and the key is never readable by others. */
void write_file_atomically(const fs::path& target, std::string_view data, mode_t mode) {
  fs::path temp = target;
  temp += ".tmp-" + random_hex(4);
  unique_fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    throw_errno("cannot create " + temp.string(), errno);
  }
  int error = 0;
  // The umask may have removed bits we want (0644 for the certificate).
  if (::fchmod(fd.get(), mode) != 0) {
    error = errno;
  }
  while (error == 0 && !data.empty()) {
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno != EINTR) {
      error = errno;
    } else if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  if (error == 0 && ::fsync(fd.get()) != 0) {
    error = errno;
  }
  if (const int close_error = fd.reset(); error == 0) {
    error = close_error;
  }
  if (error == 0 && ::rename(temp.c_str(), target.c_str()) != 0) {
    error = errno;
  }
  if (error != 0) {
    ::unlink(temp.c_str());
    throw_errno("cannot write " + target.string(), error);
  }
}

void ensure_directory(const fs::path& dir) {
  std::error_code ec;
  if (fs::create_directories(dir, ec) && !ec) {
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot create the CA directory " + dir.string() + ": " +
                             ec.message());
  }
}

/** An exclusive flock on the CA directory for the duration of load-or-create. Best effort: a
 *  directory we may read files in but not open (mode --x) is used without the lock. */
unique_fd lock_directory(const fs::path& dir) {
  unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) {
    while (::flock(fd.get(), LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  return fd;
}

void create_ca_files(const fs::path& cert_file, const fs::path& key_file,
                     const std::string& key_type) {
  const pkey_ptr key = generate_key(key_type);
  const x509_ptr cert = make_self_signed(key.get());
  write_file_atomically(key_file, key_to_pem(key.get()), 0600);
  write_file_atomically(cert_file, cert_to_pem(cert.get()), 0644);
}

// ---------------------------------------------------------------------------------------------
// Loading a CA

/** Never prompts on the terminal for an encrypted key: the daemon has no one to ask. */
int no_password(char*, int, int, void*) noexcept {
  return -1;
}

bio_ptr open_for_reading(const fs::path& file) {
  bio_ptr bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) {
    throw_openssl("cannot open " + file.string());
  }
  return bio;
}

x509_ptr read_cert(const fs::path& file) {
  const bio_ptr bio = open_for_reading(file);
  x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr));
  if (!cert) {
    throw_openssl("cannot read a PEM certificate from " + file.string());
  }
  return cert;
}

pkey_ptr read_key(const fs::path& file) {
  const bio_ptr bio = open_for_reading(file);
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!key) {
    throw_openssl("cannot read an unencrypted PEM private key from " + file.string());
  }
  return key;
}

std::string key_description(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
  }
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    std::array<char, 80> group{};
    if (EVP_PKEY_get_group_name(key, group.data(), group.size(), nullptr) == 1) {
      const char* nist = EC_curve_nid2nist(OBJ_txt2nid(group.data()));
      return std::string("ECDSA ") + (nist != nullptr ? nist : group.data());
    }
    return "ECDSA";
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "unknown";
}

std::string time_description(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) {
    return "invalid";
  }
  return timefmt::iso8601(timefmt::clock::from_time_t(timegm(&tm)));
}

std::string subject_description(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  // RFC 2253 form, but UTF-8 left readable instead of escaped.
  const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, flags) < 0) {
    throw_openssl("cannot print the CA subject");
  }
  return mem_bio_contents(bio.get());
}

std::string sha256_fingerprint(X509* cert) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &size) != 1) {
    throw_openssl("cannot hash the CA certificate");
  }
  // OPENSSL_buf2hexstr: upper-case hex pairs separated by ':', the usual fingerprint form.
  char* hex = OPENSSL_buf2hexstr(md.data(), static_cast<long>(size));
  if (hex == nullptr) {
    throw_openssl("cannot format the CA fingerprint");
  }
  std::string out = hex;
  OPENSSL_free(hex);
  return out;
}

}  // namespace

certificate_authority certificate_authority::load_or_create(const ca_options& options) {
  check_key_type(options.key_type);
  const fs::path cert_file = options.dir / cert_file_name;
  const fs::path key_file = options.dir / key_file_name;
  ensure_directory(options.dir);
  const unique_fd lock = lock_directory(options.dir);

  std::error_code ec;
  const bool has_cert = fs::exists(cert_file, ec);
  const bool has_key = fs::exists(key_file, ec);
  if (has_cert != has_key) {
    const fs::path& present = has_cert ? cert_file : key_file;
    const fs::path& missing = has_cert ? key_file : cert_file;
    throw std::runtime_error("CA file " + missing.string() + " is missing (but " +
                             present.string() + " exists): restore it, or remove " +
                             present.string() + " to create a new CA");
  }
  if (!has_cert) {
    create_ca_files(cert_file, key_file, options.key_type);
  }

  certificate_authority ca;
  ca.cert_path_ = cert_file;
  ca.cert_.reset(read_cert(cert_file).release());
  ca.key_.reset(read_key(key_file).release());
  if (X509_check_private_key(ca.cert_.get(), ca.key_.get()) != 1) {
    throw_openssl("the CA key " + key_file.string() + " does not match the certificate " +
                  cert_file.string());
  }
  if (X509_check_ca(ca.cert_.get()) == 0) {
    throw std::runtime_error(cert_file.string() +
                             " is not a CA certificate (it needs BasicConstraints CA:TRUE)");
  }
  ca.cert_pem_ = cert_to_pem(ca.cert_.get());
  return ca;
}

std::string certificate_authority::cert_der() const {
  const int size = i2d_X509(cert_.get(), nullptr);
  if (size <= 0) {
    throw_openssl("cannot encode the CA certificate");
  }
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509(cert_.get(), &out) != size) {
    throw_openssl("cannot encode the CA certificate");
  }
  return der;
}

std::string certificate_authority::describe() const {
  std::string out;
  out += "subject: " + subject_description(cert_.get()) + "\n";
  out += "key: " + key_description(key_.get()) + "\n";
  out += "not before: " + time_description(X509_get0_notBefore(cert_.get())) +
         " / not after: " + time_description(X509_get0_notAfter(cert_.get())) + "\n";
  out += "sha256 fingerprint: " + sha256_fingerprint(cert_.get()) + "\n";
  return out;
}

}  // namespace hark::tls
