/*  zwatch_monitor: libzmq's v1 monitor event, as zmq_socket_monitor sends
    it: a 6-byte frame (uint16 event, uint32 value, host byte order) then
    the endpoint. Read with memcpy: the frame has no alignment.  */
#ifndef ZWATCH_MONITOR_H_INCLUDED
#define ZWATCH_MONITOR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zmq.h>

#define ZWATCH_MONITOR_FRAME_SIZE   6

//  The handshake failures libzmq 4.3 reports (stable since 4.3.0)
#define ZWATCH_HANDSHAKE_FAILURES   (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL \
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL  \
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

//  True if data is a v1 event frame; then *code and *value hold it
static inline bool
zwatch_monitor_parse (const void *data, size_t size, uint16_t *code, uint32_t *value)
{
    if (size != ZWATCH_MONITOR_FRAME_SIZE)
        return false;
    memcpy (code, data, sizeof (*code));
    memcpy (value, (const uint8_t *) data + sizeof (*code), sizeof (*value));
    return true;
}

#endif
