#pragma once
// POST /api/rpc: JSON-RPC 2.0 (https://www.jsonrpc.org/specification) over the catalog, with the
// seed's method names (SPEC §6.3). Private to src/api; the method reference is docs/json-rpc.md.

#include "reply.hpp"

namespace hark::api {

/** POST /api/rpc. The request body is one JSON-RPC request or a batch (an array of up to 1000).
 *  Answers 200 with the response or the array of responses in request order, or 204 with no
 *  body when every request was a notification. Protocol errors are JSON-RPC error objects,
 *  never HTTP errors; a store failure inside one call becomes that call's -32603 and the other
 *  calls of the batch are still answered. */
response post_rpc(call& c);

}  // namespace hark::api
