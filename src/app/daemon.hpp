#pragma once

#include "hark/core/config.hpp"

namespace hark::app {

/** Runs the daemon until SIGINT/SIGTERM. Returns the process exit code (0 after a graceful
 *  stop, 1 when a listener cannot be bound or the store cannot be opened). */
int run_daemon(const config& cfg);

}  // namespace hark::app
