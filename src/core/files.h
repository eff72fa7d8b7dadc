#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// A name from the network made safe as one path component: letters, digits, '.', '-', '_'
// kept, anything else '_'; never empty, never "." or "..", at most 200 bytes.
std::string sanitize_file_name(std::string_view name);

// Decodes standard base64 (OpenSSL's decoder; white space and missing padding tolerated).
// Nothing when the text is not base64.
std::optional<std::string> base64_decode(std::string_view text);

// Encodes standard base64 with padding (OpenSSL's encoder).
std::string base64_encode(std::string_view data);

// Creates a directory and its parents (mode 0755 for new ones). Throws core::Error naming it.
void make_directories(const std::string& path);

// The whole of the file at `path`, as bytes. Nothing when it cannot be opened or read; `why`
// (when given) then holds the system's words ("No such file or directory"), or "is a directory".
std::optional<std::string> try_read_file(const std::string& path, std::string* why = nullptr);

// The whole of the file at `path`, as bytes. Throws core::Error "cannot open PATH: why", where
// a `what` ("flow") names the file's role: "cannot open flow PATH: why".
std::string read_file(const std::string& path, std::string_view what = {});

// Writes all of `data` to `fd`, going on after a short write and retrying on EINTR. Returns 0,
// or the errno of the write that failed (EPIPE, ENOSPC, EAGAIN on a non-blocking fd...).
int write_all(int fd, std::string_view data);

// Writes all of `head` then `tail` to `fd` as write_all does, in one writev when the system
// takes it all: a line and its newline without copying the line.
int write_all(int fd, std::string_view head, std::string_view tail);

// Writes `data` to `path` through a temporary file in the same directory, fsync and a rename
// (an AtomicFileWriter), so a reader never sees half a file. Throws core::Error naming the path.
// `mode` is the new file's (0644: the umask applies).
void write_file_atomic(const std::string& path, std::string_view data, unsigned mode = 0644);

// A file written piece by piece (a download) under a temporary name next to `path`, then
// fsync'd and renamed to `path` by commit(): a reader never sees half a file, and a writer
// destroyed without commit() (a failure, a stop) removes its temporary file. Every method that
// fails throws core::Error naming the file and the system's words.
class AtomicFileWriter {
public:
  explicit AtomicFileWriter(std::string path, unsigned mode = 0644);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void append(std::string_view data);
  void commit();
  uint64_t size() const { return m_size; }
  const std::string& temp_path() const { return m_temp; }

private:
  std::string m_path;
  std::string m_temp;
  int m_fd = -1;
  uint64_t m_size = 0;
};

} // namespace core
