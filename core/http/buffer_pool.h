// Recycled string buffers for the bytes that flow through a worker: a streamed chunk is copied
// out of libcurl's buffer into a string taken here, moved through the filters and the connection
// into its write, and given back once the write is done, so a forwarded chunk allocates nothing
// once the pool is warm. One pool per thread (each worker loop is one thread), no locks.
#pragma once

#include <string>
#include <string_view>

namespace gemgate::http {

// An empty string holding the memory of a buffer given back earlier on this thread, or a new
// empty string when there is none. Call only on the thread that will also give it back (or let
// it be freed anywhere: a buffer that is never given back is simply a normal string).
std::string take_buffer();

// take_buffer() filled with `bytes`.
std::string take_buffer(std::string_view bytes);

// Keeps the memory of `buffer` for a later take_buffer() on this thread. Buffers too large to be
// worth keeping (over 64 KiB) or beyond the pool's size (256 per thread) are freed instead.
void give_back_buffer(std::string&& buffer);

}  // namespace gemgate::http
