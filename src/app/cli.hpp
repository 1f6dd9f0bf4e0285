#pragma once
// Command line (CLI11) and config file (TOML) of the hark executable.

#include "hark/core/config.hpp"

#include <optional>
#include <string>
#include <variant>

namespace hark::app {

enum class command { run, ca_path, ca_show, ca_export };

struct invocation {
  command cmd = command::run;
  config cfg;
  std::string export_format = "pem";
};

/** The process exit code when parsing ends the program (help, version, errors). */
struct cli_exit {
  int code;
};

/** Parses argv and the --config file. Prints help/version/errors itself; returns cli_exit when
 *  the program should end (0 for --help/--version, 2 for bad flags or values). */
std::variant<invocation, cli_exit> parse_command_line(int argc, char** argv);

}  // namespace hark::app
