#pragma once

#include <httplib.h>

#include <string>
#include <utility>
#include <vector>

namespace net {

// Replaces cpp-httplib's default socket options (which add SO_REUSEPORT, letting a second
// process bind the same port and take half the traffic) with SO_REUSEADDR only, and records the
// listening socket in `listen_fd` so its backlog can be widened after bind.
void use_reuseaddr_only(httplib::Server& server, int& listen_fd);

// cpp-httplib 0.11.4 listens with a backlog of 5: a burst of connections (thousands of
// callbacks, many submits) would see dropped SYNs and second-long retries. Linux lets a
// listening socket be listen()ed again with a larger backlog.
void widen_backlog(int listen_fd);

// Shuts down the reading side (SHUT_RD) of every connection this process accepted on `port`.
// httplib's stop() joins its workers, and a worker reading a request a byte at a time (its read
// timeout starts over with each byte) or waiting on an idle keep-alive connection would
// otherwise hold the join for as long as the client likes. Answers being written still go out.
void shutdown_accepted_connections(int port);

// The connections this process accepted on `port`, as (inode, fd) pairs.
std::vector<std::pair<unsigned long, int>> accepted_connections(int port);

// shutdown(SHUT_RD) of `fd` if it is still the socket `inode` (see accepted_connections).
void shutdown_reading(int fd, unsigned long inode);

// Which process listens on TCP `port` ("name (pid N)"), read from /proc; "" when unknown (for
// instance, another user's process).
std::string who_listens(int port);

} // namespace net
