#pragma once

#include <string>
#include <string_view>

namespace core {

// Where a callback POST was sent, read from its request path.
struct CallbackRoute {
  enum class Kind {
    plain,   // exactly the callback path (the dashboard-configured URL)
    tokened, // <anything>/<callback path>/<token>/<id>: a per-run URL
    other,   // anything else
  };
  Kind kind = Kind::other;
  std::string token;
  std::string id;
};

// Splits a request path (query string ignored). A proxy may keep or strip a prefix before the
// callback path, so a tokened URL is recognised by its last three segments. One trailing slash
// is ignored ("/receive_callback/" is "/receive_callback").
CallbackRoute match_callback_path(std::string_view path, std::string_view callback_path);

// The path part of a per-run callback URL: "<callback path>/<token>/<id>".
std::string
callback_suffix(std::string_view callback_path, std::string_view token, std::string_view id);

} // namespace core
