#include "core/error.h"
#include "core/files.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

TEST_SUITE_BEGIN("files");

TEST_CASE("files::sanitize_file_name keeps names inside one directory") {
  CHECK(core::sanitize_file_name("bf982ff9-f0af-4598") == "bf982ff9-f0af-4598");
  CHECK(core::sanitize_file_name("../../etc/passwd") == ".._.._etc_passwd");
  CHECK(core::sanitize_file_name("..") == "_..");
  CHECK(core::sanitize_file_name(".") == "_.");
  CHECK(core::sanitize_file_name("") == "_");
  CHECK(core::sanitize_file_name("a b/c\\d\n") == "a_b_c_d_");
  CHECK(core::sanitize_file_name(std::string(500, 'x')).size() == 200);
}

TEST_CASE("files::base64_decode") {
  CHECK(core::base64_decode("aGVsbG8=") == "hello");
  CHECK(core::base64_decode("aGVsbG8") == "hello"); // missing padding
  CHECK(core::base64_decode("aGVs\nbG8h") == "hello!");
  CHECK(core::base64_decode("aGk=") == "hi");
  CHECK(core::base64_decode("") == "");
  CHECK_FALSE(core::base64_decode("not base64!"));
  CHECK_FALSE(core::base64_decode("a==="));
}

TEST_CASE("files::write_file_atomic writes whole files") {
  auto dir = std::filesystem::temp_directory_path() / "optexity-files-test";
  std::filesystem::remove_all(dir);
  core::make_directories((dir / "a" / "b").string());
  std::string path = (dir / "a" / "b" / "f.bin").string();
  std::string data(100000, '\0');
  data[5] = 'x';
  core::write_file_atomic(path, data);
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == data);
  CHECK_THROWS_AS(core::write_file_atomic((dir / "missing" / "f").string(), "x"), core::Error);
  std::filesystem::remove_all(dir);
}

TEST_SUITE_END();

TEST_CASE("files::base64_encode round-trips") {
  CHECK(core::base64_encode("user:pw") == "dXNlcjpwdw==");
  CHECK(core::base64_encode("") == "");
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
  }
  CHECK(core::base64_decode(core::base64_encode(bytes)) == bytes);
}
