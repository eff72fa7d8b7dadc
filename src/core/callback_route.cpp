#include "core/callback_route.h"

#include <fmt/format.h>

namespace core {

namespace {

// Token and id are hex digits and '-' only; anything else cannot be ours.
bool is_key_text(std::string_view s) {
  if (s.empty() || s.size() > 128) {
    return false;
  }
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

} // namespace

CallbackRoute match_callback_path(std::string_view path, std::string_view callback_path) {
  if (auto q = path.find('?'); q != std::string_view::npos) {
    path = path.substr(0, q);
  }
  while (callback_path.size() > 1 && callback_path.back() == '/') {
    callback_path.remove_suffix(1);
  }
  // A trailing slash names the same resource (a dashboard URL ending in "/receive_callback/").
  if (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  CallbackRoute route;
  if (path == callback_path) {
    route.kind = CallbackRoute::Kind::plain;
    return route;
  }
  // .../<callback path>/<token>/<id>
  auto last = path.rfind('/');
  if (last == std::string_view::npos || last == 0) {
    return route;
  }
  auto mid = path.rfind('/', last - 1);
  if (mid == std::string_view::npos) {
    return route;
  }
  std::string_view token = path.substr(mid + 1, last - mid - 1);
  std::string_view id = path.substr(last + 1);
  std::string_view head = path.substr(0, mid);
  // The callback path's last segment must end the head ("/receive_callback" or a proxy prefix).
  std::string_view base = callback_path;
  if (auto s = base.rfind('/'); s != std::string_view::npos) {
    base = base.substr(s); // "/receive_callback"
  }
  bool head_ok = head.size() >= base.size() && head.substr(head.size() - base.size()) == base;
  if (!head_ok || !is_key_text(token) || !is_key_text(id)) {
    return route;
  }
  route.kind = CallbackRoute::Kind::tokened;
  route.token = std::string(token);
  route.id = std::string(id);
  return route;
}

std::string
callback_suffix(std::string_view callback_path, std::string_view token, std::string_view id) {
  while (callback_path.size() > 1 && callback_path.back() == '/') {
    callback_path.remove_suffix(1);
  }
  return fmt::format("{}/{}/{}", callback_path, token, id);
}

} // namespace core
