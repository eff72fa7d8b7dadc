#pragma once

#include "core/inputs.h"
#include "core/json.h"

#include <memory>
#include <string>
#include <vector>

namespace core {

// One --map NAME=POINTER: input parameter NAME from the field POINTER (RFC 6901) of a record.
struct MapRule {
  std::string name;
  std::string pointer_text;
  Json::json_pointer pointer;
};

// Parses --map specs; a spec without '=' or an invalid JSON Pointer is a core::Error (exit 2)
// naming it.
std::vector<MapRule> parse_map_rules(const std::vector<std::string>& specs);

// The parameters a record maps to, or why it cannot: an array becomes the parameter's list (its
// numbers and booleans as their JSON text; a null, object or array element is an error), a
// string a one-element list, a number or boolean its JSON text; null, an object, or a pointer
// that does not resolve is an error naming the pointer.
struct MapResult {
  Json params = Json::object();
  std::string error;
};
MapResult apply_map(const Json& record, const std::vector<MapRule>& rules);

// How records (lines another run printed) become inputs.
struct RecordOptions {
  std::vector<MapRule> rules;
  std::string where_status; // only records with this status are submitted; "" = all
  bool carry = false;       // keep the record (without final_screenshot) as the input's `from`
  std::string name;         // for messages
};

// Turns one record line into an Input: a record filtered out by `where_status` is a passthrough
// (printed unchanged); a line that is not a JSON object, or that does not map, is invalid.
Input record_to_input(const std::string& line, size_t line_no, const RecordOptions& opts);

// Records streamed from a reader (another run's stdout), one Input per non-blank line.
class RecordStreamSource : public InputSource {
public:
  RecordStreamSource(std::unique_ptr<LineReader> reader, RecordOptions opts)
      : m_reader(std::move(reader)), m_opts(std::move(opts)) {}
  std::optional<Input> next(std::stop_token stop = {}) override;
  bool streaming() const override { return true; }

private:
  std::mutex m_mutex;
  std::unique_ptr<LineReader> m_reader;
  RecordOptions m_opts;
  size_t m_line = 0;
};

} // namespace core
