#include "core/files.h"
#include "core/report.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// A base64 "PNG": any base64 will do for the report (it does not decode images).
const std::string k_png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk";

} // namespace

TEST_CASE("report: counts by status, a row per line, successes hidden until asked for") {
  core::Report report;
  report.add_line(
      R"({"status":"success","task_id":"t1","endpoint_name":"demo","input":{"email":["a@x"]}})",
      "out.jsonl:1");
  report.add_line(
      R"({"status":"failed","task_id":"t2","endpoint_name":"demo","error":"element not found","input":{"email":["b@x"]},"final_screenshot":")" +
          k_png + R"("})",
      "out.jsonl:2");
  report.add_line(
      R"({"status":"timeout","error":"no callback within 60 s","input":{"email":["c@x"]}})",
      "out.jsonl:3");
  CHECK(report.lines() == 3);
  CHECK(report.not_successful() == 2);
  std::string html = report.html();
  CHECK(html.starts_with("<!doctype html>"));
  CHECK(html.find("id=\"count-success\" data-status=\"success\">success<b>1</b>") !=
        std::string::npos);
  CHECK(html.find("id=\"count-failed\" data-status=\"failed\">failed<b>1</b>") !=
        std::string::npos);
  CHECK(occurrences(html, "<tr class=row") == 2); // the success is data for the filter script
  CHECK(html.find(
            "<script type=\"application/json\" id=later-rows>[[1,\"out.jsonl:1\",\"success\"") !=
        std::string::npos);
  CHECK(html.find("element not found") != std::string::npos);
  CHECK(html.find("src=\"data:image/png;base64," + k_png + "\"") != std::string::npos);
  CHECK(html.find("out.jsonl:3") != std::string::npos);
  // Self-contained: nothing fetched from elsewhere.
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("<script src") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
}

TEST_CASE("report: every value is escaped: a payload's <script> is text") {
  core::Report report;
  report.add_line(
      R"J({"status":"failed","error":"<script>alert(1)</script>","source":"x\"><img src=x onerror=alert(2)>","endpoint_name":"</option><script>alert(3)</script>","input":{"q":["<b>'\"&"]},"task_id":"<i>t</i>"})J",
      "out.jsonl:1");
  std::string html = report.html();
  CHECK(occurrences(html, "<script>") == 1); // the report's own filter script only
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("onerror=alert(2)>") == std::string::npos);
  CHECK(html.find("&lt;/option&gt;&lt;script&gt;alert(3)") != std::string::npos);
  CHECK(html.find("<b>'") == std::string::npos);
  CHECK(html.find("<i>t</i>") == std::string::npos);
  CHECK(core::html_escape("<a href='x'>&\"") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
  // A success's values are data for the script: no "</script>" in them ends it early.
  core::Report success;
  success.add_line(R"J({"status":"success","error":"</script><script>alert(1)</script><!--"})J",
                   "o:1");
  std::string data = success.html();
  CHECK(occurrences(data, "<script") == 2); // the data block and the filter script
  CHECK(occurrences(data, "</script>") == 2);
  CHECK(data.find("\\u003c/script>\\u003cscript>alert(1)") != std::string::npos);
}

TEST_CASE("report: a screenshot that is not base64 is never written into the page") {
  core::Report report;
  report.add_line(R"J({"status":"failed","final_screenshot":"AAAA\" onerror=\"alert(1)"})J", "o:1");
  report.add_line(
      R"J({"status":"failed","downloads":[{"filename":"final_screenshot.png","url":"javascript:alert(1)"}]})J",
      "o:2");
  std::string html = report.html();
  CHECK(html.find("onerror=\"alert") == std::string::npos);
  CHECK(html.find("javascript:") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
}

TEST_CASE(
    "report: screenshots from a download URL (marked as expiring), a file, --screenshots DIR") {
  auto dir = std::filesystem::temp_directory_path() / "report-test-shots";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "t9.png") << "PNGBYTES";
    std::ofstream(dir / "saved.png") << "SAVEDPNG";
  }
  core::ReportOptions options;
  options.screenshots_dir = dir.string();
  core::Report report(options);
  report.add_line(
      R"({"status":"failed","task_id":"t8","downloads":[{"filename":"final_screenshot.png","url":"https://s3.example.com/t8/final_screenshot.png?X-Amz=1&b=2"}]})",
      "o:1");
  report.add_line(R"({"status":"failed","task_id":"t9"})", "o:2");
  report.add_line(R"({"status":"killed","task_id":"t10","final_screenshot":")" +
                      (dir / "saved.png").string() + R"("})",
                  "o:3");
  report.add_line(R"({"status":"success","task_id":"t11","final_screenshot":")" + k_png + R"("})",
                  "o:4");
  std::string html = report.html();
  CHECK(html.find("src=\"https://s3.example.com/t8/final_screenshot.png?X-Amz=1&amp;b=2\"") !=
        std::string::npos);
  CHECK(html.find("download URL: expires") != std::string::npos);
  CHECK(html.find(core::base64_encode("PNGBYTES")) != std::string::npos);
  CHECK(html.find(core::base64_encode("SAVEDPNG")) != std::string::npos);
  CHECK(html.find(k_png) == std::string::npos); // a success's screenshot is left out
  core::ReportOptions all = options;
  all.all_screenshots = true;
  core::Report with_all(all);
  with_all.add_line(R"({"status":"success","task_id":"t11","final_screenshot":")" + k_png + R"("})",
                    "o:1");
  CHECK(with_all.html().find(k_png) != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("report: the journal gives durations, wall time and the tasks in flight") {
  core::Report report;
  report.add_line(R"({"status":"success","task_id":"t1"})", "o:1");
  report.add_line(R"({"status":"failed","task_id":"t2"})", "o:2");
  report.add_journal(
      R"({"type":"run","time":"2026-12-05T10:00:00Z","token":"x"}
{"type":"attempt","time":"2026-12-05T10:00:00.000Z","key":"k1"}
{"type":"submit","time":"2026-12-05T10:00:00.000Z","key":"k1","task_id":"t1"}
{"type":"submit","time":"2026-12-05T10:00:01.000Z","key":"k2","task_id":"t2"}
{"type":"result","time":"2026-12-05T10:00:04.500Z","key":"k1","status":"success","task_id":"t1"}
{"type":"result","time":"2026-12-05T10:00:11.000Z","key":"k2","status":"failed","task_id":"t2"}
{"type":"res)");
  auto rows = report.timed_rows();
  REQUIRE(rows.size() == 2);
  REQUIRE(rows[0].submitted);
  REQUIRE(rows[0].ended);
  CHECK(*rows[0].ended - *rows[0].submitted == doctest::Approx(4.5));
  CHECK(*rows[1].ended - *rows[1].submitted == doctest::Approx(10));
  std::string html = report.html();
  CHECK(html.find("wall time <b id=wall>11.0 s</b>") != std::string::npos);
  CHECK(html.find("aria-label=\"Tasks in flight\"") != std::string::npos);
  CHECK(html.find("<path class=flight") != std::string::npos);
  CHECK(html.find("No durations") == std::string::npos);
}

TEST_CASE("report: a flow item's steps, its failing step's screenshot, unreadable lines") {
  core::Report report;
  report.add_line(
      R"({"status":"failed","item":{"email":["a@x"]},"steps":{"login":{"task_id":"s1","endpoint_name":"login","status":"success"},"claim":[{"task_id":"s2","endpoint_name":"file-claim","status":"failed","error":"no such order","final_screenshot":")" +
          k_png + R"("}]}})",
      "flow.jsonl:1");
  report.add_line("not json", "flow.jsonl:2");
  report.add_line("", "flow.jsonl:3");
  CHECK(report.lines() == 1);
  CHECK(report.unreadable() == 1);
  const auto& row = report.rows().front();
  REQUIRE(row.steps.size() == 2);
  CHECK(row.endpoints.size() == 2);
  CHECK(row.shot == core::ReportRow::Shot::inline_png);
  std::string html = report.html();
  CHECK(html.find("<li>claim[0] (file-claim) failed: no such order</li>") != std::string::npos);
  CHECK(html.find("<option>file-claim</option>") != std::string::npos);
  CHECK(html.find("1 unreadable line") != std::string::npos);
  CHECK(html.find("{&quot;email&quot;:[&quot;a@x&quot;]}") != std::string::npos);
}
