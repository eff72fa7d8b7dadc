#pragma once

// The emulator's script (`emulator --script FILE`, `run --emulate --script FILE`): for each
// endpoint, how the fake service answers it. Pure data and text: no sockets, no clock, no
// randomness (the emulator draws; this module only says with which rates).
//
// The file is one JSON object; every key is optional, an unknown key is an error:
//
//   {
//     "description": "free text, ignored",
//     "endpoints": {                      // endpoint name -> how it answers
//       "login": {
//         "description": "free text, ignored",
//         "delay_ms": 200,                // submit -> callback (--delay-ms)
//         "jitter_ms": 50,                // +- uniformly random (--jitter-ms)
//         "fail_rate": 0.1,               // 0..1: callback failed (--fail-rate)
//         "kill_rate": 0,                 // 0..1: callback killed (--kill-rate)
//         "drop_callback_rate": 0,        // 0..1: no callback (--drop-callback-rate)
//         "duplicate_rate": 0,            // 0..1: callback sent twice (--duplicate-rate)
//         "error": "Login rejected for {{email}}",  // a failed callback's error
//         "output_data": [                // a success callback's output_data
//           {"unique_identifier": "{{email}}",
//            "json_data": {"account": "acct-{{hash:email}}", "email": "{{email}}"}}
//         ]
//       }
//     },
//     "default": { ...the same keys... }  // endpoints not listed; without it they get 404
//   }
//
// Each key set in an entry overrides the command-line option named after it.
//
// An entry without "output_data" (or "error") keeps the built-in one. Templates: in every
// string of "output_data" and in "error" (not in object keys), each `{{EXPR}}` is replaced:
//
//   {{name}}         the first value of input parameter `name`
//   {{name[i]}}      its value i (0-based)
//   {{hash:name}}    8 lowercase hex digits of a stable hash (64-bit FNV-1a, low 32 bits) of
//                    the first value; {{hash:name[i]}} of value i. "acct-{{hash:email}}" is the
//                    account the built-in output gives for an email input.
//   {{endpoint}}     the endpoint name; {{task_id}} the task's id (a parameter with one of
//                    these names is reached as {{endpoint[0]}} / {{task_id[0]}})
//
// Spaces inside the braces are ignored; a name holds no `{ } [ ] :`. The result is always a
// string, even when the string is exactly one template ("{{n}}" with n = ["2"] gives "2", not
// 2); numbers, booleans and null in the script stay as written. There is no escape: a literal
// "{{" or "}}" cannot appear. A parameter (or value i) the task lacks makes that task's
// callback `failed`, its error naming the parameter and the place. (The placeholders are found
// and filled by core/template.h, the engine the flow templates use too.)

#include "core/json.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace emulator {

// One endpoint's entry (or the default): what is not set keeps the command line's value.
struct ScriptEndpoint {
  std::optional<int> delay_ms;
  std::optional<int> jitter_ms;
  std::optional<double> fail_rate;
  std::optional<double> kill_rate;
  std::optional<double> drop_callback_rate;
  std::optional<double> duplicate_rate;
  std::optional<std::string> error;      // a template
  std::optional<core::Json> output_data; // an array; its strings are templates
};

// A validated script.
struct Script {
  std::map<std::string, ScriptEndpoint> endpoints;
  std::optional<ScriptEndpoint> fallback; // "default"

  // The entry answering `endpoint`: its own, else the default; null when neither (404).
  const ScriptEndpoint* find(const std::string& endpoint) const;
};

// Parses and validates a script. Every problem is reported, one line each, in one core::Error
// (exit 2): "NAME:LINE:COLUMN: not valid JSON: ..." or "NAME: /json/pointer: what is wrong".
Script parse_script(std::string_view text, const std::string& name);

// Reads and parses the file at `path` (named by `path` in messages); throws core::Error.
Script load_script(const std::string& path);

// The problem of a template string, or "" when it is valid.
std::string template_problem(std::string_view text);

// What templates are filled from.
struct TemplateInputs {
  const core::Json& params; // the request's input_parameters: name -> list of values
  std::string endpoint;
  std::string task_id;
};

// A filled value, or (error not empty) why it could not be filled: the first missing
// parameter or value, with the template and where it sits (a JSON Pointer into `value`).
struct Filled {
  core::Json value;
  std::string error;
};

// `value` (validated by parse_script) with the templates of its strings replaced; `at` is the
// value's own place ("/output_data"), the prefix of the places errors name.
Filled fill_templates(const core::Json& value, const TemplateInputs& inputs, const std::string& at);

// 8 lowercase hex digits: the low 32 bits of the 64-bit FNV-1a hash of `text`.
std::string stable_hash8(std::string_view text);

} // namespace emulator
