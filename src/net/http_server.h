#pragma once

// net's HTTP server: a small wrapper (HttpServer) over cpp-httplib's, so code above net serves
// HTTP without seeing <httplib.h>, plus the socket helpers net's own servers share.

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

// Only net/*.cpp include <httplib.h>; headers name its types through these declarations.
namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace net {

// One request, as a handler sees it (valid during the handler).
class HttpRequest {
public:
  explicit HttpRequest(const httplib::Request& req) : m_req(req) {}
  const std::string& body() const;
  // The value of header `name` (any case), "" when absent.
  std::string header(const std::string& name) const;
  bool has_param(const std::string& name) const;
  std::string param(const std::string& name) const;
  // Group `i` of the route's pattern (0: the whole path).
  std::string match(size_t i) const;

private:
  const httplib::Request& m_req;
};

// The answer a handler fills in.
class HttpResponse {
public:
  HttpResponse(httplib::Response& res, const httplib::Request& req) : m_res(res), m_req(req) {}
  int status() const;
  bool has_body() const;
  void set(int status, std::string body, const std::string& content_type);
  void set_header(const std::string& name, const std::string& value);
  // Answers nothing: shuts the connection down (the client reads end of stream, no status
  // line) right away. For fault injection; whatever else the handler sets is not sent.
  void drop_connection();

private:
  httplib::Response& m_res;
  const httplib::Request& m_req;
};

struct HttpServerOptions {
  int threads = 64;
  size_t payload_limit = 64 * 1024 * 1024;
  int read_timeout_s = 5;
  int write_timeout_s = 5;
  int keep_alive_timeout_s = 5;
  size_t keep_alive_max_count = 10000;
};

// A server on a background thread: add routes, bind(), start(), stop(). Binds with
// SO_REUSEADDR only (never SO_REUSEPORT), a wide backlog and TCP_NODELAY.
class HttpServer {
public:
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;

  explicit HttpServer(HttpServerOptions options);
  ~HttpServer(); // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes; `pattern` is a regular expression over the path (groups: HttpRequest::match).
  void get(const std::string& pattern, Handler handler);
  void post(const std::string& pattern, Handler handler);
  // A handler threw: fill in the answer.
  void on_exception(std::function<void(HttpResponse&, std::exception_ptr)> handler);
  // Called for every answer with status >= 400, the server's own (unknown path, bad request,
  // payload too large) and the handlers' alike; it returns whether it changed the answer.
  void on_error(std::function<bool(HttpResponse&)> handler);

  // Binds `host`:`port` (0: any free port); returns the port, or -1 with errno set.
  int bind(const std::string& host, int port);
  // Serves on a background thread; false when it did not start within 5 s.
  bool start();
  // Stops serving and joins the thread; `while_waiting`, when set, is called every 10 ms until
  // the workers are done (to unblock handlers waiting on something else). Idempotent.
  void stop(const std::function<void()>& while_waiting = {});

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Replaces cpp-httplib's default socket options (which add SO_REUSEPORT, letting a second
// process bind the same port and take half the traffic) with SO_REUSEADDR only, and records the
// listening socket in `listen_fd` so its backlog can be widened after bind.
void use_reuseaddr_only(httplib::Server& server, int& listen_fd);

// cpp-httplib 0.11.4 listens with a backlog of 5: a burst of connections (thousands of
// callbacks, many submits) would see dropped SYNs and second-long retries. Linux lets a
// listening socket be listen()ed again with a larger backlog.
void widen_backlog(int listen_fd);

// Shuts down the reading side (SHUT_RD) of every connection this process accepted on `port`.
// httplib's stop() joins its workers, and a worker reading a request a byte at a time (its read
// timeout starts over with each byte) or waiting on an idle keep-alive connection would
// otherwise hold the join for as long as the client likes. Answers being written still go out.
void shutdown_accepted_connections(int port);

// The connections this process accepted on `port`, as (inode, fd) pairs.
std::vector<std::pair<unsigned long, int>> accepted_connections(int port);

// shutdown(SHUT_RD) of `fd` if it is still the socket `inode` (see accepted_connections).
void shutdown_reading(int fd, unsigned long inode);

// Which process listens on TCP `port` ("name (pid N)"), read from /proc; "" when unknown (for
// instance, another user's process).
std::string who_listens(int port);

} // namespace net
