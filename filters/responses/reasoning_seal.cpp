// The HMAC seal of reasoning items. See reasoning_seal.h.
#include "filters/responses/reasoning_seal.h"

#include <optional>

#include "core/crypto.h"

namespace gemgate::responses {

namespace {

constexpr std::string_view kPrefix = "ggr1.";
constexpr std::string_view kLabel = "gemgate/v1/responses-reasoning\n";
constexpr size_t kMaxPayloadBytes = 1u << 20;  // a sealed token larger than this is not ours

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]);
    int lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string raw(const std::array<uint8_t, 32>& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view message) {
  constexpr size_t kBlock = 64;
  std::string k = key.size() > kBlock ? raw(crypto::sha256(key)) : std::string(key);
  k.resize(kBlock, '\0');
  std::string inner(kBlock, '\0');
  std::string outer(kBlock, '\0');
  for (size_t i = 0; i < kBlock; ++i) {
    inner[i] = static_cast<char>(k[i] ^ 0x36);
    outer[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  inner.append(message);
  outer.append(raw(crypto::sha256(inner)));
  return raw(crypto::sha256(outer));
}

ReasoningSeal make_reasoning_seal(std::string key) {
  ReasoningSeal seal;
  seal.seal = [key](std::string_view payload) {
    std::string mac = hmac_sha256(key, std::string(kLabel) + std::string(payload));
    return std::string(kPrefix) + to_hex(payload) + "." + to_hex(mac);
  };
  seal.open = [key](std::string_view token) -> std::optional<std::string> {
    if (!token.starts_with(kPrefix) || token.size() > 2 * kMaxPayloadBytes) return std::nullopt;
    token.remove_prefix(kPrefix.size());
    size_t dot = token.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    auto payload = from_hex(token.substr(0, dot));
    auto mac = from_hex(token.substr(dot + 1));
    if (!payload || !mac) return std::nullopt;
    std::string expected = hmac_sha256(key, std::string(kLabel) + *payload);
    if (!crypto::constant_time_equals(expected, *mac)) return std::nullopt;
    return payload;
  };
  return seal;
}

}  // namespace gemgate::responses
