#include "core/files.h"

#include "core/error.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace core {

std::string sanitize_file_name(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 200)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") {
    out = "_" + out;
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size() + 4);
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
      clean += c;
    }
  }
  while (clean.size() % 4 != 0) {
    clean += '=';
  }
  if (clean.empty()) {
    return std::string();
  }
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the padding as zero bytes: drop one per '='.
  size_t pad = 0;
  for (size_t i = clean.size(); i > 0 && clean[i - 1] == '='; --i) {
    ++pad;
  }
  if (pad > 2) {
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

void make_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec || !std::filesystem::is_directory(path)) {
    throw Error(
        fmt::format("cannot create directory {}: {}", path, ec ? ec.message() : "not a directory"));
  }
}

std::optional<std::string> try_read_file(const std::string& path, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<std::string> {
    if (why) {
      *why = std::move(reason);
    }
    return std::nullopt;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return fail("is a directory");
  }
  std::string text;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    text.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return fail(err == EISDIR ? "is a directory" : std::strerror(err));
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

std::string read_file(const std::string& path, std::string_view what) {
  std::string why;
  auto text = try_read_file(path, &why);
  if (!text) {
    throw Error(fmt::format("cannot open {}{}{}: {}", what, what.empty() ? "" : " ", path, why));
  }
  return std::move(*text);
}

int write_all(int fd, std::string_view data) {
  return write_all(fd, data, {});
}

int write_all(int fd, std::string_view head, std::string_view tail) {
  iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(tail.data()), tail.size()}};
  iovec* part = parts;
  int count = 2;
  auto skip_done = [&](size_t done) {
    // Drop what went out (and empty parts); the first part left starts at what did not.
    while (count > 0 && done >= part->iov_len) {
      done -= part->iov_len;
      ++part;
      --count;
    }
    if (count > 0) {
      part->iov_base = static_cast<char*>(part->iov_base) + done;
      part->iov_len -= done;
    }
  };
  skip_done(0);
  while (count > 0) {
    ssize_t n = ::writev(fd, part, count);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    skip_done(static_cast<size_t>(n));
  }
  return 0;
}

namespace {

// Temporary names unique within the process (two writers may aim at the same path).
std::atomic<uint64_t> g_temp_serial{0};

} // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, unsigned mode) : m_path(std::move(path)) {
  m_temp = fmt::format("{}.part.{}.{}", m_path, ::getpid(), ++g_temp_serial);
  m_fd = ::open(m_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (m_fd < 0) {
    throw Error(fmt::format("cannot write {}: {}", m_temp, std::strerror(errno)));
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (m_fd >= 0) {
    ::close(m_fd);
    ::unlink(m_temp.c_str());
  }
}

void AtomicFileWriter::append(std::string_view data) {
  if (m_fd < 0) {
    throw Error(fmt::format("cannot write {}: already closed", m_temp));
  }
  if (int err = write_all(m_fd, data); err != 0) {
    throw Error(fmt::format("cannot write {}: {}", m_temp, std::strerror(err)));
  }
  m_size += data.size();
}

void AtomicFileWriter::commit() {
  if (m_fd < 0) {
    throw Error(fmt::format("cannot write {}: already closed", m_temp));
  }
  // fsync before the rename: after a crash the name holds the whole file or nothing.
  int fd = m_fd;
  m_fd = -1;
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(m_temp.c_str());
    throw Error(fmt::format("cannot write {}: {}", m_temp, std::strerror(err)));
  }
  if (::close(fd) != 0 || ::rename(m_temp.c_str(), m_path.c_str()) != 0) {
    int err = errno;
    ::unlink(m_temp.c_str());
    throw Error(fmt::format("cannot write {}: {}", m_path, std::strerror(err)));
  }
}

void write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
  AtomicFileWriter file(path, mode);
  file.append(data);
  file.commit();
}

} // namespace core
