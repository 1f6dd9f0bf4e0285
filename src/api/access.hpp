#pragma once
// Private to src/api: who may call the API (SPEC §6.6 security) — the DNS-rebinding guard on
// the Host header and the bearer token.

#include <string>
#include <string_view>
#include <vector>

namespace hark::api {

/** Whether `host` (a Host header value) names this API: `localhost`, a 127.0.0.0/8 address,
 *  `[::1]` or `::1`, each with or without `:port`, or one of `allowed` (compared
 *  case-insensitively; an allowed entry without a port accepts any port). An empty or
 *  malformed value is refused. */
bool is_allowed_host(std::string_view host, const std::vector<std::string>& allowed);

/** Whether `authorization` (the Authorization header value) is `Bearer <token>`. The token is
 *  compared in constant time; `token` must not be empty. */
bool bearer_token_matches(std::string_view authorization, std::string_view token);

}  // namespace hark::api
