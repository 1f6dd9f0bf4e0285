#include "daemon.hpp"
#include "resources.hpp"

#include "hark/api/server.hpp"
#include "hark/capture/event_hub.hpp"
#include "hark/capture/process_resolver.hpp"
#include "hark/capture/recorder.hpp"
#include "hark/core/hex.hpp"
#include "hark/core/log_sink.hpp"
#include "hark/core/time.hpp"
#include "hark/core/version.hpp"
#include "hark/layers/proxy_session.hpp"
#include "hark/net/listener.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"
#include "hark/tls/ca.hpp"
#include "hark/tls/context_cache.hpp"
#include "hark/tls/keylog.hpp"
#include "hark/tls/leaf.hpp"
#include "hark/tls/upstream_context.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/rand.h>
#include <pthread.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

namespace hark::app {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

/** Installs the daemon's logger, once, before any other thread starts. Returns the file sink
 *  SIGHUP reopens (null when logging to stderr). */
std::shared_ptr<reopenable_file_sink> setup_logging(const config& cfg) {
  std::shared_ptr<reopenable_file_sink> file;
  std::shared_ptr<spdlog::logger> logger;
  if (cfg.log_file) {
    file = std::make_shared<reopenable_file_sink>(*cfg.log_file);
    logger = std::make_shared<spdlog::logger>("hark", file);
  } else {
    logger = spdlog::stderr_color_mt("hark");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::flush_on(spdlog::level::warn);
  if (file) {
    // A log file is read with `tail -f`: lower levels reach it within a second too.
    spdlog::flush_every(std::chrono::seconds(1));
  }
  return file;
}

/** The connection cap (SPEC §2): --max-connections, or derived from the descriptor limit and
 *  what the daemon holds already. Call once the store and workers are open, just before the
 *  proxy listener. */
std::size_t size_connections(const config& cfg, const descriptor_limit& limit) {
  const std::size_t in_use = open_descriptors();
  const std::size_t cap =
      cfg.max_connections != 0 ? cfg.max_connections : default_max_connections(limit.soft, in_use);
  spdlog::info("descriptor limit {}{} ({} in use); at most {} client connections{}", limit.soft,
               limit.raised ? " (raised to the hard limit)" : "", in_use, cap,
               cfg.max_connections != 0 ? "" : " (derived; set --max-connections to change)");
  return cap;
}

tcp::endpoint to_endpoint(const endpoint_spec& spec) {
  const auto address = spec.host == "localhost" ? asio::ip::make_address("127.0.0.1")
                                                : asio::ip::make_address(spec.host);
  return {address, spec.port};
}

std::string format_endpoint(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

/** 32 random bytes as lowercase hex. */
std::string random_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("cannot generate an API token: RAND_bytes failed");
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

/** Thrown to end the daemon with exit code 1 and one clear line (SPEC §1). */
struct startup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void bind_failed(const boost::system::system_error& e, const endpoint_spec& spec,
                              const char* what, const char* flag) {
  const auto where = spec.host + ":" + std::to_string(spec.port);
  if (e.code() == asio::error::address_in_use) {
    throw startup_error("port " + std::to_string(spec.port) + " is already in use (" + what +
                        " on " + where + "); choose another with " + flag + " HOST:PORT");
  }
  throw startup_error("cannot listen on " + where + " (" + what + "): " + e.code().message() +
                      "; change it with " + flag);
}

/** The first session on an empty store, active and recording (SPEC §1). */
std::optional<store::session> ensure_default_session(store::catalog& catalog) {
  if (auto active = catalog.active_session()) {
    return active;
  }
  if (catalog.list_sessions().empty()) {
    const auto now = std::chrono::system_clock::now();
    return catalog.create_active_session(timefmt::default_session_name(now), timefmt::unix_ms(now));
  }
  return std::nullopt;
}

asio::awaitable<void> watchdog_pings(std::chrono::microseconds interval) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    sd_notify(0, "WATCHDOG=1");
    timer.expires_after(interval / 2);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

class worker_pool {
 public:
  explicit worker_pool(unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.emplace_back(asio::make_work_guard(*contexts_.back()));
    }
  }
  std::vector<asio::io_context*> contexts() const {
    std::vector<asio::io_context*> out;
    for (const auto& c : contexts_) {
      out.push_back(c.get());
    }
    return out;
  }
  void start() {
    for (auto& c : contexts_) {
      const auto name = "hark-worker-" + std::to_string(threads_.size());
      threads_.emplace_back([ctx = c.get(), name] {
        pthread_setname_np(pthread_self(), name.c_str());
        ctx->run();
      });
    }
  }
  void stop() {
    for (auto& c : contexts_) {
      c->stop();
    }
    for (auto& t : threads_) {
      t.join();
    }
    threads_.clear();
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace

int run_daemon(const config& cfg) {
  // Before anything opens a descriptor: the whole process runs under the raised limit.
  const descriptor_limit limit = raise_descriptor_limit();
  const auto log_file = setup_logging(cfg);
  // Signals are caught from the very start, so that a SIGTERM right after the "listening" lines
  // (or even before them) still means a graceful stop with exit code 0.
  asio::io_context main_ioc(1);
  asio::signal_set signals(main_ioc, SIGINT, SIGTERM, SIGHUP);
  try {
    std::filesystem::create_directories(cfg.data_dir);
    const auto ca = tls::certificate_authority::load_or_create({cfg.ca_dir, cfg.ca_key_type});
    // TLS interception (SPEC §3): one leaf key per process, contexts cached per name set.
    std::unique_ptr<tls::keylog_file> keylog;
    if (cfg.keylog) {
      keylog = std::make_unique<tls::keylog_file>(*cfg.keylog);
    } else if (const char* env = std::getenv("SSLKEYLOGFILE"); env != nullptr && *env != '\0') {
      keylog = std::make_unique<tls::keylog_file>(env);
    }
    const tls::leaf_issuer issuer(ca);
    tls::context_cache_options cache_options;
    cache_options.keylog = keylog.get();
    tls::context_cache certificates(issuer, cache_options);
    const auto upstream_tls =
        tls::make_upstream_context({!cfg.ssl_insecure, cfg.upstream_ca, keylog.get()});

    capture::recording_state recording;
    // Live events (GET /api/events): published by the store writer, the API and the TLS
    // registry, read on the API thread. Declared before all of them, so that it outlives them
    // and every subscription (destroyed with the API's io_context).
    capture::event_hub_options event_options;
    event_options.max_queued_events = cfg.events_queue;
    capture::event_hub events(event_options);
    capture::tls_registry tls_registry(1000, &events);
    for (const auto& pattern : cfg.passthrough) {
      if (!capture::tls_registry::valid_pattern(pattern)) {
        throw startup_error("invalid --passthrough pattern '" + pattern +
                            "' (use example.com or *.example.com)");
      }
      tls_registry.add_passthrough(pattern);
    }
    store::database api_db(cfg.database_path());
    store::catalog catalog(api_db);
    const auto active = ensure_default_session(catalog);
    recording.set(active ? std::optional(active->id) : std::nullopt,
                  active && active->is_recording);

    store::writer_options store_options{cfg.database_path()};
    store_options.events = &events;
    store_options.fsync = store::parse_capture_fsync(cfg.capture_fsync)
                              .value_or(store::capture_fsync::batch);  // checked by the CLI
    store_options.capture_log_max = cfg.capture_log_max;
    store::writer writer(std::move(store_options));
    capture::recorder recorder(writer, recording, cfg.max_body_capture);
    capture::process_resolver processes;

    const unsigned n_workers =
        cfg.workers != 0 ? cfg.workers : std::max(1u, std::thread::hardware_concurrency());
    worker_pool workers(n_workers);
    layers::proxy_services services{cfg, recorder, &processes};
    services.ca_pem = ca.cert_pem();
    services.ca_der = ca.cert_der();
    services.certificates = &certificates;
    services.upstream_tls = upstream_tls;
    services.tls = &tls_registry;
    std::vector<std::unique_ptr<layers::worker_state>> states;
    for (unsigned i = 0; i < n_workers; ++i) {
      states.push_back(std::make_unique<layers::worker_state>(services));
    }
    std::optional<net::listener> proxy;
    net::listener_options limits;
    limits.max_connections = size_connections(cfg, limit);
    limits.open_connections = &services.metrics.connections_open;
    limits.refused_connections = &services.metrics.connections_refused;
    limits.accept_pauses = &services.metrics.accept_pauses;
    try {
      proxy.emplace(
          workers.contexts(), to_endpoint(cfg.proxy_listen),
          [&states](tcp::socket&& socket, std::size_t index) {
            auto ex = socket.get_executor();
            asio::co_spawn(ex, layers::serve_client(std::move(socket), *states[index]),
                           asio::detached);
          },
          limits);
    } catch (const boost::system::system_error& e) {
      bind_failed(e, cfg.proxy_listen, "proxy", "--proxy-listen");
    }
    services.proxy_address = format_endpoint(proxy->local_endpoint());

    asio::io_context api_ioc(1);
    api::context api_ctx{catalog, recording, &writer.stats(), cfg.api_token};
    // An API reachable from other machines always needs a token (SPEC §6.6).
    const bool api_on_loopback = to_endpoint(cfg.api_listen).address().is_loopback();
    const bool generated_token = api_ctx.api_token.empty() && !api_on_loopback;
    if (generated_token) {
      api_ctx.api_token = random_token();
    }
    api_ctx.tls = &tls_registry;
    api_ctx.metrics = &services.metrics;
    api_ctx.ca_pem = ca.cert_pem();
    api_ctx.ca_der = ca.cert_der();
    api_ctx.proxy_address = services.proxy_address;
    api_ctx.events = &events;
    api_ctx.events_keepalive = cfg.events_keepalive;
    std::optional<api::server> api_server;
    try {
      api_server.emplace(api_ioc, to_endpoint(cfg.api_listen), api_ctx);
    } catch (const boost::system::system_error& e) {
      bind_failed(e, cfg.api_listen, "REST API", "--api-listen");
    }
    const auto api_ep = api_server->local_endpoint();
    api_ctx.allowed_hosts.push_back(format_endpoint(api_ep));
    api_ctx.allowed_hosts.push_back(api_ep.address().to_string());

    proxy->start();
    api_server->start();
    workers.start();
    std::thread api_thread([&api_ioc] {
      pthread_setname_np(pthread_self(), "hark-api");
      api_ioc.run();
    });

    std::printf("proxy listening on %s\n", services.proxy_address.c_str());
    std::printf("api listening on %s\n", format_endpoint(api_ep).c_str());
    if (generated_token) {
      std::printf("api token: %s (the API listens beyond loopback; send it as a Bearer token)\n",
                  api_ctx.api_token.c_str());
    }
    std::printf("CA certificate: %s\n", ca.cert_path().c_str());
    std::printf("active session: %s\n",
                active ? (active->name + " (" + active->id + ")").c_str() : "none");
    std::fflush(stdout);
    spdlog::info("hark {} started: {} worker threads, data in {}", hark::version, n_workers,
                 cfg.data_dir.string());

    // The main thread waits for signals (SPEC §1) and pings the systemd watchdog.
    bool stopping = false;
    std::function<void(boost::system::error_code, int)> on_signal =
        [&](boost::system::error_code ec, int sig) {
          if (ec) {
            return;
          }
          if (sig == SIGHUP) {
            if (log_file) {
              if (const std::string error = log_file->reopen(); error.empty()) {
                spdlog::info("log file reopened");
                spdlog::default_logger()->flush();
              } else {
                spdlog::error("cannot reopen log file {}: {}", log_file->path().string(), error);
              }
            }
            signals.async_wait(on_signal);
            return;
          }
          stopping = true;
          main_ioc.stop();
        };
    signals.async_wait(on_signal);
    sd_notify(0, "READY=1");
    std::uint64_t watchdog_usec = 0;
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0) {
      asio::co_spawn(main_ioc, watchdog_pings(std::chrono::microseconds(watchdog_usec)),
                     asio::detached);
    }
    main_ioc.run();

    spdlog::info("stopping: draining connections");
    sd_notify(0, "STOPPING=1");
    proxy->stop();
    api_server->stop();  // no new API connections; open event streams end now
    const auto started_stop = std::chrono::steady_clock::now();
    const auto deadline = started_stop + std::chrono::seconds(5);
    while (services.metrics.connections_open > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Event streams only have their last chunk to write: a moment, unless a client stopped
    // reading; it is not waited for beyond a second.
    while (events.live_subscriptions() > 0 &&
           std::chrono::steady_clock::now() < started_stop + std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    api_ioc.stop();
    api_thread.join();
    workers.stop();
    writer.stop();
    spdlog::info("stopped ({} connections still open were closed)",
                 services.metrics.connections_open.load());
    (void)stopping;
    return 0;
  } catch (const startup_error& e) {
    std::fprintf(stderr, "hark: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hark: %s\n", e.what());
    return 1;
  }
}

}  // namespace hark::app
