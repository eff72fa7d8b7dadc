#include "net/http_server.h"

#include "net/versions.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <arpa/inet.h>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>

namespace net {

void use_reuseaddr_only(httplib::Server& server, int& listen_fd) {
  server.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock; // the last socket tried is the one that binds
  });
}

void widen_backlog(int listen_fd) {
  if (listen_fd >= 0) {
    ::listen(listen_fd, SOMAXCONN);
  }
}

namespace {

int local_port(int fd, bool peer) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) {
    return -1;
  }
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return -1;
}

} // namespace

std::vector<std::pair<unsigned long, int>> accepted_connections(int port) {
  // httplib keeps no list of its connections: find them among this process's descriptors. An
  // accepted socket's own port is the listening port, and it has a peer (the listening socket
  // has none; our own client sockets to that port have an ephemeral local port).
  std::vector<std::pair<unsigned long, int>> found;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) {
    return found;
  }
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) {
      continue;
    }
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
        type != SOCK_STREAM) {
      continue;
    }
    if (local_port(static_cast<int>(fd), false) == port &&
        local_port(static_cast<int>(fd), true) > 0) {
      struct stat st {};
      if (fstat(static_cast<int>(fd), &st) == 0) {
        found.emplace_back(static_cast<unsigned long>(st.st_ino), static_cast<int>(fd));
      }
    }
  }
  closedir(dir);
  return found;
}

void shutdown_accepted_connections(int port) {
  for (const auto& [inode, fd] : accepted_connections(port)) {
    shutdown_reading(fd, inode);
  }
}

void shutdown_reading(int fd, unsigned long inode) {
  // The number may have been closed and reused since it was listed: check it is still the
  // same socket (narrowing that window to the two calls below).
  struct stat st {};
  if (fstat(fd, &st) == 0 && static_cast<unsigned long>(st.st_ino) == inode) {
    ::shutdown(fd, SHUT_RD);
  }
}

std::string network_library_versions() {
  return fmt::format("cpp-httplib {}, {}", CPPHTTPLIB_VERSION, OpenSSL_version(OPENSSL_VERSION));
}

std::string who_listens(int port) {
  // /proc/net/tcp{,6}: "sl local_address rem_address st ... inode"; st 0A is LISTEN.
  std::string inode;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line); // header
    while (inode.empty() && std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, skip;
      fields >> sl >> local >> remote >> state;
      auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos ||
          std::stoi(local.substr(colon + 1), nullptr, 16) != port) {
        continue;
      }
      for (int i = 0; i < 5; ++i) {
        fields >> skip; // tx:rx, tr:when, retrnsmt, uid, timeout
      }
      fields >> inode;
    }
  }
  if (inode.empty()) {
    return {};
  }
  const std::string target = "socket:[" + inode + "]";
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    std::string pid = proc.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code fd_ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      if (std::filesystem::read_symlink(fd.path(), link_ec).string() == target) {
        std::ifstream comm(proc.path() / "comm");
        std::string name;
        std::getline(comm, name);
        return fmt::format("{} (pid {})", name, pid);
      }
    }
  }
  return {};
}

} // namespace net
