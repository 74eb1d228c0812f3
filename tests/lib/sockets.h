/* sockets.h: loopback sockets for the unit tests that run real peers. */
#ifndef BERTH_TEST_SOCKETS_H
#define BERTH_TEST_SOCKETS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* A TCP socket listening on 127.0.0.1 at a port the kernel picked. */
__attribute__((unused)) static int listen_any(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0)
        abort();
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A loopback port free a moment ago. */
__attribute__((unused)) static uint16_t free_port(void)
{
    uint16_t p;
    close(listen_any(&p));
    return p;
}

#endif
