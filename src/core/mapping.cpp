#include "core/mapping.h"

#include "core/error.h"
#include "core/input_checks.h"

#include <fmt/format.h>

namespace core {

std::vector<MapRule> parse_map_rules(const std::vector<std::string>& specs) {
  std::vector<MapRule> rules;
  for (const std::string& spec : specs) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(fmt::format("--map: expected NAME=POINTER, got \"{}\"", spec));
    }
    MapRule rule;
    rule.name = spec.substr(0, eq);
    if (!is_valid_utf8(spec)) {
      throw Error("--map: not valid UTF-8");
    }
    rule.pointer_text = spec.substr(eq + 1);
    try {
      rule.pointer = Json::json_pointer(rule.pointer_text);
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("--map {}: \"{}\" is not a JSON Pointer (RFC 6901: empty, or "
                              "/-separated, like /output_data/0/json_data/account)",
                              rule.name,
                              rule.pointer_text));
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

namespace {

// A scalar as a parameter value: strings as they are, numbers and booleans as JSON text.
bool scalar_text(const Json& v, std::string& out) {
  if (v.is_string()) {
    out = v.get<std::string>();
    return true;
  }
  if (v.is_number() || v.is_boolean()) {
    out = v.dump();
    return true;
  }
  return false;
}

const char* kind_of(const Json& v) {
  return v.is_null() ? "null" : v.is_object() ? "an object" : v.is_array() ? "an array" : "a value";
}

} // namespace

MapResult apply_map(const Json& record, const std::vector<MapRule>& rules) {
  MapResult result;
  for (const MapRule& rule : rules) {
    const Json* value = nullptr;
    try {
      if (record.contains(rule.pointer)) {
        value = &record.at(rule.pointer);
      }
    } catch (const nlohmann::json::exception&) {
      value = nullptr; // e.g. a non-numeric token into an array
    }
    if (!value) {
      result.error = fmt::format("--map {}: {} does not resolve", rule.name, rule.pointer_text);
      return result;
    }
    Json list = Json::array();
    std::string text;
    if (value->is_array()) {
      for (size_t i = 0; i < value->size(); ++i) {
        if (!scalar_text((*value)[i], text)) {
          result.error = fmt::format("--map {}: {}/{} is {}, not a parameter value",
                                     rule.name,
                                     rule.pointer_text,
                                     i,
                                     kind_of((*value)[i]));
          return result;
        }
        list.push_back(text);
      }
    } else if (scalar_text(*value, text)) {
      list.push_back(text);
    } else {
      result.error = fmt::format("--map {}: {} is {}, not a parameter value",
                                 rule.name,
                                 rule.pointer_text,
                                 kind_of(*value));
      return result;
    }
    result.params[rule.name] = std::move(list);
  }
  return result;
}

Input record_to_input(const std::string& line, size_t line_no, const RecordOptions& opts) {
  Input input;
  input.where = fmt::format("{}:{}", opts.name, line_no);
  Json record = parse_json(line);
  if (record.is_discarded() || !record.is_object()) {
    input.error = fmt::format("{}: not a JSON object", input.where);
    input.raw = raw_excerpt(line, k_raw_input_bytes, input.raw_cut);
    return input;
  }
  if (opts.carry) {
    input.from = record;
    input.from.erase("final_screenshot");
  }
  if (!opts.where_status.empty()) {
    auto it = record.find("status");
    if (it == record.end() || !it->is_string() || it->get<std::string>() != opts.where_status) {
      input.passthrough = std::move(record);
      return input;
    }
  }
  MapResult mapped = apply_map(record, opts.rules);
  if (!mapped.error.empty()) {
    input.error = fmt::format("{}: {}", input.where, mapped.error);
    input.raw = raw_excerpt(line, k_raw_input_bytes, input.raw_cut);
    return input;
  }
  input.params = std::move(mapped.params);
  return input;
}

std::optional<Input> RecordStreamSource::next(std::stop_token stop) {
  std::lock_guard lock(m_mutex);
  while (auto line = m_reader->next_line(stop)) {
    ++m_line;
    if (line->find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    return record_to_input(*line, m_line, m_opts);
  }
  return std::nullopt;
}

} // namespace core
