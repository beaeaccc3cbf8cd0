#include "filters/openai/translate/detail/audio.h"

#include <cctype>

namespace gemgate::openai::detail {

namespace {

struct VoicePair {
  std::string_view openai;
  std::string_view gemini;
};

// Chosen by character: neutral voices to Gemini's firm/clear ones, deep to gravelly, bright to
// bright, warm to warm.
constexpr VoicePair kOpenAIVoices[] = {
    {"alloy", "Kore"},    {"ash", "Orus"},       {"ballad", "Aoede"}, {"coral", "Leda"},
    {"echo", "Charon"},   {"fable", "Fenrir"},   {"onyx", "Algenib"}, {"nova", "Autonoe"},
    {"sage", "Iapetus"},  {"shimmer", "Zephyr"}, {"verse", "Puck"},   {"marin", "Achird"},
    {"cedar", "Sulafat"},
};

// Gemini's 30 prebuilt voices.
constexpr std::string_view kGeminiVoices[] = {
    "Zephyr",    "Puck",          "Charon",       "Kore",      "Fenrir",     "Leda",
    "Orus",      "Aoede",         "Callirrhoe",   "Autonoe",   "Enceladus",  "Iapetus",
    "Umbriel",   "Algieba",       "Despina",      "Erinome",   "Algenib",    "Rasalgethi",
    "Laomedeia", "Achernar",      "Alnilam",      "Schedar",   "Gacrux",     "Pulcherrima",
    "Achird",    "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

void put_le(std::string& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

std::optional<std::string_view> gemini_voice(std::string_view name) {
  for (const VoicePair& p : kOpenAIVoices) {
    if (iequals(p.openai, name)) return p.gemini;
  }
  for (std::string_view g : kGeminiVoices) {
    if (iequals(g, name)) return g;
  }
  return std::nullopt;
}

std::string accepted_voices() {
  std::string out = "OpenAI voices (";
  for (const VoicePair& p : kOpenAIVoices) {
    out += std::string(p.openai) + "→" + std::string(p.gemini);
    out += &p == &kOpenAIVoices[std::size(kOpenAIVoices) - 1] ? "" : ", ";
  }
  out += ") or Gemini voices (";
  for (std::string_view g : kGeminiVoices) {
    out += std::string(g);
    out += g == kGeminiVoices[std::size(kGeminiVoices) - 1] ? "" : ", ";
  }
  return out + ")";
}

Expected<std::string> read_voice(const Value* voice, const std::string& param) {
  if (!voice) return missing_param(param);
  const Value* name = voice;
  std::string where = param;
  if (voice->IsObject()) {
    name = field(*voice, "id");
    where = join(param, "id");
    if (!name) return missing_param(where);
  }
  if (!name->IsString()) return wrong_type(where, "a string", *name);
  auto mapped = gemini_voice(sv(*name));
  if (!mapped) {
    return OpenAIError::invalid("The voice '" + echo(sv(*name)) +
                                    "' is not available. Use one of the " + accepted_voices() + ".",
                                where, "invalid_value");
  }
  return std::string(*mapped);
}

Value speech_config(std::string_view voice, Alloc& a) {
  Value prebuilt(rapidjson::kObjectType);
  add(prebuilt, "voiceName", voice, a);
  Value voice_config(rapidjson::kObjectType);
  add(voice_config, "prebuiltVoiceConfig", std::move(prebuilt), a);
  Value out(rapidjson::kObjectType);
  add(out, "voiceConfig", std::move(voice_config), a);
  return out;
}

int pcm_rate(std::string_view mime) {
  size_t at = mime.find("rate=");
  if (at == std::string_view::npos) return 24000;
  int rate = 0;
  for (size_t i = at + 5; i < mime.size() && std::isdigit(static_cast<unsigned char>(mime[i]));
       ++i) {
    rate = rate * 10 + (mime[i] - '0');
    if (rate > 1000000) return 24000;
  }
  return rate >= 1000 ? rate : 24000;
}

std::string wav_header(size_t data_bytes, int rate) {
  constexpr int kChannels = 1, kBits = 16;
  std::string h;
  h.reserve(44);
  h += "RIFF";
  put_le(h, static_cast<uint32_t>(36 + data_bytes), 4);
  h += "WAVEfmt ";
  put_le(h, 16, 4);  // fmt chunk size
  put_le(h, 1, 2);   // PCM
  put_le(h, kChannels, 2);
  put_le(h, static_cast<uint32_t>(rate), 4);
  put_le(h, static_cast<uint32_t>(rate * kChannels * kBits / 8), 4);  // byte rate
  put_le(h, kChannels * kBits / 8, 2);                                // block align
  put_le(h, kBits, 2);
  h += "data";
  put_le(h, static_cast<uint32_t>(data_bytes), 4);
  return h;
}

}  // namespace gemgate::openai::detail
