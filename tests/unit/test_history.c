/*  test_history: the broker's history ring on its own, no process, no
    socket: lone events copied, a batch frame's events kept in the frame
    (held by reference while any of them is in the ring, released with
    the last), the frames that are copied instead (few events, sparse),
    a ring smaller than a frame, and the bound on frames held. The caller
    closes every frame as soon as it is done with it, as the broker does:
    under ASan a byte read from a frame the ring let go of fails.  */

#include <string.h>
#include <zmq.h>
#include "testutil.h"
#include "zwatch_history.h"

//  An event body that says its number: "event <n>" padded to size bytes
static size_t
s_body (char *buf, size_t size, uint64_t number)
{
    memset (buf, '.', size);
    int len = snprintf (buf, size, "event %llu", (unsigned long long) number);
    buf [len] = '.';
    return size;
}

static void
s_check_event (zwatch_history_t *history, uint64_t number, size_t size)
{
    char expected [512];
    s_body (expected, size, number);
    size_t got_size = 0;
    const uint8_t *got = zwatch_history_get (history, number, &got_size);
    CHECK (got);
    CHECK_INT_EQ (got_size, size);
    CHECK (memcmp (got, expected, size) == 0);
}

//  A frame of count events of size bytes back to back, numbered from first,
//  with gap junk bytes after each (not kept: as an invalid map would be)
static void
s_add_frame (zwatch_history_t *history, uint64_t first, int count, size_t size, size_t gap)
{
    zmq_msg_t frame;
    CHECK (zmq_msg_init_size (&frame, (size_t) count * (size + gap)) == 0);
    uint8_t *data = (uint8_t *) zmq_msg_data (&frame);
    for (int index = 0; index < count; index++) {
        uint8_t *at = data + (size_t) index * (size + gap);
        s_body ((char *) at, size, first + (uint64_t) index);
        memset (at + size, 'x', gap);
    }
    zwatch_history_frame_begin (history, &frame);
    for (int index = 0; index < count; index++)
        zwatch_history_add_in (history, data + (size_t) index * (size + gap), size);
    CHECK_INT_EQ (zwatch_history_frame_end (history), 0);
    //  The broker's next receive replaces the frame at once (our reference
    //  goes; the bytes go with it unless the ring holds them)
    zmq_msg_close (&frame);
}

//  Lone events: copied, the ring keeps the last capacity of them
static void
test_lone (void)
{
    zwatch_history_t *history = zwatch_history_new (8);
    CHECK (history);
    char body [512];
    for (uint64_t number = 0; number < 20; number++) {
        size_t size = 40 + (size_t) (number * 37) % 300;      //  slots grow and shrink
        CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, size, number)), 0);
    }
    CHECK_INT_EQ (zwatch_history_end (history), 20);
    CHECK_INT_EQ (zwatch_history_begin (history), 12);
    CHECK_INT_EQ (zwatch_history_size (history), 8);
    CHECK_INT_EQ (zwatch_history_frames (history), 0);
    size_t size;
    CHECK (!zwatch_history_get (history, 11, &size));
    CHECK (!zwatch_history_get (history, 20, &size));
    for (uint64_t number = 12; number < 20; number++)
        s_check_event (history, number, 40 + (size_t) (number * 37) % 300);
    zwatch_history_destroy (&history);
    CHECK (!history);
}

//  Dense frames are held, not copied, and let go with their last event
static void
test_frames_held (void)
{
    zwatch_history_t *history = zwatch_history_new (64);
    CHECK (history);
    for (int frame = 0; frame < 10; frame++)
        s_add_frame (history, (uint64_t) frame * 16, 16, 100, 0);
    //  The ring holds events 96..159: frames 6..9 whole
    CHECK_INT_EQ (zwatch_history_begin (history), 96);
    CHECK_INT_EQ (zwatch_history_frames (history), 4);
    for (uint64_t number = 96; number < 160; number++)
        s_check_event (history, number, 100);
    //  One more lone event takes event 96's slot: frame 6 stays for 97..111
    char body [512];
    CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, 100, 160)), 0);
    CHECK_INT_EQ (zwatch_history_frames (history), 4);
    for (uint64_t number = 97; number <= 160; number++)
        s_check_event (history, number, 100);
    //  Fourteen more: frame 6 is held for its last event alone
    for (uint64_t number = 161; number < 175; number++)
        CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, 100, number)), 0);
    CHECK_INT_EQ (zwatch_history_frames (history), 4);
    s_check_event (history, 111, 100);
    //  One more: that event goes, and the frame with it
    CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, 100, 175)), 0);
    CHECK_INT_EQ (zwatch_history_frames (history), 3);
    for (uint64_t number = 112; number < 176; number++)
        s_check_event (history, number, 100);
    zwatch_history_destroy (&history);
}

//  Frames not worth holding: too few events, or mostly bytes not kept
static void
test_frames_copied (void)
{
    zwatch_history_t *history = zwatch_history_new (64);
    CHECK (history);
    s_add_frame (history, 0, 3, 100, 0);            //  3 events: copied
    CHECK_INT_EQ (zwatch_history_frames (history), 0);
    s_add_frame (history, 3, 8, 100, 120);          //  under half events: copied
    CHECK_INT_EQ (zwatch_history_frames (history), 0);
    s_add_frame (history, 11, 8, 100, 90);          //  over half: held
    CHECK_INT_EQ (zwatch_history_frames (history), 1);
    for (uint64_t number = 0; number < 19; number++)
        s_check_event (history, number, 100);
    //  A frame with no event kept (all invalid): nothing numbered, nothing held
    zmq_msg_t frame;
    CHECK (zmq_msg_init_size (&frame, 500) == 0);
    zwatch_history_frame_begin (history, &frame);
    CHECK_INT_EQ (zwatch_history_frame_end (history), 0);
    zmq_msg_close (&frame);
    CHECK_INT_EQ (zwatch_history_end (history), 19);
    CHECK_INT_EQ (zwatch_history_frames (history), 1);
    zwatch_history_destroy (&history);
}

//  A ring smaller than a frame keeps that frame's last events
static void
test_small_ring (void)
{
    zwatch_history_t *history = zwatch_history_new (5);
    CHECK (history);
    s_add_frame (history, 0, 16, 100, 0);
    CHECK_INT_EQ (zwatch_history_begin (history), 11);
    CHECK_INT_EQ (zwatch_history_frames (history), 1);
    for (uint64_t number = 11; number < 16; number++)
        s_check_event (history, number, 100);
    s_add_frame (history, 16, 16, 100, 0);
    CHECK_INT_EQ (zwatch_history_frames (history), 1);
    for (uint64_t number = 27; number < 32; number++)
        s_check_event (history, number, 100);
    //  Lone events take it all back: no frame left
    char body [512];
    for (uint64_t number = 32; number < 37; number++)
        CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, 64, number)), 0);
    CHECK_INT_EQ (zwatch_history_frames (history), 0);
    for (uint64_t number = 32; number < 37; number++)
        s_check_event (history, number, 64);
    zwatch_history_destroy (&history);
}

//  However frames and lone events mix, the frames held stay within
//  capacity / 4 + 2, and every event in the ring reads back as added
static void
test_bound (void)
{
    const size_t capacity = 1000;
    zwatch_history_t *history = zwatch_history_new (capacity);
    CHECK (history);
    uint64_t number = 0;
    size_t most = 0;
    char body [512];
    for (int step = 0; step < 5000; step++) {
        int count = 4 + step % 5;
        if (step % 3 == 2) {
            CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, 80, number)), 0);
            number++;
        }
        else {
            s_add_frame (history, number, count, 80, 0);
            number += (uint64_t) count;
        }
        size_t frames = zwatch_history_frames (history);
        most = frames > most? frames: most;
        CHECK (frames <= capacity / 4 + 2);
    }
    CHECK (most > capacity / 8);
    for (uint64_t at = zwatch_history_begin (history); at < number; at++)
        s_check_event (history, at, 80);
    //  Destroyed with frames held: each let go (no leak under ASan)
    zwatch_history_destroy (&history);
}

//  A ring of 0 keeps nothing, whatever comes
static void
test_none (void)
{
    zwatch_history_t *history = zwatch_history_new (0);
    CHECK (history);
    s_add_frame (history, 0, 8, 100, 0);
    char body [512];
    CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, 64, 0)), 0);
    CHECK_INT_EQ (zwatch_history_size (history), 0);
    CHECK_INT_EQ (zwatch_history_frames (history), 0);
    size_t size;
    CHECK (!zwatch_history_get (history, 0, &size));
    zwatch_history_destroy (&history);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "lone", test_lone }, { "frames_held", test_frames_held },
        { "frames_copied", test_frames_copied }, { "small_ring", test_small_ring },
        { "bound", test_bound }, { "none", test_none }
    };
    return tu_run_cases (argc, argv, "test_history", cases, sizeof (cases) / sizeof (cases [0]));
}
