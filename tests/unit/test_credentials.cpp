#include "core/credentials.h"
#include "core/error.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

TEST_CASE("credentials: profiles round-trip through the file's text") {
  core::Profiles profiles{{"default", "key-1"}, {"work", "key-2"}};
  std::string text = core::format_credentials(profiles);
  CHECK(text.find("[work]\napi_key = key-2\n") != std::string::npos);
  CHECK(core::parse_credentials(text, "c") == profiles);
  CHECK(core::parse_credentials("# comment\n\n[a]\r\n  api_key =  k  \n", "c") ==
        core::Profiles{{"a", "k"}});
  CHECK(core::parse_credentials("", "c").empty());
}

TEST_CASE("credentials: a broken line names file:line, never the key") {
  auto error_of = [](const std::string& text) {
    try {
      core::parse_credentials(text, "creds");
    } catch (const core::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of("api_key = secret-1\n").starts_with("creds:1: api_key before any [profile]"));
  CHECK(error_of("[a]\npassword = secret-2\n").starts_with("creds:2: expected `api_key = KEY`"));
  CHECK(error_of("[a b]\n").find("letters, digits") != std::string::npos);
  CHECK(error_of("[a\n").find("[NAME]") != std::string::npos);
  CHECK(error_of("[a]\napi_key =\n").find("empty api_key") != std::string::npos);
  CHECK(error_of("api_key = secret-1\n").find("secret-1") == std::string::npos);
  CHECK(error_of("[a]\npassword = secret-2\n").find("secret-2") == std::string::npos);
}

TEST_CASE("credentials: profile names and where the file lives") {
  CHECK(core::check_profile_name("work-2_prod.eu").empty());
  CHECK_FALSE(core::check_profile_name("").empty());
  CHECK_FALSE(core::check_profile_name("../x").empty());
  CHECK_FALSE(core::check_profile_name(std::string(65, 'a')).empty());
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  std::string saved = xdg ? xdg : "";
  setenv("XDG_CONFIG_HOME", "/tmp/cfg", 1);
  CHECK(core::credentials_path() == "/tmp/cfg/optexity-chain/credentials");
  unsetenv("XDG_CONFIG_HOME");
  setenv("HOME", getenv("HOME") ? getenv("HOME") : "/root", 1);
  CHECK(core::credentials_path().ends_with("/.config/optexity-chain/credentials"));
  if (!saved.empty()) {
    setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
  }
}
