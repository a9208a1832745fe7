// New-TCP-connections-per-second probe for the test bed (built by lib/testbed/measure.ts with gcc).
//   conn_rate server PORT                  accept, read 1 byte, write 1 byte, close; forever
//   conn_rate client ADDR PORT SECONDS N   N processes connect/exchange/close in a loop, then print
//                                          {"conns":C,"errors":E,"seconds":S} on stdout
// The client closes with SO_LINGER 0 (RST) so no TIME_WAIT exhausts the ephemeral ports: each
// connection is SYN, SYN-ACK, ACK, one byte each way, RST.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static int server(int port) {
  int s = listen_any(port, 4096);
  if (s < 0) return 1;
  printf("listening\n");
  fflush(stdout);
  signal(SIGCHLD, SIG_IGN);
  // Two acceptors share the socket (one core each); the second dies with the first.
  if (fork() == 0) prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (;;) {
    int c = accept(s, 0, 0);
    if (c < 0) continue;
    char b;
    if (read(c, &b, 1) == 1) (void)!write(c, &b, 1);
    close(c);
  }
}

static int client(const char *addr, int port, double secs, int n) {
  struct sockaddr_storage ss = {0};
  socklen_t len = parse_addr(addr, port, &ss);
  if (len == 0) return 2;
  int fds[2];
  if (pipe(fds)) return 1;
  double t0 = now();
  for (int i = 0; i < n; i++) {
    if (fork() == 0) {
      long ok = 0, err = 0;
      struct linger lg = {1, 0};
      int one = 1;
      while (now() - t0 < secs) {
        int s = socket(ss.ss_family, SOCK_STREAM, 0);
        setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char b = 'x';
        if (connect(s, (void *)&ss, len) == 0 && write(s, &b, 1) == 1 && read(s, &b, 1) == 1) ok++;
        else err++;
        close(s);
      }
      long r[2] = {ok, err};
      (void)!write(fds[1], r, sizeof r);
      _exit(0);
    }
  }
  long ok = 0, err = 0;
  for (int i = 0; i < n; i++) {
    long r[2];
    if (read(fds[0], r, sizeof r) == sizeof r) ok += r[0], err += r[1];
  }
  while (wait(0) > 0) {}
  printf("{\"conns\":%ld,\"errors\":%ld,\"seconds\":%.3f}\n", ok, err, now() - t0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "server")) return server(atoi(argv[2]));
  if (argc == 6 && !strcmp(argv[1], "client"))
    return client(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]));
  fprintf(stderr, "usage: conn_rate server PORT | client ADDR PORT SECONDS N\n");
  return 2;
}
