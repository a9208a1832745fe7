// TCP request/response probe for the test bed (built by lib/testbed/rr.ts with gcc): one
// connection, one message in flight, what control-plane RPCs look like. IPv4 and IPv6 (sockperf
// 3.7 in Debian 12 takes IPv4 only, and the zones talk IPv6).
//   rr server PORT                 echo every connection's bytes back (a process per connection)
//   rr client ADDR PORT SECONDS N  N-byte request, N-byte response, back to back for SECONDS
//                                  (the first 10 % is warm-up), then print
//                                  {"transactions":T,"seconds":S,"p50us":…,"p99us":…}
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static int full(int fd, char *b, int n, int wr) {
  for (int done = 0; done < n;) {
    int r = wr ? write(fd, b + done, n - done) : read(fd, b + done, n - done);
    if (r <= 0) return -1;
    done += r;
  }
  return 0;
}

static int server(int port) {
  int s = listen_any(port, 64), one = 1;
  if (s < 0) return 1;
  signal(SIGCHLD, SIG_IGN);
  for (;;) {
    int c = accept(s, 0, 0);
    if (c < 0) continue;
    if (fork() == 0) {
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      char b[65536];
      for (;;) {
        int r = read(c, b, sizeof b);
        if (r <= 0 || full(c, b, r, 1)) _exit(0);
      }
    }
    close(c);
  }
}

static int cmp(const void *x, const void *y) {
  float a = *(const float *)x, b = *(const float *)y;
  return (a > b) - (a < b);
}

static int client(const char *addr, int port, double secs, int n) {
  struct sockaddr_storage ss = {0};
  socklen_t len = parse_addr(addr, port, &ss);
  if (len == 0) return 2;
  int s = socket(ss.ss_family, SOCK_STREAM, 0), one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(s, (void *)&ss, len)) { perror("connect"); return 1; }
  char *b = calloc(1, n);
  size_t cap = 1 << 20, k = 0;
  float *rtt = malloc(cap * sizeof *rtt);
  double t0 = now(), warm = t0 + secs / 10, end = t0 + secs, first = 0;
  for (double t = t0; t < end;) {
    if (full(s, b, n, 1) || full(s, b, n, 0)) { perror("exchange"); return 1; }
    double u = now();
    if (u >= warm) {
      if (k == 0) first = t;
      if (k == cap) rtt = realloc(rtt, (cap *= 2) * sizeof *rtt);
      rtt[k++] = (u - t) * 1e6;
    }
    t = u;
  }
  if (k == 0) { fprintf(stderr, "no transactions\n"); return 1; }
  double span = now() - first;
  qsort(rtt, k, sizeof *rtt, cmp);
  printf("{\"transactions\":%zu,\"seconds\":%.6f,\"p50us\":%.2f,\"p99us\":%.2f}\n", k, span,
         rtt[k / 2], rtt[(size_t)(k * 0.99)]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "server")) return server(atoi(argv[2]));
  if (argc == 6 && !strcmp(argv[1], "client")) {
    return client(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]));
  }
  fprintf(stderr, "usage: rr server PORT | rr client ADDR PORT SECONDS BYTES\n");
  return 2;
}
