#include "core/api.h"

#include <doctest/doctest.h>

TEST_SUITE_BEGIN("api");

TEST_CASE("api::build_inference_request") {
  core::RequestOptions opts;
  opts.endpoint = "my-automation";
  opts.unique = {"email"};
  SUBCASE("minimal") {
    auto req = core::build_inference_request(opts, core::Json{{"email", {"a@x.com"}}});
    CHECK(req.dump() ==
          R"({"endpoint_name":"my-automation","input_parameters":{"email":["a@x.com"]},)"
          R"("unique_parameter_names":["email"]})");
  }
  SUBCASE("priority and max timeout pass through") {
    opts.priority = -1;
    opts.max_timeout_minutes = 15;
    auto req = core::build_inference_request(opts, core::Json::object());
    CHECK(req["priority"] == -1);
    CHECK(req["max_timeout_in_minutes"] == 15);
  }
}

TEST_CASE("api::error_text reads every error shape") {
  SUBCASE("detail string") {
    CHECK(core::error_text(401, R"({"detail":"Invalid or missing API key"})") ==
          "HTTP 401: Invalid or missing API key");
  }
  SUBCASE("detail list (FastAPI 422)") {
    CHECK(
        core::error_text(
            422,
            R"({"detail":[{"loc":["body","input_parameters"],"msg":"Field required"},{"loc":["body"],"msg":"bad"}]})") ==
        "HTTP 422: body.input_parameters: Field required; body: bad");
  }
  SUBCASE("message") {
    CHECK(core::error_text(404, R"({"success":false,"message":"Endpoint not found"})") ==
          "HTTP 404: Endpoint not found");
  }
  SUBCASE("error") {
    CHECK(core::error_text(500, R"({"success":false,"error":"boom"})") == "HTTP 500: boom");
  }
  SUBCASE("not JSON") {
    CHECK(core::error_text(502, "<html>Bad gateway</html>") ==
          "HTTP 502: <html>Bad gateway</html>");
  }
  SUBCASE("empty") {
    CHECK(core::error_text(500, "") == "HTTP 500: empty body");
  }
  SUBCASE("long bodies are shortened, newlines flattened") {
    std::string text = core::error_text(500, std::string(5000, 'x') + "\n");
    CHECK(text.size() < 400);
    CHECK(text.find('\n') == std::string::npos);
  }
}

TEST_CASE("api::parse_submit_reply needs a task_id") {
  auto ok = core::parse_submit_reply(202, R"({"success":true,"task_id":"t-1"})");
  REQUIRE(ok.task_id);
  CHECK(*ok.task_id == "t-1");
  auto missing = core::parse_submit_reply(202, R"({"success":true,"message":"allocated"})");
  CHECK_FALSE(missing.task_id);
  CHECK(missing.error.find("without a task_id") != std::string::npos);
  CHECK_FALSE(core::parse_submit_reply(200, "not json").task_id);
  CHECK_FALSE(core::parse_submit_reply(200, R"({"task_id":7})").task_id);
  CHECK_FALSE(core::parse_submit_reply(200, R"({"task_id":""})").task_id);
}

TEST_CASE("api::is_terminal_status") {
  for (const char* s : {"success", "failed", "killed", "cancelled"}) {
    CHECK(core::is_terminal_status(s));
  }
  for (const char* s : {"queued", "allocated", "running", "", "SUCCESS"}) {
    CHECK_FALSE(core::is_terminal_status(s));
  }
}

TEST_CASE("api::validate_inference_request applies the service's rules") {
  using core::Json;
  CHECK(core::validate_inference_request(
            Json::parse(R"({"endpoint_name":"e","input_parameters":{"a":["x",1,true]}})"))
            .empty());
  auto missing = core::validate_inference_request(Json::object());
  CHECK(missing.size() == 2);
  auto not_list = core::validate_inference_request(
      Json::parse(R"({"endpoint_name":"e","input_parameters":{"a":"x"}})"));
  REQUIRE(not_list.size() == 1);
  CHECK(not_list[0]["msg"] == "Input should be a valid list");
  auto unique = core::validate_inference_request(Json::parse(
      R"({"endpoint_name":"e","input_parameters":{"a":["x"]},"unique_parameter_names":["email"]})"));
  REQUIRE(unique.size() == 1);
  CHECK(unique[0]["msg"].get<std::string>().find("unique_parameter_name email not found") !=
        std::string::npos);
  CHECK(core::validate_inference_request(Json::array()).size() == 1);
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("api");

TEST_CASE("api: JSON nested deeper than the limit is refused, not a stack overflow") {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  CHECK(core::parse_json(deep).is_discarded());
  std::string ok(100, '[');
  ok += std::string(100, ']');
  CHECK_FALSE(core::parse_json(ok).is_discarded());
  // An error body that deep is reported, not recursed into.
  std::string body = R"({"detail":[)" + deep + "]}";
  CHECK(core::error_text(500, body).find("HTTP 500") == 0);
}

TEST_SUITE_END();
