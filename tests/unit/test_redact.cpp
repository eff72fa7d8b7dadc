#include "core/redact.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using core::Json;

namespace {

// Each test starts and ends with no secrets registered (the registry is process-wide).
struct CleanSecrets {
  CleanSecrets() { core::clear_secrets(); }
  ~CleanSecrets() { core::clear_secrets(); }
};

} // namespace

TEST_SUITE_BEGIN("redact");

TEST_CASE("redact::redact with no secrets is the text itself") {
  CleanSecrets clean;
  CHECK(core::redact("key=abcdefgh") == "key=abcdefgh");
  CHECK(core::redact("") == "");
}

TEST_CASE("redact::redact replaces every occurrence of every secret") {
  CleanSecrets clean;
  core::add_secret("sekret-api-key");
  core::add_secret("tok123456");
  CHECK(core::redact("x-api-key: sekret-api-key") == "x-api-key: ***");
  CHECK(core::redact("sekret-api-key/tok123456/sekret-api-key") == "***/***/***");
  CHECK(core::redact("tok12345 is not it") == "tok12345 is not it");
  CHECK(core::redact("at the end tok123456") == "at the end ***");
}

TEST_CASE("redact::add_secret ignores empty and short values") {
  CleanSecrets clean;
  core::add_secret("");
  core::add_secret("abc");
  CHECK(core::redact("abc abc") == "abc abc");
}

TEST_CASE("redact::redact prefers the longest secret at a place") {
  CleanSecrets clean;
  core::add_secret("secret");
  core::add_secret("secret-and-more");
  CHECK(core::redact("[secret-and-more] [secret]") == "[***] [***]");
}

TEST_CASE("redact::add_secret also finds the JSON-escaped form") {
  CleanSecrets clean;
  core::add_secret("pa\"ss\\word");
  CHECK(core::redact(R"({"p":"pa\"ss\\word"})") == R"({"p":"***"})");
}

TEST_CASE("redact::redact of JSON: strings, keys and places") {
  CleanSecrets clean;
  core::add_secret("JBSWY3DPEHPK3PXP");
  core::add_secret("callback-key-1");
  Json request = Json::parse(R"({
    "endpoint_name": "login",
    "input_parameters": {"email": ["a@b.c"], "JBSWY3DPEHPK3PXP": ["x"]},
    "secure_parameters": {"code": [{"totp": {"totp_secret": "short", "digits": 6}}]},
    "task_callback_api_key": "abc",
    "note": "sent callback-key-1 twice: callback-key-1"
  })");
  Json out = core::redact(request);
  CHECK(out["secure_parameters"]["code"][0]["totp"]["totp_secret"] == "***");
  CHECK(out["secure_parameters"]["code"][0]["totp"]["digits"] == 6);
  CHECK(out["task_callback_api_key"] == "***");
  CHECK(out["note"] == "sent *** twice: ***");
  CHECK(out["input_parameters"].contains("***"));
  CHECK(out["input_parameters"]["email"][0] == "a@b.c");
  CHECK(out["endpoint_name"] == "login");
}

TEST_CASE("redact::add_secure_secrets registers secret material, not where a secret is kept") {
  CleanSecrets clean;
  core::add_secure_secrets(Json::parse(
      R"({"code": [{"totp": {"totp_secret": "JBSWY3DPEHPK3PXP"}}],
          "pw": [{"onepassword": {"vault_name": "Private-vault", "item_name": "x"}}],
          "other": [{"custom": {"value": "s3cr3t-value"}}]})"));
  // A vault's name is masked where the request is shown (redact(Json)), not in every line: a
  // vault called "vendors" would otherwise mask a file vendors.ndjson everywhere.
  CHECK(core::redact("seed JBSWY3DPEHPK3PXP in Private-vault, s3cr3t-value") ==
        "seed *** in Private-vault, ***");
}

TEST_CASE("redact::redact_body of a FastAPI 422 that echoes the request") {
  CleanSecrets clean;
  core::add_secret("run-token-0123");
  std::string body = R"({"detail":[{"loc":["body"],"msg":"bad","input":{
      "task_callback_url":"https://h.example/receive_callback/run-token-0123/k-0",
      "task_callback_api_key":"cbk","secure_parameters":{"a":[{"totp":{"totp_secret":"S"}}]}}}]})";
  std::string out = core::redact_body(body);
  CHECK(out.find("run-token-0123") == std::string::npos);
  CHECK(out.find("cbk") == std::string::npos);
  CHECK(out.find("\"S\"") == std::string::npos);
  CHECK(out.find("receive_callback/***/k-0") != std::string::npos);
  SUBCASE("not JSON") {
    CHECK(core::redact_body("oops run-token-0123") == "oops ***");
  }
}

TEST_CASE("redact::redact many secrets from many threads") {
  CleanSecrets clean;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 500; ++i) {
        std::string secret = "secret-" + std::to_string(t) + "-" + std::to_string(i);
        core::add_secret(secret);
        CHECK(core::redact("<" + secret + ">") == "<***>");
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(core::redact("secret-3-499 secret-0-0") == "*** ***");
}

TEST_SUITE_END();
