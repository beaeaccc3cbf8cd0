#include "filters/upstream/upstream_filter.h"

#include <cctype>
#include <rapidjson/document.h>

#include "core/exchange.h"
#include "core/http/buffer_pool.h"
#include "core/log.h"
#include "core/worker.h"
#include "filters/common/request_id.h"
#include "filters/common/upstream_attempt.h"
#include "filters/upstream/usage_scanner.h"
#include "transports/transport.h"

namespace gemgate::upstream {

namespace {

struct UpstreamConfig {
  std::string base_url;
  int64_t max_response_bytes = 32 * 1024 * 1024;
  bool forward_upload_headers = false;  // the x-goog-upload-* headers of Google's upload protocol
};

// Request headers a client may send on to Google (everything else stays here).
constexpr std::string_view kForwardRequest[] = {"content-type", "accept", "accept-language",
                                                "x-goog-api-client", "x-goog-api-key"};
// Response headers passed back to the client.
constexpr std::string_view kForwardResponse[] = {"content-type", "cache-control", "retry-after",
                                                 "x-gemini-service-tier"};

// With forward_upload_headers: the answer headers of Google's upload protocol a client reads.
// X-Goog-Upload-URL names Google's session: the `files` filter above replaces it.
constexpr std::string_view kUploadResponse[] = {"x-goog-upload-url", "x-goog-upload-status",
                                                "x-goog-upload-size-received",
                                                "x-goog-upload-chunk-granularity"};

// True for a request header of Google's upload protocol (X-Goog-Upload-Command, -Offset, ...).
bool upload_request_header(std::string_view name) {
  constexpr std::string_view kPrefix = "x-goog-upload-";
  return name.size() > kPrefix.size() && http::iequals(name.substr(0, kPrefix.size()), kPrefix);
}

// True when the answer's content-type is text/event-stream (parameters and case ignored).
bool is_event_stream(const http::HeaderMap& headers) {
  const std::string* type = headers.get("content-type");
  if (!type) return false;
  std::string_view t(*type);
  t = t.substr(0, t.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return http::iequals(t, "text/event-stream");
}

// True when the request asks for an answer that streams (SSE), judged from the head alone:
// only to lift the whole-call deadline, since whether it streams is the answer's to say.
bool asks_for_stream(const http::Request& in) {
  if (in.path.find(":streamGenerateContent") != std::string::npos) return true;
  const std::string* accept = in.headers.get("accept");
  return accept && accept->find("text/event-stream") != std::string::npos;
}

bool listed(std::string_view name, const std::string_view* list, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (http::iequals(name, list[i])) return true;
  }
  return false;
}

class UpstreamFilter final : public TerminalFilter, public transport::UpstreamHandler {
 public:
  explicit UpstreamFilter(std::shared_ptr<const UpstreamConfig> config)
      : config_(std::move(config)) {}

  Status on_request(TerminalCallbacks& x) override {
    x_ = &x;
    auto transport = x.worker().services().get<transport::Transport>();
    if (!transport) {
      x.reply_local(500, "INTERNAL", "no upstream transport on this worker");
      return Status::Stop;
    }
    const http::Request& in = x.request();
    const Settings& settings = x.settings();
    transport::UpstreamRequest req;
    req.method = in.method;
    // base_url + path [+ '?' + query], built in place (no temporaries).
    req.url.reserve(config_->base_url.size() + in.path.size() + 1 + in.query.size());
    req.url.append(config_->base_url).append(in.path);
    if (!in.query.empty()) req.url.append(1, '?').append(in.query);
    req.headers.reserve(std::size(kForwardRequest));
    for (const auto& [name, value] : in.headers.entries()) {
      if (listed(name, kForwardRequest, std::size(kForwardRequest)) ||
          (config_->forward_upload_headers && upload_request_header(name))) {
        req.headers.add(name, value);
      }
    }
    if (const rapidjson::Value* extra = settings.get(kExtraHeaders); extra && extra->IsObject()) {
      for (const auto& m : extra->GetObject()) {
        if (m.value.IsString()) req.headers.set(m.name.GetString(), m.value.GetString());
      }
    }
    // The body moves to the transfer (shared with the replay point's copy when that is the
    // same): nothing below reads it again, and a retry restores the request from that copy.
    req.body = x.take_request_body();
    // A streamed body (a route with stream_body) goes to the transfer as it arrives. It stays
    // on the request too: a retry may send it again while it can still be rewound.
    req.body_stream = in.body_stream;
    bool streams = asks_for_stream(in);
    // Gemini's stream without alt=sse is a JSON array sent piece by piece: streamed by its path.
    stream_path_ = in.path.find(":streamGenerateContent") != std::string::npos;
    // A stream trickles for its whole life: a small receive buffer (see UpstreamRequest).
    req.long_lived = streams || stream_path_;
    req.timeouts.connect_ms = settings.get(kConnectTimeoutMs);
    req.timeouts.first_byte_ms = settings.get(kFirstByteTimeoutMs);
    req.timeouts.idle_ms = settings.get(kIdleTimeoutMs);
    // A stream, or an upload of unknown duration, is bounded by the idle deadline instead.
    req.timeouts.total_ms = streams || req.body_stream ? 0 : settings.get(kTotalTimeoutMs);
    // A pool key with a proxy of its own always leaves through it (keys sets it per attempt).
    const std::string& key_proxy = x.run_slot<AttemptProxy>().url;
    req.proxy = key_proxy.empty() ? settings.get(kProxy) : key_proxy;
    x.info().attempts++;
    x.run_slot<UpstreamAttempt>() = {};
    x.set_flow_control([this](bool blocked) {
      if (!transfer_) return;
      if (blocked)
        transfer_->pause();
      else
        transfer_->resume();
    });
    transfer_ = transport->start(std::move(req), *this);
    return Status::Stop;
  }

  void on_done(const FilterCallbacks&) override { transfer_.reset(); }

  void on_upstream_head(int status, http::HeaderMap headers) override {
    status_ = status;
    headers_ = std::move(headers);
    // Any successful event stream is forwarded as it comes, on any route and method (Gemini's
    // :streamGenerateContent, Interactions with stream: true, whatever Google adds); everything
    // else is buffered so filters above see the whole answer.
    if (status >= 200 && status < 300 && (stream_path_ || is_event_stream(headers_))) {
      // A stream nobody announced in the request (Interactions with stream: true in the body):
      // from here the idle deadline bounds it, not the whole-call one.
      if (transfer_) transfer_->end_total_deadline();
      http::Response& r = x_->response();
      r.status = status;
      move_headers(r);
      r.streaming = true;
      head_delivered_ = true;
      x_->deliver_head();
    }
  }

  void on_upstream_data(std::string_view chunk) override {
    if (head_delivered_) {
      usage_.feed(chunk);
      x_->info().usage = usage_.usage();
      x_->deliver_data(http::take_buffer(chunk), false);  // no allocation once warm
      return;
    }
    if (body_.size() + chunk.size() > static_cast<size_t>(config_->max_response_bytes)) {
      transport::Failure f{transport::FailureKind::kProtocol,
                           "upstream answer is larger than the limit", true};
      transfer_.reset();  // cancels; allowed from inside the transfer's own callback
      fail(f);
      return;
    }
    body_.append(chunk);
  }

  void on_upstream_done(const transport::Failure* failure) override {
    if (failure) {
      fail(*failure);
      return;
    }
    if (head_delivered_) {
      x_->deliver_data(std::string(), true);
      return;
    }
    http::Response& r = x_->response();
    r.status = status_;
    move_headers(r);
    if (status_ >= 200 && status_ < 300) {
      usage_.feed(body_);
      x_->info().usage = usage_.usage();
    }
    r.body = std::move(body_);
    x_->deliver_head();
  }

 private:
  // Moves the forwarded fields of the upstream's head into `r` and lets go of the rest (read
  // once per attempt): a stream holds its head once, not twice, for as long as it flows.
  void move_headers(http::Response& r) {
    // Room for what is forwarded and the x-request-id the exchange adds: one allocation.
    r.headers.reserve(r.headers.size() + std::size(kForwardResponse) + 1);
    for (auto& [name, value] : headers_.take_entries()) {
      if (listed(name, kForwardResponse, std::size(kForwardResponse)) ||
          (config_->forward_upload_headers &&
           listed(name, kUploadResponse, std::size(kUploadResponse)))) {
        r.headers.add(std::move(name), std::move(value));
      }
    }
  }

  // The client learns what kind of failure it was and a request id to quote; the transport's
  // detail (it names the upstream's address and port) goes to the log only.
  void fail(const transport::Failure& f) {
    UpstreamAttempt& attempt = x_->run_slot<UpstreamAttempt>();
    attempt.failure = f.kind;
    attempt.message = f.message;
    attempt.response_started = f.response_started || head_delivered_;
    const std::string& id = common::request_id(*x_);
    log::warn("upstream " + std::string(attempt.failure_name()) + " failure (request id " + id +
              "): " + f.message);
    http::LocalError e;
    if (f.kind == transport::FailureKind::kTimeout) {
      e = {504, "DEADLINE_EXCEEDED", "the upstream API did not answer in time", ""};
    } else if (f.kind == transport::FailureKind::kConnectFailed) {
      e = {502, "UNAVAILABLE", "could not reach the upstream API", ""};
    } else {
      e = {502, "UNAVAILABLE", "the connection to the upstream API failed", ""};
    }
    if (x_->committed()) {
      e.message += " (request id " + id + ")";
      x_->deliver_failure(std::move(e));  // ends the stream; the log keeps the detail
      return;
    }
    x_->info().error = f.message;  // for the log row, as deliver_failure would
    x_->respond(common::error_with_request_id(*x_, std::move(e)));
  }

  std::shared_ptr<const UpstreamConfig> config_;
  TerminalCallbacks* x_ = nullptr;  // valid until on_done
  std::unique_ptr<transport::Transfer> transfer_;
  bool stream_path_ = false;
  bool head_delivered_ = false;
  int status_ = 0;
  http::HeaderMap headers_;
  std::string body_;
  UsageScanner usage_;
};

std::string check_proxy(const rapidjson::Value& v) {
  std::string_view s(v.GetString(), v.GetStringLength());
  if (s.empty()) return "";
  for (std::string_view scheme : {"http://", "https://", "socks5://", "socks5h://", "socks4://"}) {
    if (s.starts_with(scheme) && s.size() > scheme.size()) return "";
  }
  return "must be empty or a proxy URL starting with http://, https://, socks5:// or socks5h://";
}

std::string check_headers(const rapidjson::Value& v) {
  if (!v.IsObject()) return "must be an object of header names to string values";
  for (const auto& m : v.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (!m.value.IsString()) return "value of '" + std::string(name) + "' must be a string";
    if (name.empty() || http::is_hop_by_hop(name) || http::iequals(name, "x-goog-api-key") ||
        http::iequals(name, "authorization")) {
      return "header '" + std::string(name) + "' cannot be set";
    }
    for (char c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
        return "header name '" + std::string(name) + "' is not a valid token";
      }
    }
    for (char c : std::string_view(m.value.GetString(), m.value.GetStringLength())) {
      if (c == '\r' || c == '\n' || c == '\0')
        return "value of '" + std::string(name) + "' has a line break";
    }
  }
  return "";
}

}  // namespace

Result<void> register_upstream_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kConnectTimeoutMs.with({.description = "Connect (TCP + TLS) deadline for upstream calls.",
                              .default_json = "10000",
                              .min = 100,
                              .max = 600000}),
      kFirstByteTimeoutMs.with({.description = "Deadline for the upstream's response head.",
                                .default_json = "300000",
                                .min = 100,
                                .max = 3600000}),
      kIdleTimeoutMs.with(
          {.description = "Longest silence between two chunks of an upstream answer.",
           .default_json = "120000",
           .min = 100,
           .max = 3600000}),
      kTotalTimeoutMs.with({.description = "Deadline for a whole non-streaming upstream call.",
                            .default_json = "600000",
                            .min = 100,
                            .max = 3600000}),
      kProxy.with({.description = "Proxy for upstream calls (http://, https://, socks5://); empty "
                                  "for direct.",
                   .default_json = "\"\"",
                   .check = &check_proxy,
                   .masked_url = true}),
      kExtraHeaders.with(
          {.description = "Extra headers sent on every upstream call, as {\"name\": \"value\"}.",
           .default_json = "{}",
           .check = &check_headers}),
  });
  if (!declared.ok()) return declared;
  return registry.add_filter(FilterDef<UpstreamConfig>{
      .name = "upstream",
      .summary = "sends the request to Google and streams the answer back (terminal)",
      .terminal = true,
      .fields = {field::base_url("base_url", &UpstreamConfig::base_url),
                 field::size("max_response_bytes", &UpstreamConfig::max_response_bytes),
                 field::flag("forward_upload_headers", &UpstreamConfig::forward_upload_headers)},
      .build = [](const FilterBuild<UpstreamConfig>& b) -> std::optional<FilterFactory> {
        return FilterFactory([c = b.config] { return std::make_unique<UpstreamFilter>(c); });
      },
  });
}

}  // namespace gemgate::upstream
