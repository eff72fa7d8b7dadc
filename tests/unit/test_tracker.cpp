#include "core/api.h"
#include "core/tracker.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

TEST_SUITE_BEGIN("tracker");

using core::Clock;
using core::Delivery;
using core::Json;
using namespace std::chrono_literals;

namespace {
Json payload(const std::string& id, const std::string& status = "success") {
  return Json{{"task_id", id}, {"status", status}};
}
} // namespace

TEST_CASE("tracker::deliver completes a bound waiter") {
  core::Tracker tracker;
  auto w = std::make_shared<core::Waiter>();
  tracker.bind("t1", w);
  CHECK(tracker.deliver("t1", payload("t1")) == Delivery::delivered);
  REQUIRE(w->wait_until(Clock::now() + 1s));
  CHECK(w->take()["status"] == "success");
}

TEST_CASE("tracker::deliver buffers an early callback until bind") {
  core::Tracker tracker;
  CHECK(tracker.deliver("t1", payload("t1", "failed")) == Delivery::buffered);
  CHECK(tracker.buffered_count() == 1);
  auto w = std::make_shared<core::Waiter>();
  CHECK_FALSE(w->done());
  tracker.bind("t1", w);
  CHECK(w->done());
  CHECK(w->take()["status"] == "failed");
  CHECK(tracker.buffered_count() == 0);
}

TEST_CASE("tracker::deliver ignores duplicates") {
  core::Tracker tracker;
  auto w = std::make_shared<core::Waiter>();
  tracker.bind("t1", w);
  CHECK(tracker.deliver("t1", payload("t1")) == Delivery::delivered);
  CHECK(tracker.deliver("t1", payload("t1", "failed")) == Delivery::duplicate);
  CHECK(w->take()["status"] == "success");
  tracker.retire("t1");
  CHECK(tracker.deliver("t1", payload("t1")) == Delivery::duplicate);
  SUBCASE("a repeated early callback is buffered once") {
    CHECK(tracker.deliver("t2", payload("t2")) == Delivery::buffered);
    CHECK(tracker.deliver("t2", payload("t2")) == Delivery::duplicate);
    CHECK(tracker.buffered_count() == 1);
  }
}

TEST_CASE("tracker::deliver treats non-terminal statuses as progress") {
  core::Tracker tracker;
  auto w = std::make_shared<core::Waiter>();
  tracker.bind("t1", w);
  for (const char* s : {"queued", "allocated", "running", "weird"}) {
    CHECK(tracker.deliver("t1", payload("t1", s)) == Delivery::progress);
  }
  CHECK_FALSE(w->done());
  CHECK(tracker.deliver("t1", payload("t1", "killed")) == Delivery::delivered);
  CHECK(w->done());
}

TEST_CASE("tracker::deliver bounds the early-callback buffer by bytes and age") {
  SUBCASE("bytes") {
    core::Tracker tracker({500, std::chrono::seconds(600)});
    CHECK(tracker.deliver("a", payload("a")) == Delivery::buffered);
    CHECK(tracker.deliver("b", payload("b")) == Delivery::buffer_full);
    auto w = std::make_shared<core::Waiter>();
    tracker.bind("a", w); // frees its bytes
    CHECK(tracker.deliver("b", payload("b")) == Delivery::buffered);
  }
  SUBCASE("age") {
    core::Tracker tracker({500, std::chrono::seconds(0)});
    CHECK(tracker.deliver("a", payload("a")) == Delivery::buffered);
    std::this_thread::sleep_for(5ms);
    // The old entry expires, making room.
    CHECK(tracker.deliver("b", payload("b")) == Delivery::buffered);
    CHECK(tracker.buffered_count() == 1);
  }
}

TEST_CASE("tracker::Waiter deadline and stop") {
  SUBCASE("wait() returns false at the deadline") {
    core::Waiter w;
    w.set_deadline(Clock::now() + 20ms);
    auto start = Clock::now();
    CHECK_FALSE(w.wait());
    CHECK(Clock::now() - start >= 15ms);
  }
  SUBCASE("a deadline set later wakes the waiter") {
    core::Waiter w;
    std::thread t([&] {
      std::this_thread::sleep_for(20ms);
      w.set_deadline(Clock::now());
    });
    CHECK_FALSE(w.wait());
    t.join();
  }
  SUBCASE("stop wakes the waiter") {
    core::Waiter w;
    std::stop_source stop;
    std::thread t([&] {
      std::this_thread::sleep_for(20ms);
      stop.request_stop();
    });
    CHECK_FALSE(w.wait(stop.get_token()));
    t.join();
  }
  SUBCASE("complete only once") {
    core::Waiter w;
    CHECK(w.complete(Json{{"status", "timeout"}}));
    CHECK_FALSE(w.complete(Json{{"status", "success"}}));
    CHECK(w.wait());
    CHECK(w.take()["status"] == "timeout");
    CHECK(w.done());
  }
  SUBCASE("the completion hook runs") {
    int calls = 0;
    core::Waiter w([&] { ++calls; });
    w.complete(Json::object());
    w.complete(Json::object());
    CHECK(calls == 1);
  }
}

TEST_CASE("tracker: many threads delivering while others wait") {
  constexpr int k_tasks = 400;
  core::Tracker tracker;
  std::vector<std::shared_ptr<core::Waiter>> waiters;
  for (int i = 0; i < k_tasks; ++i) {
    waiters.push_back(std::make_shared<core::Waiter>());
  }
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  // Waiting threads, each on a share of the waiters.
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < k_tasks; i += 4) {
        if (waiters[i]->wait_until(Clock::now() + 10s)) {
          ++completed;
        }
      }
    });
  }
  // Binders (half bind before delivery, half after: early callbacks).
  threads.emplace_back([&] {
    for (int i = 0; i < k_tasks; ++i) {
      tracker.bind("t" + std::to_string(i), waiters[i]);
    }
  });
  // Deliverers, each delivering every callback twice (duplicates).
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < k_tasks; i += 4) {
        tracker.deliver("t" + std::to_string(i), payload("t" + std::to_string(i)));
        tracker.deliver("t" + std::to_string(i), payload("t" + std::to_string(i)));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(completed.load() == k_tasks);
  CHECK(tracker.buffered_count() == 0);
  for (auto& w : waiters) {
    CHECK(w->take()["status"] == "success");
  }
}

namespace {

core::Json with_content(const std::string& task_id, const std::string& email) {
  return core::Json{{"task_id", task_id},
                    {"status", "success"},
                    {"endpoint_name", "demo"},
                    {"input_parameters", {{"email", {email}}}},
                    {"unique_parameter_names", core::Json::array()}};
}

} // namespace

TEST_CASE("tracker: a waiter bound by content takes an unknown task's callback that matches") {
  core::Tracker tracker;
  auto request = core::Json{{"endpoint_name", "demo"}, {"input_parameters", {{"email", {"a"}}}}};
  const std::string content = core::content_key(request);
  REQUIRE(!content.empty());
  SUBCASE("the callback comes after the bind; a retry of it is a duplicate") {
    auto waiter = std::make_shared<core::Waiter>();
    tracker.bind_content(content, waiter);
    CHECK(tracker.deliver("t-x", with_content("t-x", "b")) == core::Delivery::buffered);
    CHECK_FALSE(waiter->done());
    CHECK(tracker.deliver("t-a", with_content("t-a", "a")) == core::Delivery::delivered);
    REQUIRE(waiter->done());
    CHECK(waiter->take()["task_id"] == "t-a");
    CHECK(tracker.deliver("t-a", with_content("t-a", "a")) == core::Delivery::duplicate);
  }
  SUBCASE("a callback buffered before the bind completes it at once, oldest first") {
    CHECK(tracker.deliver("t-1", with_content("t-1", "a")) == core::Delivery::buffered);
    CHECK(tracker.deliver("t-2", with_content("t-2", "a")) == core::Delivery::buffered);
    auto first = std::make_shared<core::Waiter>();
    auto second = std::make_shared<core::Waiter>();
    tracker.bind_content(content, first);
    tracker.bind_content(content, second);
    REQUIRE(first->done());
    REQUIRE(second->done());
    CHECK(first->take()["task_id"] == "t-1");
    CHECK(second->take()["task_id"] == "t-2");
  }
  SUBCASE("an unbound waiter takes nothing") {
    auto waiter = std::make_shared<core::Waiter>();
    tracker.bind_content(content, waiter);
    tracker.unbind_content(content, waiter);
    CHECK(tracker.deliver("t-a", with_content("t-a", "a")) == core::Delivery::buffered);
    CHECK_FALSE(waiter->done());
  }
}

TEST_CASE("tracker: once closed, callbacks nobody takes are refused and the buffer handed back") {
  core::Tracker tracker;
  CHECK(tracker.deliver("t-early", with_content("t-early", "a")) == core::Delivery::buffered);
  auto ended = std::make_shared<core::Waiter>();
  ended->complete(core::Json{{"status", "interrupted"}});
  tracker.bind("t-ended", ended);
  auto open = std::make_shared<core::Waiter>();
  tracker.bind("t-open", open);
  auto kept = tracker.close();
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].first == "t-early");
  CHECK(tracker.deliver("t-new", with_content("t-new", "a")) == core::Delivery::closing);
  CHECK(tracker.deliver("t-ended", with_content("t-ended", "a")) == core::Delivery::closing);
  CHECK(tracker.deliver("t-open", with_content("t-open", "a")) == core::Delivery::delivered);
}

TEST_SUITE_END();
