#include "core/api.h"

#include <fmt/format.h>

namespace core {

Json build_inference_request(const RequestOptions& opts, const Json& params) {
  Json req = {
      {"endpoint_name", opts.endpoint},
      {"input_parameters", params},
      {"unique_parameter_names", opts.unique},
  };
  if (opts.priority) {
    req["priority"] = *opts.priority;
  }
  if (opts.max_timeout_minutes) {
    req["max_timeout_in_minutes"] = *opts.max_timeout_minutes;
  }
  return req;
}

namespace {

std::string shorten(std::string_view s, size_t max = 300) {
  std::string out;
  for (char c : s.substr(0, max)) {
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  if (s.size() > max) {
    out += "...";
  }
  return out;
}

// FastAPI's `detail` list: [{"loc": ["body", "x"], "msg": "..."}] -> "body.x: ...; ...".
std::string detail_list_text(const Json& list) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) {
      out += "; ";
    }
    if (!item.is_object()) {
      out += item.is_string() ? item.get<std::string>() : item.dump();
      continue;
    }
    std::string loc;
    if (auto it = item.find("loc"); it != item.end() && it->is_array()) {
      for (const auto& part : *it) {
        if (!loc.empty()) {
          loc += '.';
        }
        loc += part.is_string() ? part.get<std::string>() : part.dump();
      }
    }
    std::string msg;
    if (auto it = item.find("msg"); it != item.end()) {
      msg = it->is_string() ? it->get<std::string>() : it->dump();
    } else {
      msg = item.dump();
    }
    out += loc.empty() ? msg : loc + ": " + msg;
  }
  return out;
}

} // namespace

std::string error_text(int status, std::string_view body) {
  std::string words;
  Json doc = parse_json(body);
  if (doc.is_object()) {
    for (const char* key : {"detail", "message", "error"}) {
      auto it = doc.find(key);
      if (it == doc.end() || it->is_null()) {
        continue;
      }
      if (it->is_string()) {
        words = it->get<std::string>();
      } else if (it->is_array()) {
        words = detail_list_text(*it);
      } else {
        words = it->dump();
      }
      if (!words.empty()) {
        break;
      }
    }
  }
  if (words.empty()) {
    words = body.empty() ? "empty body" : shorten(body);
  }
  return fmt::format("HTTP {}: {}", status, shorten(words, 1000));
}

SubmitReply parse_submit_reply(int status, std::string_view body) {
  Json doc = parse_json(body);
  if (doc.is_object()) {
    auto it = doc.find("task_id");
    if (it != doc.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      return {it->get<std::string>(), {}};
    }
  }
  return {std::nullopt,
          fmt::format("HTTP {} without a task_id in its answer: {}", status, shorten(body))};
}

bool is_terminal_status(std::string_view s) {
  auto status = status_from_text(s);
  return status && is_terminal(*status);
}

std::string content_key(const Json& j) {
  if (!j.is_object()) {
    return {};
  }
  auto params = j.find("input_parameters");
  if (params == j.end() || !params->is_object()) {
    return {};
  }
  auto endpoint = j.find("endpoint_name");
  auto unique = j.find("unique_parameter_names");
  // nlohmann objects keep their keys sorted: the same parameters dump the same.
  return dump_line(Json{{"endpoint_name", endpoint != j.end() ? *endpoint : Json()},
                        {"input_parameters", *params},
                        {"unique_parameter_names",
                         unique != j.end() && unique->is_array() ? *unique : Json::array()}});
}

Json validate_inference_request(const Json& body) {
  Json detail = Json::array();
  auto problem = [&](Json loc, std::string msg, std::string type) {
    detail.push_back({{"type", std::move(type)}, {"loc", std::move(loc)}, {"msg", std::move(msg)}});
  };
  if (!body.is_object()) {
    problem({"body"}, "Input should be a valid dictionary", "dict_type");
    return detail;
  }
  auto name = body.find("endpoint_name");
  if (name == body.end()) {
    problem({"body", "endpoint_name"}, "Field required", "missing");
  } else if (!name->is_string()) {
    problem({"body", "endpoint_name"}, "Input should be a valid string", "string_type");
  }
  auto params = body.find("input_parameters");
  if (params == body.end()) {
    problem({"body", "input_parameters"}, "Field required", "missing");
  } else if (!params->is_object()) {
    problem({"body", "input_parameters"}, "Input should be a valid dictionary", "dict_type");
  } else {
    for (const auto& [key, value] : params->items()) {
      if (!value.is_array()) {
        problem({"body", "input_parameters", key}, "Input should be a valid list", "list_type");
        continue;
      }
      for (const auto& v : value) {
        if (!(v.is_string() || v.is_number() || v.is_boolean())) {
          problem({"body", "input_parameters", key},
                  "Input should be a valid string, integer, number or boolean",
                  "string_type");
          break;
        }
      }
    }
  }
  auto unique = body.find("unique_parameter_names");
  if (unique != body.end() && !unique->is_null()) {
    if (!unique->is_array()) {
      problem({"body", "unique_parameter_names"}, "Input should be a valid list", "list_type");
    } else {
      for (const auto& u : *unique) {
        if (!u.is_string()) {
          problem(
              {"body", "unique_parameter_names"}, "Input should be a valid string", "string_type");
        } else if (params != body.end() && params->is_object() &&
                   !params->contains(u.get<std::string>())) {
          problem({"body"},
                  fmt::format("Value error, unique_parameter_name {} not found in "
                              "input_parameters or secure_parameters",
                              u.get<std::string>()),
                  "value_error");
        }
      }
    }
  }
  for (const char* key : {"priority", "max_timeout_in_minutes"}) {
    auto it = body.find(key);
    if (it != body.end() && !it->is_null() && !it->is_number_integer()) {
      problem({"body", key}, "Input should be a valid integer", "int_type");
    }
  }
  return detail;
}

} // namespace core
