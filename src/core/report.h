#pragma once

// The run report (`optexity-chain report`, `run --report`): one self-contained HTML file from the
// lines a run or flow printed. Network-free: the lines and a journal's text come in, HTML goes
// out. No external script, style sheet, font or image: CSS inline, SVG charts drawn here, inline
// JS only for the filters; every value from a line is escaped.

#include "core/json.h"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

struct ReportOptions {
  std::string title = "optexity-chain run report";
  std::string screenshots_dir;  // --screenshots DIR: DIR/<task_id>.png, as a run wrote them
  bool all_screenshots = false; // keep the screenshots of successes too
};

// One step of a flow item's line.
struct ReportStep {
  std::string id;
  std::string endpoint;
  std::string status;
  std::string error;
};

// One line of the report: what its row shows.
struct ReportRow {
  size_t seq = 0;     // its number among the report's lines, from 1
  std::string source; // "source" (run --tag), else where the line was read: "out.jsonl:12"
  std::string status;
  std::string error;
  std::string task_id;
  std::vector<std::string> task_ids; // every task of the line (a flow's steps)
  std::vector<std::string> endpoints;
  Json input = nullptr; // "input" (run) or "item" (flow)
  std::vector<ReportStep> steps;
  enum class Shot { none, inline_png, url };
  Shot shot = Shot::none;
  std::string shot_data;           // base64 PNG, or a download URL (which expires)
  std::optional<double> submitted; // seconds since the epoch
  std::optional<double> ended;
};

class Report {
public:
  explicit Report(ReportOptions options = {});

  // One line as printed. `origin` names it when it carries no "source". Times, when the caller
  // knows them (a run writing its own report), in seconds since the epoch.
  void add_line(std::string_view text,
                const std::string& origin,
                std::optional<double> submitted = std::nullopt,
                std::optional<double> ended = std::nullopt);
  // Timings from a --state journal: each task's submit time, each result's time.
  void add_journal(std::string_view text);
  // Names the report's inputs in its header ("out.jsonl", "<stdin>").
  void add_source_name(const std::string& name) { m_source_names.push_back(name); }

  std::string html() const;

  size_t lines() const { return m_rows.size(); }
  size_t unreadable() const { return m_unreadable.size(); }
  size_t not_successful() const;
  const std::vector<ReportRow>& rows() const { return m_rows; }
  // The times of each row once the journal's are joined in (tests).
  std::vector<ReportRow> timed_rows() const;

private:
  ReportOptions m_options;
  std::vector<ReportRow> m_rows;
  std::vector<std::string> m_unreadable; // "out.jsonl:3: why"
  std::vector<std::string> m_source_names;
  std::map<std::string, double> m_submit_by_task; // from the journal
  std::map<std::string, std::string> m_task_by_key;
  std::map<std::string, double> m_result_by_key;
};

// Text made safe inside HTML elements and attribute values.
std::string html_escape(std::string_view text);

} // namespace core
