// Small, dependency-free security helpers: SHA-256 (for storing client tokens and session ids as
// hashes only), constant-time comparison, and random tokens from the kernel's CSPRNG.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gemgate::crypto {

// Returns the SHA-256 digest of `data`. Uses the CPU's SHA extensions (SHA-NI) when it has them.
std::array<uint8_t, 32> sha256(std::string_view data);
// Returns the SHA-256 digest of `data` as 64 lower-case hex characters.
std::string sha256_hex(std::string_view data);

// Compares two strings in time that depends only on their lengths, not their contents.
bool constant_time_equals(std::string_view a, std::string_view b);

// Returns `bytes` random bytes from getrandom(2), encoded base62 (URL- and header-safe), with
// `prefix` in front. 24 bytes give ~190 bits. The bytes come from a per-thread block of
// getrandom output (one system call per 256 bytes), each used once. Aborts the process if the
// kernel cannot supply randomness (never silently weak). Thread-safe.
std::string random_token(std::string_view prefix, size_t bytes = 24);

namespace detail {
// For tests: sha256() computed without CPU extensions (the reference the fast path must match).
std::array<uint8_t, 32> sha256_portable(std::string_view data);
}  // namespace detail

}  // namespace gemgate::crypto
