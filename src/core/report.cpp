#include "core/report.h"

#include "core/files.h"
#include "core/wait_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

namespace core {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

namespace {

const char* k_success = "success";

std::string text_of(const Json& value) {
  if (value.is_null()) {
    return "";
  }
  if (value.is_string()) {
    return value.get<std::string>();
  }
  return dump_line(value);
}

std::string string_field(const Json& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() || !it->is_string() ? "" : it->get<std::string>();
}

bool is_base64_png(std::string_view text) {
  if (text.size() < 16) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
  });
}

bool is_http_url(std::string_view url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

// The final screenshot a result object names: inline base64 (or a data: URI), a file a run wrote
// (--screenshots), DIR/<task_id>.png, or the final_screenshot.png download's URL.
void find_screenshot(const Json& result, const ReportOptions& options, ReportRow& row) {
  if (!result.is_object()) {
    return;
  }
  std::string shot = string_field(result, "final_screenshot");
  if (auto comma = shot.find(";base64,"); shot.starts_with("data:image/") && comma != shot.npos) {
    shot = shot.substr(comma + 8);
  }
  if (!shot.empty() && shot.size() < 4096 && !is_base64_png(shot)) {
    // A path: the run saved it (--screenshots DIR).
    if (auto bytes = try_read_file(shot)) {
      row.shot = ReportRow::Shot::inline_png;
      row.shot_data = base64_encode(*bytes);
      return;
    }
  } else if (is_base64_png(shot)) {
    row.shot = ReportRow::Shot::inline_png;
    row.shot_data = std::move(shot);
    return;
  }
  const std::string task_id = string_field(result, "task_id");
  if (!options.screenshots_dir.empty() && !task_id.empty() &&
      task_id.find('/') == std::string::npos && task_id.find("..") == std::string::npos) {
    if (auto bytes = try_read_file(options.screenshots_dir + "/" + task_id + ".png")) {
      row.shot = ReportRow::Shot::inline_png;
      row.shot_data = base64_encode(*bytes);
      return;
    }
  }
  if (auto it = result.find("downloads"); it != result.end() && it->is_array()) {
    for (const Json& entry : *it) {
      if (entry.is_object() && string_field(entry, "filename") == "final_screenshot.png" &&
          is_http_url(string_field(entry, "url"))) {
        row.shot = ReportRow::Shot::url;
        row.shot_data = string_field(entry, "url");
        return;
      }
    }
  }
}

// A flow's step results: an object per step, or a list of them (foreach).
void read_steps(const Json& steps, ReportRow& row, const Json** failing) {
  for (const auto& [id, value] : steps.items()) {
    auto add = [&](const Json& result, const std::string& name) {
      if (!result.is_object()) {
        return;
      }
      ReportStep step;
      step.id = name;
      step.endpoint = string_field(result, "endpoint_name");
      step.status = string_field(result, "status");
      step.error = text_of(result.value("error", Json()));
      if (std::string task_id = string_field(result, "task_id"); !task_id.empty()) {
        row.task_ids.push_back(task_id);
      }
      if (!step.endpoint.empty() &&
          std::find(row.endpoints.begin(), row.endpoints.end(), step.endpoint) ==
              row.endpoints.end()) {
        row.endpoints.push_back(step.endpoint);
      }
      if (!*failing && step.status != k_success && !step.status.empty()) {
        *failing = &result;
      }
      row.steps.push_back(std::move(step));
    };
    if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        add(value[i], fmt::format("{}[{}]", id, i));
      }
    } else {
      add(value, id);
    }
  }
}

std::optional<double> epoch_seconds(const Json& record) {
  auto it = record.find("time");
  if (it == record.end() || !it->is_string()) {
    return std::nullopt;
  }
  auto when = parse_iso8601(it->get<std::string>());
  if (!when) {
    return std::nullopt;
  }
  return std::chrono::duration<double>(when->time_since_epoch()).count();
}

std::string format_duration(double seconds) {
  if (seconds < 60) {
    return fmt::format("{:.1f} s", seconds);
  }
  auto total = static_cast<long long>(std::llround(seconds));
  if (total < 3600) {
    return fmt::format("{}:{:02} min", total / 60, total % 60);
  }
  return fmt::format("{}:{:02}:{:02} h", total / 3600, total / 60 % 60, total % 60);
}

// --- charts ------------------------------------------------------------------------------------

constexpr int k_chart_w = 520;
constexpr int k_chart_h = 170;
constexpr int k_pad_l = 44;
constexpr int k_pad_b = 26;
constexpr int k_pad_t = 10;

// The x axis (0 to `x_max` seconds) and the y axis's top value, closing the chart.
std::string axes(double plot_h, double x_max, size_t y_top) {
  return fmt::format("<line class=axis x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>"
                     "<text x=\"{0}\" y=\"{3}\">0</text><text x=\"{2}\" y=\"{3}\" "
                     "text-anchor=end>{4}</text><text x=\"{5}\" y=\"{6}\" "
                     "text-anchor=end>{7}</text></svg>",
                     k_pad_l,
                     k_pad_t + plot_h,
                     k_chart_w - 8,
                     k_chart_h - 8,
                     html_escape(format_duration(x_max)),
                     k_pad_l - 6,
                     k_pad_t + 10,
                     y_top);
}

std::string histogram_svg(const std::vector<double>& durations) {
  if (durations.empty()) {
    return "<p class=none>No durations: give the run's journal (--state FILE).</p>";
  }
  const double max = std::max(*std::max_element(durations.begin(), durations.end()), 0.001);
  constexpr int bins = 24;
  std::vector<size_t> counts(bins, 0);
  for (double d : durations) {
    auto bin = static_cast<size_t>(std::min<double>(bins - 1, std::floor(d / max * bins)));
    ++counts[bin];
  }
  const size_t top = *std::max_element(counts.begin(), counts.end());
  const double plot_w = k_chart_w - k_pad_l - 8;
  const double plot_h = k_chart_h - k_pad_b - k_pad_t;
  std::string svg =
      fmt::format("<svg class=chart viewBox=\"0 0 {} {}\" role=img aria-label=\"Task durations\">",
                  k_chart_w,
                  k_chart_h);
  for (int i = 0; i < bins; ++i) {
    const double h = top == 0 ? 0 : plot_h * static_cast<double>(counts[i]) / top;
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\">"
                       "<title>{} – {}: {} task{}</title></rect>",
                       k_pad_l + plot_w * i / bins + 1,
                       k_pad_t + plot_h - h,
                       plot_w / bins - 2,
                       h,
                       format_duration(max * i / bins),
                       format_duration(max * (i + 1) / bins),
                       counts[i],
                       counts[i] == 1 ? "" : "s");
  }
  return svg + axes(plot_h, max, top);
}

std::string timeline_svg(const std::vector<std::pair<double, double>>& spans) {
  if (spans.empty()) {
    return "<p class=none>No timeline: give the run's journal (--state FILE).</p>";
  }
  std::vector<std::pair<double, int>> events;
  events.reserve(spans.size() * 2);
  double start = spans.front().first;
  double end = spans.front().second;
  for (auto [from, to] : spans) {
    events.emplace_back(from, +1);
    events.emplace_back(std::max(from, to), -1);
    start = std::min(start, from);
    end = std::max(end, to);
  }
  // At equal times, ends before starts: a task that ends as the next starts is not two in flight.
  std::sort(events.begin(), events.end());
  int level = 0;
  int peak = 0;
  for (auto& e : events) {
    level += e.second;
    peak = std::max(peak, level);
  }
  const double span = std::max(end - start, 0.001);
  const double plot_w = k_chart_w - k_pad_l - 8;
  const double plot_h = k_chart_h - k_pad_b - k_pad_t;
  auto x = [&](double t) { return k_pad_l + plot_w * (t - start) / span; };
  auto y = [&](int n) { return k_pad_t + plot_h - plot_h * n / std::max(peak, 1); };
  std::string path = fmt::format("M{:.1f} {:.1f}", x(start), y(0));
  level = 0;
  for (auto& e : events) {
    level += e.second;
    path += fmt::format("H{:.1f}V{:.1f}", x(e.first), y(level));
  }
  path += fmt::format("H{:.1f}", x(end));
  std::string svg =
      fmt::format("<svg class=chart viewBox=\"0 0 {} {}\" role=img aria-label=\"Tasks in flight\">",
                  k_chart_w,
                  k_chart_h);
  svg += fmt::format("<path class=flight d=\"{}\"/>", path);
  return svg + axes(plot_h, span, static_cast<size_t>(peak));
}

constexpr const char* k_style = R"(
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--muted:#6e7781;--line:#d0d7de}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;max-width:1400px}
h1{font-size:20px;margin:0 0 4px}
.meta{color:var(--muted);margin:0 0 16px}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.count{border:1px solid var(--line);border-radius:6px;padding:6px 12px}
.count b{font-size:18px;margin-left:6px}
.count.success b{color:var(--ok)}.count.bad b{color:var(--bad)}
.charts{display:flex;flex-wrap:wrap;gap:24px}
figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
.chart{width:520px;max-width:100%;height:auto}
.chart rect{fill:#0969da}.chart .flight{fill:none;stroke:#0969da;stroke-width:1.5}
.chart .axis{stroke:var(--muted)}.chart text{font-size:11px;fill:var(--muted)}
#filters{position:sticky;top:0;background:Canvas;padding:10px 0;margin-top:16px;display:flex;flex-wrap:wrap;gap:12px;align-items:center;border-bottom:1px solid var(--line)}
#filters label{white-space:nowrap}#search{min-width:260px;padding:4px 8px}
table{border-collapse:collapse;width:100%;margin-top:8px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{position:sticky;top:52px;background:Canvas}
td.err{white-space:pre-wrap;max-width:420px;word-break:break-word}
td code{white-space:pre-wrap;word-break:break-all;font-size:12px}
.status{font-weight:600}.status.success{color:var(--ok)}.status.bad{color:var(--bad)}
ul.steps{margin:4px 0 0;padding-left:16px;font-size:12px}
.zoom{display:none}
img.shot{width:160px;height:auto;border:1px solid var(--line);cursor:zoom-in;background:#fff}
.zoom:checked+label img.shot{position:fixed;inset:0;margin:auto;width:auto;height:auto;max-width:94vw;max-height:94vh;z-index:10;cursor:zoom-out;box-shadow:0 0 0 100vmax rgba(0,0,0,.75)}
.expires{display:block;font-size:11px;color:var(--warn)}
.none{color:var(--muted)}
)";

constexpr const char* k_script = R"(
(function(){
var tbody=document.querySelector('#rows tbody');
var later=JSON.parse(document.getElementById('later-rows').textContent);
var rows=Array.prototype.slice.call(tbody.rows);
var boxes=Array.prototype.slice.call(document.querySelectorAll('#filters input[name=status]'));
var ep=document.getElementById('endpoint'),q=document.getElementById('search'),shown=document.getElementById('shown');
var total=rows.length+later.length;
function el(tag,text,cls){var e=document.createElement(tag);if(text)e.textContent=text;if(cls)e.className=cls;return e;}
function td(child,cls){var c=el('td',null,cls);if(child!==null)c.appendChild(typeof child==='object'?child:document.createTextNode(String(child)));return c;}
function build(d){
var tr=el('tr',null,'row');tr.setAttribute('data-status',d[2]);tr.setAttribute('data-endpoints',d[7]);tr.setAttribute('data-text',d[8]);
tr.appendChild(td(d[0]));tr.appendChild(td(d[1]));tr.appendChild(td(d[2],'status success'));
var err=td(d[3],'err');if(d[9].length){var ul=el('ul',null,'steps');d[9].forEach(function(s){ul.appendChild(el('li',s));});err.appendChild(ul);}tr.appendChild(err);
tr.appendChild(td(el('code',d[4])));var task=td(el('code',d[5]));if(d[6]){task.appendChild(el('br'));task.appendChild(el('small',d[6]));}tr.appendChild(task);
var shot=td(null);
if(d[10]==='png'){var box=el('input',null,'zoom');box.type='checkbox';box.id='shot'+d[0];var label=el('label');label.htmlFor=box.id;var img=el('img',null,'shot');img.loading='lazy';img.alt='final screenshot, line '+d[0];img.src='data:image/png;base64,'+d[11];label.appendChild(img);shot.appendChild(box);shot.appendChild(label);}
else if(d[10]==='url'){var a=el('a');a.href=d[11];a.target='_blank';a.rel='noopener noreferrer';var i2=el('img',null,'shot');i2.loading='lazy';i2.alt='final screenshot (download URL)';i2.src=d[11];a.appendChild(i2);shot.appendChild(a);shot.appendChild(el('span','download URL: expires','expires'));}
tr.appendChild(shot);return tr;}
function bring(){
if(!later.length)return;
var all=rows.concat(later.map(build));later=[];
all.sort(function(a,b){return a.cells[0].textContent-b.cells[0].textContent;});
all.forEach(function(r){tbody.appendChild(r);});rows=all;}
function apply(){
var on={};boxes.forEach(function(b){if(b.checked)on[b.value]=1;});
if(on.success)bring();
var e=ep.value,t=q.value.toLowerCase(),n=0;
rows.forEach(function(r){
var ok=on[r.getAttribute('data-status')]&&(!e||r.getAttribute('data-endpoints').split('\t').indexOf(e)>=0)&&(!t||r.getAttribute('data-text').indexOf(t)>=0);
if(r.hidden===!!ok)r.hidden=!ok;if(ok)n++;});
shown.textContent=n+' of '+total+' lines shown';}
var m=/status=([^&]*)/.exec(location.hash);
if(m){var want=decodeURIComponent(m[1]).split(',');boxes.forEach(function(b){b.checked=want.indexOf(b.value)>=0;});}
boxes.forEach(function(b){b.addEventListener('change',apply);});
ep.addEventListener('change',apply);q.addEventListener('input',apply);apply();
document.body.offsetHeight;
document.documentElement.setAttribute('data-ready-ms',Math.round(performance.now()));
})();
)";

std::string lower_ascii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return text;
}

// What the search looks in, on one line (the row's tag stays one line of the page's source).
std::string search_text(const ReportRow& row, const std::string& input) {
  std::string text = lower_ascii(row.source + " " + input + " " + row.error + " " + row.task_id);
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

} // namespace

Report::Report(ReportOptions options) : m_options(std::move(options)) {}

void Report::add_line(std::string_view text,
                      const std::string& origin,
                      std::optional<double> submitted,
                      std::optional<double> ended) {
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return;
  }
  Json line = parse_json(text);
  if (line.is_discarded() || !line.is_object()) {
    m_unreadable.push_back(origin + ": not a JSON object");
    return;
  }
  ReportRow row;
  row.seq = m_rows.size() + 1;
  row.source = string_field(line, "source");
  if (row.source.empty()) {
    row.source = origin;
  }
  row.status = string_field(line, "status");
  if (row.status.empty()) {
    row.status = "unknown";
  }
  row.error = text_of(line.value("error", Json()));
  row.task_id = string_field(line, "task_id");
  if (!row.task_id.empty()) {
    row.task_ids.push_back(row.task_id);
  }
  if (std::string endpoint = string_field(line, "endpoint_name"); !endpoint.empty()) {
    row.endpoints.push_back(endpoint);
  }
  if (auto it = line.find("input"); it != line.end()) {
    row.input = *it;
  } else if (auto item = line.find("item"); item != line.end()) {
    row.input = *item;
  }
  const Json* shot_from = &line;
  if (auto steps = line.find("steps"); steps != line.end() && steps->is_object()) {
    const Json* failing = nullptr;
    read_steps(*steps, row, &failing);
    if (failing) {
      shot_from = failing;
    } else if (!row.steps.empty()) {
      // A success: the last step's screenshot (shown only with --all-screenshots).
      const Json& last = steps->begin().value();
      shot_from = last.is_array() && !last.empty() ? &last.back() : &last;
    }
  }
  if (row.status != k_success || m_options.all_screenshots) {
    find_screenshot(*shot_from, m_options, row);
  }
  row.submitted = submitted;
  row.ended = ended;
  m_rows.push_back(std::move(row));
}

void Report::add_journal(std::string_view text) {
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view one = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    Json record = parse_json(one);
    if (!record.is_object()) {
      continue; // a torn last line: the journal's reader says so, not the report
    }
    const std::string type = string_field(record, "type");
    const std::string key = string_field(record, "key");
    auto when = epoch_seconds(record);
    if (!when) {
      continue;
    }
    if (type == "submit") {
      std::string task_id = string_field(record, "task_id");
      if (!task_id.empty()) {
        m_submit_by_task.emplace(task_id, *when); // the first submit of a task
        m_task_by_key[key] = task_id;
      }
    } else if (type == "result" && !key.empty()) {
      m_result_by_key[key] = *when;
      if (std::string task_id = string_field(record, "task_id"); !task_id.empty()) {
        m_task_by_key.emplace(key, task_id);
      }
    }
  }
}

std::vector<ReportRow> Report::timed_rows() const {
  std::map<std::string, double> result_by_task;
  for (const auto& [key, when] : m_result_by_key) {
    if (auto it = m_task_by_key.find(key); it != m_task_by_key.end()) {
      result_by_task[it->second] = when;
    }
  }
  std::vector<ReportRow> rows = m_rows;
  for (ReportRow& row : rows) {
    for (const std::string& id : row.task_ids) {
      if (auto it = m_submit_by_task.find(id); it != m_submit_by_task.end() && !row.submitted) {
        row.submitted = it->second;
      } else if (it != m_submit_by_task.end()) {
        row.submitted = std::min(*row.submitted, it->second);
      }
      if (auto it = result_by_task.find(id); it != result_by_task.end()) {
        row.ended = std::max(row.ended.value_or(it->second), it->second);
      }
    }
  }
  return rows;
}

size_t Report::not_successful() const {
  return static_cast<size_t>(std::count_if(
      m_rows.begin(), m_rows.end(), [](const ReportRow& r) { return r.status != k_success; }));
}

std::string Report::html() const {
  const std::vector<ReportRow> rows = timed_rows();
  std::map<std::string, size_t> counts;
  std::set<std::string> endpoints;
  std::vector<double> durations;
  std::vector<std::pair<double, double>> spans;
  std::optional<double> first;
  std::optional<double> last;
  for (const ReportRow& row : rows) {
    ++counts[row.status];
    endpoints.insert(row.endpoints.begin(), row.endpoints.end());
    if (row.submitted && row.ended && *row.ended >= *row.submitted) {
      durations.push_back(*row.ended - *row.submitted);
      spans.emplace_back(*row.submitted, *row.ended);
      first = std::min(first.value_or(*row.submitted), *row.submitted);
      last = std::max(last.value_or(*row.ended), *row.ended);
    }
  }
  std::string out;
  out.reserve(64 * 1024 + rows.size() * 600);
  out += "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
         "<meta name=viewport content=\"width=device-width,initial-scale=1\">";
  out += "<title>" + html_escape(m_options.title) + "</title><style>" + k_style + "</style>";
  out += "</head><body>\n";
  out += "<h1>" + html_escape(m_options.title) + "</h1>";
  std::string from;
  for (const std::string& name : m_source_names) {
    from += (from.empty() ? "" : ", ") + name;
  }
  out += fmt::format("<p class=meta id=meta>{} line{}{}",
                     rows.size(),
                     rows.size() == 1 ? "" : "s",
                     from.empty() ? "" : " from " + html_escape(from));
  if (first && last) {
    const double wall = *last - *first;
    out += fmt::format("; wall time <b id=wall>{}</b>", html_escape(format_duration(wall)));
    if (wall > 0) {
      out += fmt::format("; throughput <b id=throughput>{:.1f}</b> lines a minute",
                         60.0 * static_cast<double>(spans.size()) / wall);
    }
  }
  if (!m_unreadable.empty()) {
    out += fmt::format("; <span class=bad id=unreadable>{} unreadable line{}</span> (first: {})",
                       m_unreadable.size(),
                       m_unreadable.size() == 1 ? "" : "s",
                       html_escape(m_unreadable.front()));
  }
  out += "</p>\n<div class=counts id=counts>";
  for (const auto& [status, n] : counts) {
    const bool ok = status == k_success;
    out += fmt::format("<span class=\"count {}\" id=\"count-{}\" data-status=\"{}\">{}<b>{}</b>"
                       "</span>",
                       ok ? "success" : "bad",
                       html_escape(status),
                       html_escape(status),
                       html_escape(status),
                       n);
  }
  out += "</div>\n<div class=charts><figure><figcaption>Task durations (submit to result)"
         "</figcaption>";
  out += histogram_svg(durations);
  out += "</figure><figure><figcaption>Tasks in flight</figcaption>";
  out += timeline_svg(spans);
  out += "</figure></div>\n";

  // Filters: every status (successes off), the endpoints, a search.
  out += "<form id=filters onsubmit=\"return false\"><span>Show:</span>";
  for (const auto& [status, n] : counts) {
    out += fmt::format("<label><input type=checkbox name=status value=\"{}\"{}> {} ({})</label>",
                       html_escape(status),
                       status == k_success ? "" : " checked",
                       html_escape(status),
                       n);
  }
  out += "<label>Endpoint <select id=endpoint><option value=\"\">all</option>";
  for (const std::string& e : endpoints) {
    out += fmt::format("<option>{}</option>", html_escape(e));
  }
  out += "</select></label><input id=search type=search placeholder=\"Search inputs and "
         "errors\"><span id=shown></span></form>\n";

  out += "<table id=rows><thead><tr><th>#</th><th>Source</th><th>Status</th><th>Error</th>"
         "<th>Inputs</th><th>Task</th><th>Final screenshot</th></tr></thead><tbody>\n";
  // Successes, hidden until asked for, are data for the script, not rows: 9,000 rows the
  // browser would parse and keep for nothing would double the time a big report takes to open.
  Json later = Json::array();
  for (const ReportRow& row : rows) {
    const bool ok = row.status == k_success;
    const std::string input = row.input.is_null() ? "" : dump_line(row.input);
    std::string endpoint_list;
    for (const std::string& e : row.endpoints) {
      endpoint_list += (endpoint_list.empty() ? "" : "\t") + e;
    }
    std::vector<std::string> steps;
    for (const ReportStep& step : row.steps) {
      steps.push_back(fmt::format("{} ({}) {}{}",
                                  step.id,
                                  step.endpoint,
                                  step.status,
                                  step.error.empty() ? "" : ": " + step.error));
    }
    const std::string duration =
        row.submitted && row.ended ? format_duration(*row.ended - *row.submitted) : "";
    if (ok) {
      // [seq, source, status, error, input, task id, duration, endpoints, search text, steps,
      //  screenshot kind ("png" or "url"), its data]; the script makes text nodes of them.
      later.push_back(Json::array({row.seq,
                                   row.source,
                                   row.status,
                                   row.error,
                                   input,
                                   row.task_id,
                                   duration,
                                   endpoint_list,
                                   search_text(row, input),
                                   steps,
                                   row.shot == ReportRow::Shot::inline_png ? "png"
                                   : row.shot == ReportRow::Shot::url      ? "url"
                                                                           : "",
                                   row.shot_data}));
      continue;
    }
    out += fmt::format("<tr class=row data-status=\"{}\" data-endpoints=\"{}\" data-text=\"{}\">",
                       html_escape(row.status),
                       html_escape(endpoint_list),
                       html_escape(search_text(row, input)));
    out += fmt::format("<td>{}</td><td>{}</td><td class=\"status bad\">{}</td><td class=err>{}",
                       row.seq,
                       html_escape(row.source),
                       html_escape(row.status),
                       html_escape(row.error));
    if (!steps.empty()) {
      out += "<ul class=steps>";
      for (const std::string& step : steps) {
        out += "<li>" + html_escape(step) + "</li>";
      }
      out += "</ul>";
    }
    out += fmt::format("</td><td><code>{}</code></td><td><code>{}</code>",
                       html_escape(input),
                       html_escape(row.task_id));
    if (!duration.empty()) {
      out += fmt::format("<br><small>{}</small>", html_escape(duration));
    }
    out += "</td><td>";
    if (row.shot == ReportRow::Shot::inline_png) {
      out += fmt::format("<input type=checkbox class=zoom id=shot{0}><label for=shot{0}>"
                         "<img class=shot loading=lazy alt=\"final screenshot, line {0}\" "
                         "src=\"data:image/png;base64,{1}\"></label>",
                         row.seq,
                         row.shot_data); // base64 only (checked): nothing to escape
    } else if (row.shot == ReportRow::Shot::url) {
      out += fmt::format("<a href=\"{0}\" target=_blank rel=\"noopener noreferrer\"><img "
                         "class=shot loading=lazy alt=\"final screenshot (download URL)\" "
                         "src=\"{0}\"></a><span class=expires>download URL: expires</span>",
                         html_escape(row.shot_data));
    }
    out += "</td></tr>\n";
  }
  out += "</tbody></table>\n<script type=\"application/json\" id=later-rows>";
  // '<' as \u003c: no "</script>" or "<!--" in a value can end the data early.
  for (char c : dump_line(later)) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  out += "</script>\n";
  out += "</tbody></table>\n<script>";
  out += k_script;
  out += "</script></body></html>\n";
  return out;
}

} // namespace core
