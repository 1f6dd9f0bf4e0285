#include "cli.hpp"

#include "hark/core/version.hpp"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <variant>

namespace hark::app {

namespace {

/** Every option, as given on the command line or in the TOML file (same names). */
struct raw_options {
  std::string proxy_listen = "127.0.0.1:8888";
  std::string api_listen = "127.0.0.1:8889";
  std::string data_dir, ca_dir, ca_key_type = "ecdsa", config_file, api_token, keylog;
  std::string log_level = "info", log_file;
  std::uint64_t max_body_capture = 16ull << 20;
  std::string capture_fsync = "batch";
  std::uint64_t capture_log_max = 2ull << 30;
  long header_timeout = 30, idle_timeout = 60, connect_timeout = 10, upstream_timeout = 60;
  std::vector<std::string> upstream_ca, passthrough;
  bool ssl_insecure = false;
  unsigned workers = 0;
  std::uint64_t max_connections = 0;
  long events_keepalive = 15;
  std::uint64_t events_queue = 8192;
};

template <class T>
void from_toml(const toml::table& t, CLI::App& app, const std::string& key, T& target) {
  const auto* opt = app.get_option_no_throw("--" + key);
  if (opt != nullptr && opt->count() > 0) {
    return;  // the command line wins over the file
  }
  const auto* node = t.get(key);
  if (node == nullptr) {
    return;
  }
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (const auto* arr = node->as_array()) {
      target.clear();
      for (const auto& v : *arr) {
        if (auto s = v.value<std::string>()) {
          target.push_back(*s);
        } else {
          throw CLI::ValidationError(key, "expected an array of strings in the config file");
        }
      }
      return;
    }
    throw CLI::ValidationError(key, "expected an array of strings in the config file");
  } else {
    auto v = node->value<T>();
    if (!v) {
      throw CLI::ValidationError(key, "wrong type in the config file");
    }
    target = *v;
  }
}

void apply_config_file(CLI::App& app, raw_options& o) {
  toml::table t;
  try {
    t = toml::parse_file(o.config_file);
  } catch (const toml::parse_error& e) {
    throw CLI::ValidationError("--config", std::string(e.description()) + " in " + o.config_file);
  }
  const std::set<std::string> known = {
      "proxy-listen",    "api-listen",    "data-dir",        "ca-dir",           "ca-key-type",
      "api-token",       "keylog",        "log-level",       "log-file",         "max-body-capture",
      "header-timeout",  "idle-timeout",  "connect-timeout", "upstream-timeout", "upstream-ca",
      "passthrough",     "ssl-insecure",  "workers",         "events-keepalive", "events-queue",
      "max-connections", "capture-fsync", "capture-log-max"};
  for (const auto& [key, value] : t) {
    if (known.count(std::string(key.str())) == 0) {
      throw CLI::ValidationError(
          "--config", "unknown key '" + std::string(key.str()) + "' in " + o.config_file);
    }
  }
  from_toml(t, app, "proxy-listen", o.proxy_listen);
  from_toml(t, app, "api-listen", o.api_listen);
  from_toml(t, app, "data-dir", o.data_dir);
  from_toml(t, app, "ca-dir", o.ca_dir);
  from_toml(t, app, "ca-key-type", o.ca_key_type);
  from_toml(t, app, "api-token", o.api_token);
  from_toml(t, app, "keylog", o.keylog);
  from_toml(t, app, "log-level", o.log_level);
  from_toml(t, app, "log-file", o.log_file);
  from_toml(t, app, "capture-fsync", o.capture_fsync);
  std::int64_t n = 0;
  auto number = [&](const char* key, auto& target) {
    n = static_cast<std::int64_t>(target);
    from_toml(t, app, key, n);
    if (n < 0) {
      throw CLI::ValidationError(key, "must not be negative");
    }
    target = static_cast<std::remove_reference_t<decltype(target)>>(n);
  };
  number("max-body-capture", o.max_body_capture);
  number("capture-log-max", o.capture_log_max);
  number("header-timeout", o.header_timeout);
  number("idle-timeout", o.idle_timeout);
  number("connect-timeout", o.connect_timeout);
  number("upstream-timeout", o.upstream_timeout);
  number("workers", o.workers);
  number("max-connections", o.max_connections);
  number("events-keepalive", o.events_keepalive);
  number("events-queue", o.events_queue);
  from_toml(t, app, "upstream-ca", o.upstream_ca);
  from_toml(t, app, "passthrough", o.passthrough);
  from_toml(t, app, "ssl-insecure", o.ssl_insecure);
}

void add_options(CLI::App& app, raw_options& o) {
  app.add_option("--proxy-listen", o.proxy_listen, "proxy address HOST:PORT (port 0: any free)")
      ->capture_default_str();
  app.add_option("--api-listen", o.api_listen, "REST API address HOST:PORT")->capture_default_str();
  app.add_option(
      "--data-dir", o.data_dir,
      "data directory (default $HARK_DATA_DIR, $XDG_DATA_HOME/hark, ~/.local/share/hark)");
  app.add_option("--ca-dir", o.ca_dir, "CA directory (default <data-dir>/ca)");
  app.add_option("--ca-key-type", o.ca_key_type, "key type of a new CA")
      ->check(CLI::IsMember({"ecdsa", "rsa"}))
      ->capture_default_str();
  app.add_option("--config", o.config_file, "TOML config file (keys named like the flags)")
      ->check(CLI::ExistingFile);
  app.add_option("--max-body-capture", o.max_body_capture, "bytes of each body kept in the store")
      ->capture_default_str();
  app.add_option("--capture-fsync", o.capture_fsync,
                 "when the capture log is fsynced: batch (at most every 100 ms), always, never")
      ->check(CLI::IsMember({"batch", "always", "never"}))
      ->capture_default_str();
  app.add_option("--capture-log-max", o.capture_log_max,
                 "bytes of capture log on disk beyond which recording pauses")
      ->capture_default_str();
  const auto seconds = CLI::Range(1, 86400);
  app.add_option("--header-timeout", o.header_timeout, "seconds to receive a request head")
      ->check(seconds)
      ->capture_default_str();
  app.add_option("--idle-timeout", o.idle_timeout, "seconds a keep-alive connection may idle")
      ->check(seconds)
      ->capture_default_str();
  app.add_option("--connect-timeout", o.connect_timeout, "seconds to connect upstream")
      ->check(seconds)
      ->capture_default_str();
  app.add_option("--upstream-timeout", o.upstream_timeout,
                 "seconds for the upstream to start answering")
      ->check(seconds)
      ->capture_default_str();
  app.add_option("--api-token", o.api_token, "bearer token required by the API");
  app.add_option("--upstream-ca", o.upstream_ca, "extra CA file trusted for upstream TLS");
  app.add_flag("--ssl-insecure", o.ssl_insecure, "do not verify upstream certificates");
  app.add_option("--passthrough", o.passthrough, "host pattern relayed without interception");
  app.add_option("--keylog", o.keylog, "write TLS secrets to FILE (SSLKEYLOGFILE format)");
  app.add_option("--log-level", o.log_level, "log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.add_option("--log-file", o.log_file, "log to FILE instead of stderr (reopened on SIGHUP)");
  app.add_option("--workers", o.workers, "proxy worker threads (0: one per CPU)");
  app.add_option("--max-connections", o.max_connections,
                 "client connections open at once before new ones are refused (0: derived from "
                 "the descriptor limit)")
      ->capture_default_str();
  app.add_option("--events-keepalive", o.events_keepalive,
                 "seconds of silence before /api/events sends a keep-alive comment")
      ->capture_default_str();
  app.add_option("--events-queue", o.events_queue,
                 "events an /api/events client may fall behind before it is dropped")
      ->capture_default_str();
}

/** Ranges checked here rather than with CLI11 checks, so that config file values get them too. */
void check_ranges(const raw_options& o) {
  if (o.events_keepalive < 1 || o.events_keepalive > 3600) {
    throw std::invalid_argument("--events-keepalive: must be a number of seconds from 1 to 3600");
  }
  if (o.max_connections > 10'000'000) {
    throw std::invalid_argument("--max-connections: must be from 0 (derived) to 10000000");
  }
  if (o.capture_fsync != "batch" && o.capture_fsync != "always" && o.capture_fsync != "never") {
    throw std::invalid_argument("--capture-fsync: must be batch, always or never");
  }
  if (o.capture_log_max < (1u << 20)) {
    throw std::invalid_argument("--capture-log-max: must be at least 1048576 bytes");
  }
  if (o.events_queue < 1 || o.events_queue > 1'000'000) {
    throw std::invalid_argument("--events-queue: must be from 1 to 1000000");
  }
}

config to_config(const raw_options& o) {
  check_ranges(o);
  config c;
  c.proxy_listen = parse_endpoint(o.proxy_listen);
  c.api_listen = parse_endpoint(o.api_listen);
  c.data_dir = o.data_dir.empty() ? default_data_dir() : std::filesystem::path(o.data_dir);
  c.ca_dir = o.ca_dir.empty() ? c.data_dir / "ca" : std::filesystem::path(o.ca_dir);
  c.ca_key_type = o.ca_key_type;
  for (const auto& f : o.upstream_ca) {
    c.upstream_ca.emplace_back(f);
  }
  c.ssl_insecure = o.ssl_insecure;
  c.passthrough = o.passthrough;
  if (!o.keylog.empty()) {
    c.keylog = o.keylog;
  }
  c.max_body_capture = o.max_body_capture;
  c.capture_fsync = o.capture_fsync;
  c.capture_log_max = o.capture_log_max;
  c.header_timeout = std::chrono::seconds(o.header_timeout);
  c.idle_timeout = std::chrono::seconds(o.idle_timeout);
  c.connect_timeout = std::chrono::seconds(o.connect_timeout);
  c.upstream_timeout = std::chrono::seconds(o.upstream_timeout);
  c.api_token = o.api_token;
  c.log_level = o.log_level;
  if (!o.log_file.empty()) {
    c.log_file = o.log_file;
  }
  c.workers = o.workers;
  c.max_connections = static_cast<std::size_t>(o.max_connections);
  c.events_keepalive = std::chrono::seconds(o.events_keepalive);
  c.events_queue = static_cast<std::size_t>(o.events_queue);
  return c;
}

}  // namespace

std::variant<invocation, cli_exit> parse_command_line(int argc, char** argv) {
  CLI::App app{"Hark — HTTP(S) capture proxy with a REST API", "hark"};
  app.set_version_flag("--version", std::string("hark ") + hark::version);
  app.fallthrough();
  raw_options o;
  add_options(app, o);
  invocation inv;
  auto* run = app.add_subcommand("run", "run the daemon in the foreground (the default)");
  auto* ca = app.add_subcommand("ca", "the local certificate authority");
  ca->require_subcommand(1);
  auto* ca_path = ca->add_subcommand("path", "print the CA certificate's path");
  auto* ca_show = ca->add_subcommand("show", "describe the CA certificate");
  auto* ca_export = ca->add_subcommand("export", "write the CA certificate to stdout");
  ca_export->add_option("--format", inv.export_format, "pem or der")
      ->check(CLI::IsMember({"pem", "der"}))
      ->capture_default_str();
  (void)run;
  try {
    app.parse(argc, argv);
    if (!o.config_file.empty()) {
      apply_config_file(app, o);
    }
    inv.cfg = to_config(o);
  } catch (const CLI::Success& e) {
    return cli_exit{app.exit(e)};
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cli_exit{2};
  } catch (const std::invalid_argument& e) {
    std::cerr << "hark: " << e.what() << "\nRun with --help for more information.\n";
    return cli_exit{2};
  }
  if (ca_path->parsed()) {
    inv.cmd = command::ca_path;
  } else if (ca_show->parsed()) {
    inv.cmd = command::ca_show;
  } else if (ca_export->parsed()) {
    inv.cmd = command::ca_export;
  }
  return inv;
}

}  // namespace hark::app
