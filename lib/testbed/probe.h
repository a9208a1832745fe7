// What the test bed's C probes (rr.c, conn_rate.c) share: the clock, a dual-stack listener and
// address parsing. Included by each; lib/testbed/measure.ts hashes it with the probe's source.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

// A TCP listener on PORT for IPv6 and IPv4 alike, or -1 (reported on stderr).
static int listen_any(int port, int backlog) {
  int s = socket(AF_INET6, SOCK_STREAM, 0), one = 1, zero = 0;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
  if (bind(s, (void *)&a, sizeof a) || listen(s, backlog)) { perror("bind/listen"); return -1; }
  return s;
}

// Fills SS with ADDR (IPv6 or IPv4 text) and PORT; returns its length, 0 when ADDR is neither.
static socklen_t parse_addr(const char *addr, int port, struct sockaddr_storage *ss) {
  struct sockaddr_in6 *a6 = (void *)ss;
  struct sockaddr_in *a4 = (void *)ss;
  if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6, a6->sin6_port = htons(port);
    return sizeof *a6;
  }
  if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET, a4->sin_port = htons(port);
    return sizeof *a4;
  }
  fprintf(stderr, "bad address %s\n", addr);
  return 0;
}
