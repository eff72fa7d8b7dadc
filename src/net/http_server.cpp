#include "net/http_server.h"

#include <arpa/inet.h>
#include <cstdlib>
#include <dirent.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>

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

void shutdown_accepted_connections(int port) {
  // httplib keeps no list of its connections: find them among this process's descriptors. An
  // accepted socket's own port is the listening port, and it has a peer (the listening socket
  // has none; our own client sockets to that port have an ephemeral local port).
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) {
    return;
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
      ::shutdown(static_cast<int>(fd), SHUT_RDWR);
    }
  }
  closedir(dir);
}

} // namespace net
