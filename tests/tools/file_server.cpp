// A test-only HTTP server for the download tests (tests/integration/test_downloads.sh). It binds
// 127.0.0.1 on a free port, prints the port as the one line on stdout, and logs one line per
// event on stderr ("file_server: ...") for the tests to wait on, and "request METHOD PATH ->
// STATUS" for every request answered (so a test can tell that none came).
//
//   GET /bytes/N/NAME    N bytes made on the fly (never held), with a Content-Length
//   GET /chunked/N/NAME  the same bytes, chunked (no Content-Length)
//   GET /trickle/S/NAME  announces 1,000,000 bytes, sends one, then one every S seconds while
//                        the client stays
//   GET /redirect/P/NAME 302 to http://127.0.0.1:P/bytes/64/NAME (another server's file)
//   POST anything        with --relay-to PORT: a callback relay. The body is passed on to
//                        127.0.0.1:PORT (same path, same answer); when its input's first email
//                        starts with a --route PREFIX, every downloads URL is first pointed at
//                        this server's PATH/<filename>.
//
// The bytes: 16-byte blocks, each its own offset as 15 hex digits and '\n' ("000000000000010\n"
// is the second), so a test checks any part of a file with `tail -c` or `dd`.
//
//   file_server [--relay-to PORT] [--route PREFIX=PATH]...
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Json = nlohmann::json;

std::mutex g_log_mutex;

void log_line(const std::string& text) {
  std::lock_guard lock(g_log_mutex);
  std::fprintf(stderr, "file_server: %s\n", text.c_str());
  std::fflush(stderr);
}

// Bytes [offset, offset + size) of the generated content into `out`.
void fill(uint64_t offset, size_t size, std::string& out) {
  out.resize(size);
  char block[32];
  for (size_t i = 0; i < size;) {
    uint64_t at = offset + i;
    uint64_t start = at - at % 16;
    std::snprintf(block, sizeof block, "%015llx\n", static_cast<unsigned long long>(start));
    size_t from = static_cast<size_t>(at - start);
    size_t n = std::min<size_t>(16 - from, size - i);
    std::memcpy(out.data() + i, block + from, n);
    i += n;
  }
}

constexpr size_t k_piece = 64 * 1024;

struct Route {
  std::string prefix;
  std::string path;
};

struct Options {
  int relay_to = 0;
  std::vector<Route> routes;
};

Options parse_args(int argc, char** argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "file_server: %s needs a value\n", arg.c_str());
      std::exit(2);
    }
    std::string value = argv[++i];
    if (arg == "--relay-to") {
      opts.relay_to = std::atoi(value.c_str());
    } else if (arg == "--route" && value.find('=') != std::string::npos) {
      auto eq = value.find('=');
      opts.routes.push_back({value.substr(0, eq), value.substr(eq + 1)});
    } else {
      std::fprintf(stderr, "file_server: unknown option %s\n", arg.c_str());
      std::exit(2);
    }
  }
  return opts;
}

// The first email of a callback payload's input, or "".
std::string first_email(const Json& body) {
  const Json* params = body.contains("input_parameters") ? &body["input_parameters"] : nullptr;
  if (params && params->is_object() && params->contains("email") && (*params)["email"].is_array() &&
      !(*params)["email"].empty() && (*params)["email"][0].is_string()) {
    return (*params)["email"][0].get<std::string>();
  }
  return {};
}

void serve_generated(httplib::Server& server) {
  server.Get(R"(/bytes/(\d+)/(.*))", [](const httplib::Request& req, httplib::Response& res) {
    const uint64_t size = std::stoull(req.matches[1]);
    const std::string path = req.path;
    log_line("GET " + path + " -> 200, " + std::to_string(size) + " bytes");
    res.set_content_provider(
        size,
        "application/octet-stream",
        [](size_t offset, size_t length, httplib::DataSink& sink) {
          std::string piece;
          fill(offset, std::min(length, k_piece), piece);
          return sink.write(piece.data(), piece.size());
        },
        [path](bool success) {
          log_line("sent " + path + (success ? " whole" : " in part (the client left)"));
        });
  });
  server.Get(R"(/chunked/(\d+)/(.*))", [](const httplib::Request& req, httplib::Response& res) {
    const uint64_t size = std::stoull(req.matches[1]);
    const std::string path = req.path;
    log_line("GET " + path + " -> 200, " + std::to_string(size) + " bytes chunked");
    res.set_chunked_content_provider(
        "application/octet-stream",
        [size](size_t offset, httplib::DataSink& sink) {
          if (offset >= size) {
            sink.done();
            return true;
          }
          std::string piece;
          fill(offset, static_cast<size_t>(std::min<uint64_t>(size - offset, k_piece)), piece);
          return sink.write(piece.data(), piece.size());
        },
        [path](bool success) {
          log_line("sent " + path + (success ? " whole" : " in part (the client left)"));
        });
  });
}

void serve_trickle(httplib::Server& server) {
  server.Get(R"(/trickle/(\d+)/(.*))", [](const httplib::Request& req, httplib::Response& res) {
    const int every_seconds = std::max(1, std::stoi(req.matches[1]));
    const std::string path = req.path;
    log_line("GET " + path + " -> 200, trickling");
    res.set_content_provider(
        1000000,
        "application/octet-stream",
        [path, every_seconds](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset > 0) {
            std::this_thread::sleep_for(std::chrono::seconds(every_seconds));
          }
          if (!sink.write("x", 1)) {
            return false;
          }
          log_line("trickle " + path + ": sent byte " + std::to_string(offset + 1));
          return true;
        },
        [path](bool) { log_line("trickle " + path + " ended"); });
  });
}

void serve_redirect(httplib::Server& server) {
  server.Get(R"(/redirect/(\d+)/(.*))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string location =
        "http://127.0.0.1:" + req.matches[1].str() + "/bytes/64/" + req.matches[2].str();
    log_line("GET " + req.path + " -> 302 " + location);
    res.set_redirect(location, 302);
  });
}

void serve_relay(httplib::Server& server, const Options& opts, int port) {
  server.Post(R"(/.*)", [&opts, port](const httplib::Request& req, httplib::Response& res) {
    std::string body = req.body;
    Json payload = Json::parse(body, nullptr, false);
    std::string routed = "unchanged";
    if (payload.is_object()) {
      const std::string email = first_email(payload);
      for (const Route& route : opts.routes) {
        if (email.rfind(route.prefix, 0) != 0) {
          continue;
        }
        for (const char* key : {"downloads", "downloads_with_metadata"}) {
          if (!payload.contains(key) || !payload[key].is_array()) {
            continue;
          }
          for (Json& entry : payload[key]) {
            if (entry.is_object() && entry.contains("filename") && entry["filename"].is_string()) {
              entry["url"] = "http://127.0.0.1:" + std::to_string(port) + route.path + "/" +
                             entry["filename"].get<std::string>();
            }
          }
        }
        body = payload.dump();
        routed = route.path;
        break;
      }
    }
    const std::string task =
        payload.is_object() && payload.contains("task_id") && payload["task_id"].is_string()
            ? payload["task_id"].get<std::string>()
            : "?";
    log_line("relay callback " + task + " downloads " + routed);
    httplib::Client target("127.0.0.1", opts.relay_to);
    target.set_connection_timeout(std::chrono::seconds(10));
    target.set_read_timeout(std::chrono::seconds(30));
    httplib::Headers headers;
    for (const char* name : {"Authorization", "x-api-key"}) {
      if (req.has_header(name)) {
        headers.emplace(name, req.get_header_value(name));
      }
    }
    auto answer = target.Post(req.path, headers, body, "application/json");
    if (!answer) {
      res.status = 502;
      res.set_content("{}", "application/json");
      return;
    }
    res.status = answer->status;
    res.set_content(answer->body, "application/json");
  });
}

} // namespace

int main(int argc, char** argv) {
  Options opts = parse_args(argc, argv);
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server.set_read_timeout(std::chrono::seconds(10));
  server.set_write_timeout(std::chrono::seconds(10));
  int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "file_server: cannot bind 127.0.0.1\n");
    return 1;
  }
  serve_generated(server);
  serve_trickle(server);
  serve_redirect(server);
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    log_line("request " + req.method + " " + req.path + " -> " + std::to_string(res.status));
  });
  if (opts.relay_to > 0) {
    serve_relay(server, opts, port);
  }
  std::printf("%d\n", port);
  std::fflush(stdout);
  return server.listen_after_bind() ? 0 : 1;
}
