#pragma once
// The page the proxy serves to origin-form requests and to the magic host `hark.local`.

#include <string>
#include <string_view>

namespace hark::layers {

/** A small self-contained HTML page about Hark: what it is, how to point a client at
 *  `proxy_address`, and links to download the CA (`/ca.pem`, `/ca.der`) with install hints
 *  per OS (Linux, macOS, Windows, iOS, Android, Firefox). */
std::string onboarding_page(std::string_view proxy_address);

}  // namespace hark::layers
