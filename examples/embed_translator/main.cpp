// embed_translator: gemgate's OpenAI ⇄ Gemini translator used from another program, through its
// public header only.
//
//   embed_translator request [FILE|-]          OpenAI chat request → Gemini path + body
//   embed_translator stream FILE [--request REQ] [--usage] [--reasoning]
//                                              Gemini SSE stream → OpenAI SSE stream
//
// `request` prints the upstream path on the first line and the Gemini JSON body on the second;
// http(s) images are reported, not downloaded (this example does no I/O beyond files).
// `stream` reads a saved `streamGenerateContent?alt=sse` reply and feeds it to the stream
// translator in small pieces, as a network would. With --request, the response context (model,
// n, include_usage, reasoning, ...) comes from translating that OpenAI request, as in the gateway;
// without it, a default context is used and --usage / --reasoning set its two switches.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "filters/openai/translate/translate.h"

namespace oa = gemgate::openai;

namespace {

bool read_input(const std::string& path, std::string* out) {
  if (path == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin), {});
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

int usage() {
  std::fprintf(stderr,
               "usage: embed_translator request [FILE|-]\n"
               "       embed_translator stream FILE [--request REQ] [--usage] [--reasoning]\n");
  return 2;
}

int translate_request(const std::string& path) {
  std::string body;
  if (!read_input(path, &body)) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  auto urls = oa::list_remote_media(body);
  if (urls && !urls->empty()) {
    for (const auto& u : *urls) std::fprintf(stderr, "note: would download %s\n", u.c_str());
    std::fprintf(stderr, "note: this example does not download; the request will be refused\n");
  }
  auto req = oa::translate_chat_request(body);
  if (!req) {
    std::printf("HTTP %d\n%s\n", req.error().status, req.error().to_json().c_str());
    return 1;
  }
  std::printf("POST %s\n%s\n", req->path.c_str(), req->body.c_str());
  return 0;
}

int translate_stream(const std::string& path, const std::string& request_path, bool usage,
                     bool reasoning) {
  std::string sse;
  if (!read_input(path, &sse)) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  oa::ChatContext ctx;
  if (!request_path.empty()) {  // the gateway's way: the context comes with the translated request
    std::string body;
    if (!read_input(request_path, &body)) {
      std::fprintf(stderr, "cannot read %s\n", request_path.c_str());
      return 1;
    }
    auto req = oa::translate_chat_request(body);
    if (!req) {
      std::fprintf(stderr, "request: %s\n", req.error().to_json().c_str());
      return 1;
    }
    ctx = req->context;
  } else {
    ctx.model = "gemini-2.5-flash";
    ctx.upstream_model = ctx.model;
    ctx.stream = true;
  }
  ctx.include_usage = ctx.include_usage || usage;
  ctx.include_reasoning = ctx.include_reasoning || reasoning;
  oa::ChatStreamTranslator t(ctx, {"chatcmpl-example", static_cast<int64_t>(std::time(nullptr))});
  std::string out;
  constexpr size_t kPiece = 7;  // deliberately awkward, like real network reads
  for (size_t i = 0; i < sse.size(); i += kPiece) {
    t.feed(std::string_view(sse).substr(i, kPiece), out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  }
  t.finish(out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return t.failed() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  if (cmd == "request") return translate_request(argc > 2 ? argv[2] : "-");
  if (cmd == "stream" && argc > 2) {
    bool with_usage = false, reasoning = false;
    std::string request_path;
    for (int i = 3; i < argc; ++i) {
      std::string flag = argv[i];
      if (flag == "--request" && i + 1 < argc) {
        request_path = argv[++i];
      } else if (flag == "--usage") {
        with_usage = true;
      } else if (flag == "--reasoning") {
        reasoning = true;
      } else {
        return usage();
      }
    }
    return translate_stream(argv[2], request_path, with_usage, reasoning);
  }
  return usage();
}
