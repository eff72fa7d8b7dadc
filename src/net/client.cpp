#include "net/client.h"

#include "core/api.h"
#include "core/clock.h"
#include "core/crash_point.h"
#include "core/redact.h"

#include <fmt/format.h>
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <vector>

namespace net {

using core::AttemptOutcome;

struct Client::Impl {
  ClientOptions opts;
  std::mutex mutex;
  std::set<httplib::Client*> in_use; // requests in progress, for cancel_all
  std::mt19937_64 rng;
  bool cancelled = false;
  // Submit connections kept open after a complete answer, with when they were last used.
  struct Idle {
    std::unique_ptr<httplib::Client> http;
    std::chrono::steady_clock::time_point last_used;
  };
  std::vector<Idle> idle;

  explicit Impl(ClientOptions o) : opts(std::move(o)) {
    rng.seed(opts.seed ? opts.seed : std::random_device{}());
  }

  void log(const std::string& line) {
    if (opts.log) {
      opts.log(line);
    }
  }

  // A connection for one submit: one that answered a submit less than k_reuse_window ago, or a
  // new one. A server closes an idle keep-alive connection after seconds (5 s for Node and
  // uvicorn, 60 s or more behind load balancers), and httplib checks the socket before reusing
  // it, so a request is not written into a connection the server has just closed; were it to
  // happen, the answer is missing and the submit's outcome is unknown, as on a new connection.
  std::unique_ptr<httplib::Client> take_submit_client(const core::Url& url) {
    std::vector<Idle> stale;
    std::unique_ptr<httplib::Client> found;
    {
      std::lock_guard lock(mutex);
      auto now = std::chrono::steady_clock::now();
      while (!idle.empty() && !found) {
        Idle entry = std::move(idle.back());
        idle.pop_back();
        if (now - entry.last_used < k_reuse_window) {
          found = std::move(entry.http);
        } else {
          stale.push_back(std::move(entry));
        }
      }
    }
    if (found) {
      return found; // stale ones close here, outside the lock
    }
    auto http = make_http(url);
    http->set_keep_alive(true);
    return http;
  }

  // After a complete answer the connection may serve the next submit.
  void give_back(std::unique_ptr<httplib::Client> http) {
    if (!opts.reuse_connections) {
      return;
    }
    std::lock_guard lock(mutex);
    if (!cancelled && idle.size() < k_max_idle) {
      idle.push_back({std::move(http), std::chrono::steady_clock::now()});
      return;
    }
    // (closed when `http` goes out of scope, after the lock is released)
  }

  static constexpr std::chrono::milliseconds k_reuse_window{1000};
  static constexpr size_t k_max_idle = 64;

  // Runs one status request so that cancel_all() cuts it short (it would run to its read
  // timeout otherwise); none starts once cancelled.
  template <class Request>
  httplib::Result cancellable(httplib::Client& http, Request&& request) {
    {
      std::lock_guard lock(mutex);
      if (cancelled) {
        return httplib::Result(nullptr, httplib::Error::Canceled);
      }
      in_use.insert(&http);
    }
    httplib::Result res = request();
    std::lock_guard lock(mutex);
    in_use.erase(&http);
    return res;
  }

  std::unique_ptr<httplib::Client> make_http(const core::Url& url) {
    auto http = std::make_unique<httplib::Client>(url.origin());
    http->set_connection_timeout(opts.connect_timeout);
    http->set_read_timeout(opts.read_timeout);
    http->set_write_timeout(opts.read_timeout);
    http->set_keep_alive(false);
    http->set_follow_location(false);
    // httplib writes headers and body separately: without TCP_NODELAY, Nagle and delayed ACKs
    // add ~40 ms to every request.
    http->set_tcp_nodelay(true);
    if (!opts.api_key.empty()) {
      http->set_default_headers({{"x-api-key", opts.api_key}});
    }
    return http;
  }
};

Client::Client(ClientOptions options) : m_impl(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

namespace {

// httplib's one-word errors, said for people.
std::string describe(httplib::Error e) {
  switch (e) {
  case httplib::Error::Connection:
    return "connection failed (refused, unreachable, or the host name does not resolve)";
  case httplib::Error::ConnectionTimeout:
    return "connection timed out";
  case httplib::Error::SSLConnection:
    return "TLS handshake failed";
  case httplib::Error::SSLServerVerification:
    return "the server's TLS certificate could not be verified";
  case httplib::Error::Read:
    return "no complete answer (read timeout or connection reset)";
  case httplib::Error::Write:
    return "the request could not be written";
  default:
    return httplib::to_string(e);
  }
}

// httplib's errors before the request left this machine; anything else may have reached it.
bool never_sent(httplib::Error e) {
  // A write error means the request never left whole: a server acts on complete requests only.
  return e == httplib::Error::Connection || e == httplib::Error::Write ||
         e == httplib::Error::BindIPAddress || e == httplib::Error::SSLConnection ||
         e == httplib::Error::SSLLoadingCerts || e == httplib::Error::SSLServerVerification ||
         e == httplib::Error::ConnectionTimeout;
}

} // namespace

SubmitResult Client::submit(const core::Json& request, std::stop_token stop) {
  Impl& d = *m_impl;
  const core::Url& url = d.opts.api.inference;
  std::string body = core::dump_line(request);
  std::string last_error;
  for (int attempt = 0;; ++attempt) {
    auto http = d.take_submit_client(url);
    {
      std::lock_guard lock(d.mutex);
      if (d.cancelled || stop.stop_requested()) {
        return {SubmitResult::Kind::failed, {}, "interrupted before submitting", 0};
      }
      d.in_use.insert(http.get());
    }
    auto res = http->Post(url.path.empty() ? "/" : url.path, body, "application/json");
    core::crash_point("after_send"); // tests: the service has the request; its answer unread
    {
      std::lock_guard lock(d.mutex);
      d.in_use.erase(http.get());
    }
    if (res) {
      d.give_back(std::move(http));
    }

    AttemptOutcome outcome;
    SubmitResult result;
    if (!res) {
      httplib::Error err = res.error();
      std::string what = describe(err);
      if (never_sent(err)) {
        outcome.kind = AttemptOutcome::Kind::not_sent;
        last_error = fmt::format("cannot connect to {}: {}", url.origin(), what);
        result = {SubmitResult::Kind::failed, {}, last_error, 0, false, true};
      } else {
        outcome.kind = AttemptOutcome::Kind::unknown;
        result = {SubmitResult::Kind::failed,
                  {},
                  fmt::format("outcome unknown ({} from {} after the request was sent): the task "
                              "may exist; resubmitting may run it twice",
                              what,
                              url.origin()),
                  0,
                  true};
      }
      d.log(fmt::format("POST {}{}: {}", url.origin(), url.path, what));
    } else {
      int status = res->status;
      outcome.status = status;
      if (auto ra = res->get_header_value("Retry-After"); !ra.empty()) {
        outcome.retry_after = core::parse_retry_after(ra);
      }
      d.log(fmt::format(
          "POST {}{}: HTTP {} ({} bytes)", url.origin(), url.path, status, res->body.size()));
      if (status >= 200 && status < 300) {
        core::SubmitReply reply = core::parse_submit_reply(status, res->body);
        if (reply.task_id) {
          return {SubmitResult::Kind::accepted, *reply.task_id, {}, status};
        }
        // The service took the request: its task may exist although we cannot name it. (The
        // message is made from the redacted answer: a service may echo the request.)
        return {SubmitResult::Kind::failed,
                {},
                core::parse_submit_reply(status, core::redact_body(res->body)).error +
                    "; outcome unknown: the task may exist, resubmitting may run it twice",
                status,
                true};
      }
      // Redacted before it becomes a message: a 422 echoes the request (callback key, token,
      // secure parameters), and the message is printed, journaled and recorded.
      std::string text = core::error_text(status, core::redact_body(res->body));
      if (status == 500 || status == 502 || status == 504) {
        text += "; outcome unknown: the task may exist, resubmitting may run it twice";
      }
      result = {core::is_run_refusal(status, res->body) ? SubmitResult::Kind::refused
                                                        : SubmitResult::Kind::failed,
                {},
                text,
                status,
                status == 500 || status == 502 || status == 504};
    }

    core::RetryDecision decision;
    {
      std::lock_guard lock(d.mutex);
      decision = core::decide_retry(outcome, attempt, d.opts.retry, d.rng);
    }
    if (!decision.retry) {
      if (attempt > 0) {
        result.error += fmt::format(" (after {} attempts)", attempt + 1);
      }
      return result;
    }
    d.log(fmt::format("retrying in {} ms", decision.delay.count()));
    // Sleep, but wake at once on stop.
    if (!core::sleep_for(decision.delay, stop)) {
      return {SubmitResult::Kind::failed, {}, "interrupted before submitting: " + result.error, 0};
    }
  }
}

namespace {

// Reads a status API answer: JSON means the API exists (even for an error status).
StatusReply read_status_reply(const httplib::Result& res, const std::string& what) {
  StatusReply reply;
  if (!res) {
    reply.error = fmt::format("{}: {}", what, describe(res.error()));
    return reply;
  }
  reply.http_status = res->status;
  core::Json body = core::parse_json(res->body);
  if (body.is_discarded() || !body.is_object()) {
    reply.error =
        fmt::format("{}: HTTP {} without a JSON answer: no status API there", what, res->status);
    return reply;
  }
  reply.available = true;
  // Redacted before it is shown or stored (a status answer may carry the task's inputs).
  reply.body = core::redact(body);
  if (res->status < 200 || res->status >= 300) {
    reply.error = core::error_text(res->status, core::dump_line(reply.body));
  }
  return reply;
}

} // namespace

StatusReply Client::task_status(const std::string& task_id) {
  Impl& d = *m_impl;
  if (!d.opts.api.status_base) {
    return {false, 0, nullptr, "no status API for a full /inference URL (give --status-url)"};
  }
  auto http = d.make_http(*d.opts.api.status_base);
  std::string path = d.opts.api.status_base->path + "/api/v1/task_status";
  auto res = d.cancellable(*http, [&] {
    return http->Get(path, httplib::Params{{"task_id", task_id}}, httplib::Headers{});
  });
  d.log(fmt::format("GET {}{}?task_id={}: {}",
                    d.opts.api.status_base->origin(),
                    path,
                    task_id,
                    res ? std::to_string(res->status) : httplib::to_string(res.error())));
  return read_status_reply(res, "task_status");
}

StatusReply Client::callback_data(const std::string& task_id, const std::string& endpoint) {
  Impl& d = *m_impl;
  if (!d.opts.api.status_base) {
    return {false, 0, nullptr, "no status API for a full /inference URL (give --status-url)"};
  }
  auto http = d.make_http(*d.opts.api.status_base);
  std::string path = d.opts.api.status_base->path + "/api/v1/get_callback_data";
  core::Json body = {{"task_id", task_id}, {"endpoint_name", endpoint}};
  auto res = d.cancellable(
      *http, [&] { return http->Post(path, core::dump_line(body), "application/json"); });
  d.log(fmt::format("POST {}{} ({}): {}",
                    d.opts.api.status_base->origin(),
                    path,
                    task_id,
                    res ? std::to_string(res->status) : httplib::to_string(res.error())));
  return read_status_reply(res, "get_callback_data");
}

StatusReply Client::validate_api_key(const std::string& key) {
  Impl& d = *m_impl;
  if (!d.opts.api.status_base) {
    return {false, 0, nullptr, "no API to ask at a full /inference URL"};
  }
  auto http = d.make_http(*d.opts.api.status_base);
  std::string path = d.opts.api.status_base->path + "/api/v1/validate_api_key";
  auto res = d.cancellable(*http, [&] {
    return http->Post(path, core::dump_line(core::Json(key)), "application/json");
  });
  d.log(fmt::format("POST {}{}: {}",
                    d.opts.api.status_base->origin(),
                    path,
                    res ? std::to_string(res->status) : httplib::to_string(res.error())));
  return read_status_reply(res, "validate_api_key");
}

void Client::cancel_all() {
  std::lock_guard lock(m_impl->mutex);
  m_impl->cancelled = true;
  for (auto* http : m_impl->in_use) {
    http->stop();
  }
}

} // namespace net
