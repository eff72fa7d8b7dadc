// libFuzzer harness for the listener's HTTP framing, over a real loopback connection: the input
// is the bytes a stranger sends (request lines, headers, chunked or declared bodies, gzip
// headers, several requests pipelined), the harness reads every answer until the listener
// closes. The listener must answer each request it reads with a well-formed status line, never
// inflate, never accept a request whose head it refuses, and never crash, hang or leak (ASan).
#include "core/tracker.h"
#include "net/listener.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_check.h"

namespace {

struct Served {
  core::Tracker tracker{core::TrackerLimits{size_t{1} << 20, std::chrono::seconds(600)}};
  std::unique_ptr<net::Listener> listener;
  Served() {
    net::ListenerOptions o;
    o.port = 0;
    o.threads = 4;
    o.max_body_bytes = 64 << 10;
    o.max_bodies_in_flight = 256 << 10;
    o.request_deadline_s = 2;
    listener = std::make_unique<net::Listener>(o, tracker);
    listener->start();
  }
};

Served& served() {
  static Served* s = new Served(); // lives for the whole fuzzing process
  return *s;
}

// Sends `input`, closes the sending side, reads until the listener closes (bounded).
std::string exchange(int port, std::string_view input) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Thousands of connections a second: the accept queue or the ephemeral ports may be out for a
  // moment. A listener that stays unreachable for 5 s is a failure.
  int fd = -1;
  int err = 0;
  for (int attempt = 0; attempt < 500; ++attempt) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    // Each connection from its own loopback address (127.1.0.0 upward): this side closes first,
    // so each one leaves its port in TIME_WAIT for 60 s, and ~1,000 connections a second from
    // 127.0.0.1 alone use up the 28,000 ephemeral ports within half a minute (CI, session 7).
    static uint32_t next_source = 0;
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(0x7f010000u + (next_source++ % 0xfff0u));
    bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      break;
    }
    err = errno;
    close(fd);
    fd = -1;
    // EINTR: libFuzzer's SIGALRM (its -timeout clock) cut a connect waiting on a full queue.
    if (err != ECONNREFUSED && err != EADDRNOTAVAIL && err != EAGAIN && err != EINTR &&
        err != ETIMEDOUT) {
      break;
    }
    poll(nullptr, 0, 10);
  }
  if (fd < 0) {
    std::fprintf(stderr, "FUZZ_CHECK connect: %s\n", std::strerror(err));
  }
  FUZZ_CHECK(fd >= 0, "connects");
  size_t sent = 0;
  std::string answers;
  char buf[65536];
  bool shut = false;
  for (int rounds = 0; rounds < 2000; ++rounds) {
    short events = POLLIN;
    if (sent < input.size()) {
      events |= POLLOUT;
    } else if (!shut) {
      shutdown(fd, SHUT_WR);
      shut = true;
    }
    pollfd p{fd, events, 0};
    if (poll(&p, 1, 5000) <= 0) {
      break; // the listener keeps an idle connection 5 s at most; -timeout catches worse
    }
    if (p.revents & POLLOUT) {
      ssize_t n = send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        sent = input.size(); // the listener closed: it refused what it read
      } else {
        sent += static_cast<size_t>(n);
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      answers.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answers;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Served& s = served();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string answers = exchange(s.listener->port(), input);
  static const std::regex status_line("HTTP/1\\.1 (\\d{3}) ");
  size_t accepted = 0;
  for (auto it = std::sregex_iterator(answers.begin(), answers.end(), status_line);
       it != std::sregex_iterator();
       ++it) {
    int status = std::stoi((*it)[1]);
    FUZZ_CHECK(status == 100 || status == 200 || status == 400 || status == 401 || status == 404 ||
                   status == 405 || status == 409 || status == 413 || status == 414 ||
                   status == 415 || status == 503,
               "every answer has a documented status");
    accepted += status == 200;
  }
  FUZZ_CHECK(answers.empty() || answers.starts_with("HTTP/1.1 "), "answers start with a status");
  // Nothing is inflated: a request naming a Content-Encoding is never what got a 200, so an
  // input whose every POST names gzip gets no 200 at all.
  // (A header line as httplib reads it: inside the head, between CRLFs; "\rContent-Encoding"
  // or a bare-LF line is another header's text, and names no encoding.)
  size_t head_end = input.find("\r\n\r\n");
  size_t gzip = input.find("\r\nContent-Encoding: gzip\r\n");
  if (gzip != std::string_view::npos && head_end != std::string_view::npos && gzip < head_end &&
      input.find("POST") == input.rfind("POST")) {
    FUZZ_CHECK(accepted == 0, "a gzip body is never accepted");
  }
  return 0;
}
