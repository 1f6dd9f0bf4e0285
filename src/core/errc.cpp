#include "hark/core/errc.hpp"

#include <string>

namespace hark {

std::string_view to_string(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::dns_failed:
      return "dns_failed";
    case errc::connect_failed:
      return "connect_failed";
    case errc::upstream_timeout:
      return "upstream_timeout";
    case errc::upstream_cert_invalid:
      return "upstream_cert_invalid";
    case errc::upstream_reset:
      return "upstream_reset";
    case errc::upstream_protocol:
      return "upstream_protocol";
    case errc::client_reset:
      return "client_reset";
    case errc::client_protocol:
      return "client_protocol";
    case errc::header_too_large:
      return "header_too_large";
    case errc::client_timeout:
      return "client_timeout";
    case errc::alpn_mismatch:
      return "alpn_mismatch";
    case errc::internal_error:
      return "internal_error";
  }
  return "unknown";
}

std::optional<errc> errc_from_string(std::string_view code) noexcept {
  for (int v = static_cast<int>(errc::ok); v <= static_cast<int>(errc::internal_error); ++v) {
    if (to_string(static_cast<errc>(v)) == code) {
      return static_cast<errc>(v);
    }
  }
  return std::nullopt;
}

namespace {
// boost::system::error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "hark"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<errc>(value)));
  }
};
#pragma GCC diagnostic pop
}  // namespace

const boost::system::error_category& hark_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace hark
