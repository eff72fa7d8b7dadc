#include "net/http_server.h"

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

} // namespace net
