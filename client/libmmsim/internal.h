/*
 * internal.h - what the files of libmmsim share and nobody else sees.
 *
 *   client.c  the connection, Hello, the request queue, the page calls.
 *   vm.c      the virtual-memory calls, built on client_call().
 */
#ifndef MMSIM_CLIENT_INTERNAL_H
#define MMSIM_CLIENT_INTERNAL_H

#include "mmsim/client.h"

/*
 * A blocking call: send @req, wait for its response, which must be OK and
 * carry @want (MMSIM__V1__RESPONSE__RESULT__NOT_SET: any, or none).
 * Return: 0 with *@resp set (free with mmsim_client_pb_free()), or < 0
 * with the client's status and message set.
 */
int client_call(struct mmsim_client *c, Mmsim__V1__Request *req,
                Mmsim__V1__Response__ResultCase want,
                Mmsim__V1__Response **resp);
/* A bad argument: set the message. Return: MMSIM_CLIENT_EINVAL. */
int client_invalid(struct mmsim_client *c, const char *what);
/* The server broke the protocol: close. Return: MMSIM_CLIENT_EPROTO. */
int client_broken(struct mmsim_client *c, const char *what);

#endif /* MMSIM_CLIENT_INTERNAL_H */
