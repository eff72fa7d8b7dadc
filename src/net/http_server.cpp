#include "net/http_server.h"

#include "net/versions.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/crypto.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>

namespace net {

void use_reuseaddr_only(httplib::Server& server, int& listen_fd) {
  server.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock; // the last socket tried is the one that binds
  });
}

void widen_backlog(int listen_fd) {
  if (listen_fd >= 0) {
    ::listen(listen_fd, SOMAXCONN);
  }
}

namespace {

int local_port(int fd, bool peer) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) {
    return -1;
  }
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return -1;
}

} // namespace

std::vector<std::pair<unsigned long, int>> accepted_connections(int port) {
  // httplib keeps no list of its connections: find them among this process's descriptors. An
  // accepted socket's own port is the listening port, and it has a peer (the listening socket
  // has none; our own client sockets to that port have an ephemeral local port).
  std::vector<std::pair<unsigned long, int>> found;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) {
    return found;
  }
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) {
      continue;
    }
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
        type != SOCK_STREAM) {
      continue;
    }
    if (local_port(static_cast<int>(fd), false) == port &&
        local_port(static_cast<int>(fd), true) > 0) {
      struct stat st {};
      if (fstat(static_cast<int>(fd), &st) == 0) {
        found.emplace_back(static_cast<unsigned long>(st.st_ino), static_cast<int>(fd));
      }
    }
  }
  closedir(dir);
  return found;
}

void shutdown_accepted_connections(int port) {
  for (const auto& [inode, fd] : accepted_connections(port)) {
    shutdown_reading(fd, inode);
  }
}

void shutdown_reading(int fd, unsigned long inode) {
  // The number may have been closed and reused since it was listed: check it is still the
  // same socket (narrowing that window to the two calls below).
  struct stat st {};
  if (fstat(fd, &st) == 0 && static_cast<unsigned long>(st.st_ino) == inode) {
    ::shutdown(fd, SHUT_RD);
  }
}

std::string network_library_versions() {
  return fmt::format("cpp-httplib {}, {}", CPPHTTPLIB_VERSION, OpenSSL_version(OPENSSL_VERSION));
}

std::string who_listens(int port) {
  // /proc/net/tcp{,6}: "sl local_address rem_address st ... inode"; st 0A is LISTEN.
  std::string inode;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line); // header
    while (inode.empty() && std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, skip;
      fields >> sl >> local >> remote >> state;
      auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos ||
          std::stoi(local.substr(colon + 1), nullptr, 16) != port) {
        continue;
      }
      for (int i = 0; i < 5; ++i) {
        fields >> skip; // tx:rx, tr:when, retrnsmt, uid, timeout
      }
      fields >> inode;
    }
  }
  if (inode.empty()) {
    return {};
  }
  const std::string target = "socket:[" + inode + "]";
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    std::string pid = proc.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code fd_ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      if (std::filesystem::read_symlink(fd.path(), link_ec).string() == target) {
        std::ifstream comm(proc.path() / "comm");
        std::string name;
        std::getline(comm, name);
        return fmt::format("{} (pid {})", name, pid);
      }
    }
  }
  return {};
}

// --- HttpRequest, HttpResponse ------------------------------------------------------------------

const std::string& HttpRequest::body() const {
  return m_req.body;
}

std::string HttpRequest::header(const std::string& name) const {
  return m_req.get_header_value(name);
}

bool HttpRequest::has_param(const std::string& name) const {
  return m_req.has_param(name);
}

std::string HttpRequest::param(const std::string& name) const {
  return m_req.get_param_value(name);
}

std::string HttpRequest::match(size_t i) const {
  return i < m_req.matches.size() ? m_req.matches[i].str() : std::string();
}

int HttpResponse::status() const {
  return m_res.status;
}

bool HttpResponse::has_body() const {
  return !m_res.body.empty();
}

void HttpResponse::set(int status, std::string body, const std::string& content_type) {
  m_res.status = status;
  m_res.set_content(std::move(body), content_type.c_str());
}

void HttpResponse::set_header(const std::string& name, const std::string& value) {
  m_res.set_header(name.c_str(), value);
}

void HttpResponse::drop_connection() {
  // httplib gives a handler no socket and always writes an answer after it: find this
  // request's connection among the accepted ones by its two ports, and shut it down both ways.
  // The client reads end of stream; httplib's write then fails (EPIPE; SIGPIPE is ignored) and
  // it closes the connection.
  for (const auto& [inode, fd] : accepted_connections(m_req.local_port)) {
    if (local_port(fd, true) == m_req.remote_port) {
      struct stat st {};
      if (fstat(fd, &st) == 0 && static_cast<unsigned long>(st.st_ino) == inode) {
        ::shutdown(fd, SHUT_RDWR);
      }
    }
  }
}

// --- HttpServer
// -----------------------------------------------------------------------------------

struct HttpServer::Impl {
  HttpServerOptions options;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> done{false};
  int listen_fd = -1; // seen by the socket options callback during bind
  int port = -1;
  bool stopped = false;
};

HttpServer::HttpServer(HttpServerOptions options) : m_impl(std::make_unique<Impl>()) {
  m_impl->options = options;
  httplib::Server& server = m_impl->server;
  int threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // The default options set SO_REUSEPORT: a second server could then share the port and the
  // kernel would split requests between the two. SO_REUSEADDR alone makes that an error.
  use_reuseaddr_only(server, m_impl->listen_fd);
  server.set_payload_max_length(options.payload_limit);
  server.set_tcp_nodelay(true); // no Nagle stall on small answers
  server.set_read_timeout(options.read_timeout_s, 0);
  server.set_write_timeout(options.write_timeout_s, 0);
  // Not 0: httplib waits the keep-alive timeout for a connection's *first* request too, so 0
  // drops any client whose request comes more than ~10 ms after its connect. The time an idle
  // client may then hold a pool thread does not delay stop(), which cuts the reading side of
  // accepted connections.
  server.set_keep_alive_timeout(options.keep_alive_timeout_s);
  server.set_keep_alive_max_count(options.keep_alive_max_count);
}

HttpServer::~HttpServer() {
  stop();
}

namespace {

httplib::Server::Handler adapt(HttpServer::Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    HttpRequest request(req);
    HttpResponse response(res, req);
    handler(request, response);
  };
}

} // namespace

void HttpServer::get(const std::string& pattern, Handler handler) {
  m_impl->server.Get(pattern, adapt(std::move(handler)));
}

void HttpServer::post(const std::string& pattern, Handler handler) {
  m_impl->server.Post(pattern, adapt(std::move(handler)));
}

void HttpServer::on_exception(std::function<void(HttpResponse&, std::exception_ptr)> handler) {
  m_impl->server.set_exception_handler([handler = std::move(handler)](const httplib::Request& req,
                                                                      httplib::Response& res,
                                                                      std::exception_ptr ep) {
    HttpResponse response(res, req);
    handler(response, ep);
  });
}

void HttpServer::on_error(std::function<bool(HttpResponse&)> handler) {
  // The explicit type picks the overload: a lambda fits both std::function signatures.
  m_impl->server.set_error_handler(httplib::Server::HandlerWithResponse(
      [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        HttpResponse response(res, req);
        return handler(response) ? httplib::Server::HandlerResponse::Handled
                                 : httplib::Server::HandlerResponse::Unhandled;
      }));
}

int HttpServer::bind(const std::string& host, int port) {
  errno = 0;
  Impl& d = *m_impl;
  if (port == 0) {
    d.port = d.server.bind_to_any_port(host);
  } else {
    d.port = d.server.bind_to_port(host, port) ? port : -1;
  }
  if (d.port <= 0) {
    d.port = -1;
    return -1;
  }
  // httplib 0.11.4 listens with a backlog of 5, so a burst of clients connecting at once can
  // overflow it; listen() again on the bound socket raises the backlog (Linux, BSD).
  widen_backlog(d.listen_fd);
  return d.port;
}

bool HttpServer::start() {
  Impl& d = *m_impl;
  d.thread = std::thread([&d] {
    d.server.listen_after_bind();
    d.done = true;
  });
  // httplib 0.11.4 has no wait_until_ready(), and its stop() is a no-op until the listen
  // thread has set is_running(): wait for it so that an early stop() cannot be lost.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!d.server.is_running() && !d.done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return d.server.is_running();
}

void HttpServer::stop(const std::function<void()>& while_waiting) {
  Impl& d = *m_impl;
  if (d.stopped || !d.thread.joinable()) {
    return;
  }
  d.stopped = true;
  // httplib's stop() is lost if called before is_running(), and a second call trips its
  // assert: wait, then call it once. Its listen thread then joins the pool, whose threads may
  // be blocked: on whatever `while_waiting` unblocks, or on an idle keep-alive or slow client
  // (cut their reading side once the answers in progress have had a moment to go out: a cut
  // socket gets no answer).
  while (!d.server.is_running() && !d.done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!d.done) {
    d.server.stop();
  }
  auto cut_after = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (!d.done) {
    if (while_waiting) {
      while_waiting();
    }
    if (std::chrono::steady_clock::now() >= cut_after) {
      shutdown_accepted_connections(d.port);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  d.thread.join();
}

} // namespace net
