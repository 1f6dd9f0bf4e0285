#include "hark/ws/observer.hpp"

namespace hark::ws {

observer::observer(const deflate_params& deflate, std::uint64_t max_capture, message_sink& sink)
    : client_(side::client, deflate, max_capture, sink),
      server_(side::server, deflate, max_capture, sink) {}

}  // namespace hark::ws
