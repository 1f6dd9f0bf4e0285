// hark — entry point: parse the command line, then run the daemon or a `ca` subcommand.

#include "cli.hpp"
#include "daemon.hpp"

#include "hark/tls/ca.hpp"

#include <malloc.h>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <variant>

namespace {

int run_ca_command(const hark::app::invocation& inv) {
  const auto ca =
      hark::tls::certificate_authority::load_or_create({inv.cfg.ca_dir, inv.cfg.ca_key_type});
  switch (inv.cmd) {
    case hark::app::command::ca_path:
      std::cout << ca.cert_path().string() << "\n";
      break;
    case hark::app::command::ca_show:
      std::cout << ca.describe();
      break;
    case hark::app::command::ca_export:
      if (inv.export_format == "der") {
        const auto der = ca.cert_der();
        std::fwrite(der.data(), 1, der.size(), stdout);
      } else {
        std::cout << ca.cert_pem();
      }
      break;
    case hark::app::command::run:
      break;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Captured bodies and their compression use buffers of up to --max-body-capture bytes. A fixed
  // mmap threshold makes glibc return them to the system when freed (its default threshold
  // grows after the first large free, and freed heap memory then stays resident); few arenas
  // keep the per-thread caches small. Together they bound RSS during large downloads.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 4);
  // A peer that closes while Hark writes must fail that write, not end the process: splice(2)
  // has no MSG_NOSIGNAL (Asio's sends do).
  std::signal(SIGPIPE, SIG_IGN);
  auto parsed = hark::app::parse_command_line(argc, argv);
  if (auto* done = std::get_if<hark::app::cli_exit>(&parsed)) {
    return done->code;
  }
  const auto& inv = std::get<hark::app::invocation>(parsed);
  try {
    if (inv.cmd != hark::app::command::run) {
      return run_ca_command(inv);
    }
    return hark::app::run_daemon(inv.cfg);
  } catch (const std::exception& e) {
    std::cerr << "hark: " << e.what() << "\n";
    return 1;
  }
}
