// The `files` filter. See files_filter.h.
#include "filters/files/files_filter.h"

#include <chrono>

#include "core/crypto.h"
#include "core/document_store.h"
#include "core/filter_callbacks.h"
#include "filters/common/key_pin.h"
#include "filters/files/upload_ticket.h"

namespace gemgate::files {

namespace {

struct FilesConfig {
  int64_t session_ttl_ms = 48LL * 3600 * 1000;
  bool trust_forwarded_proto = false;
};

constexpr std::string_view kUploadUrlHeader = "x-goog-upload-url";
constexpr std::string_view kUploadSegment = "/upload/";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A Host header that can go into a URL as it is: a host name or address and an optional port.
bool plain_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

// Google's session URL without scheme and host ("/upload/v1beta/files?upload_id=..."), with any
// `key` parameter dropped (a pool key must never travel inside a ticket); "" when it is no
// absolute http(s) URL.
std::string google_target(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return "";
  std::string_view target = rest.substr(slash);
  size_t q = target.find('?');
  std::string out(target.substr(0, q));
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  std::string kept;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty() || param == "key" || param.starts_with("key=")) continue;
    if (!kept.empty()) kept += '&';
    kept += param;
  }
  if (!kept.empty()) out += "?" + kept;
  return out;
}

class FilesFilter final : public Filter {
 public:
  FilesFilter(std::shared_ptr<const FilesConfig> config, std::shared_ptr<const UploadSealer> sealer)
      : config_(std::move(config)), sealer_(std::move(sealer)) {}

  Status on_request_headers(FilterCallbacks& x) override {
    http::Request& req = x.request();
    size_t at = req.path.find(kUploadSegment);
    if (at == std::string::npos) {
      x.reply_local(404, "NOT_FOUND", "not an upload path: uploads go to .../upload/v1beta/files");
      return Status::Stop;
    }
    prefix_ = req.path.substr(0, at);
    client_path_ = req.path;
    if (!origin(x)) {
      x.reply_local(400, "INVALID_ARGUMENT",
                    "an upload needs a Host header naming this gateway (the upload URL is built "
                    "from it)");
      return Status::Stop;
    }
    std::optional<std::string> id = req.query_param("upload_id");
    if (!id) return start_upload(x);
    return continue_session(x, *id);
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    const std::string* google = r.headers.get(kUploadUrlHeader);
    if (!google) return Status::Continue;
    std::string gateway_url;
    if (!session_id_.empty()) {
      gateway_url = upload_url(session_id_);  // the client keeps its own URL
    } else if (r.status >= 200 && r.status < 300 && x.info().key_id >= 0) {
      std::string target = google_target(*google);
      if (!target.empty()) {
        UploadTicket t{x.info().key_id, x.info().token_id, now_ms() + config_->session_ttl_ms,
                       std::move(target)};
        gateway_url = upload_url(sealer_->seal(t));
      }
    }
    // Google's own URL never reaches the client: replaced, or dropped when it cannot be.
    if (gateway_url.empty()) {
      r.headers.remove(kUploadUrlHeader);
    } else {
      r.headers.set(kUploadUrlHeader, std::move(gateway_url));
    }
    return Status::Continue;
  }

 private:
  // A new upload: sent to Google on whatever key `keys` picks, without the path prefix. A
  // resumable command other than `start` needs the session's URL.
  Status start_upload(FilterCallbacks& x) {
    http::Request& req = x.request();
    const std::string_view protocol = req.headers.get_or("x-goog-upload-protocol", "");
    const std::string_view command = req.headers.get_or("x-goog-upload-command", "");
    if (http::iequals(protocol, "resumable") && command.find("start") == std::string_view::npos) {
      x.info().error_kind = "upload_session";
      x.reply_local(400, "INVALID_ARGUMENT",
                    "X-Goog-Upload-Command '" + clip(command) +
                        "' needs the upload URL the 'start' command answered with");
      return Status::Stop;
    }
    req.path = req.path.substr(prefix_.size());
    return Status::Continue;
  }

  // A call on a gateway upload URL: opened, checked against the caller, pinned to the key.
  Status continue_session(FilterCallbacks& x, const std::string& id) {
    std::optional<UploadTicket> t = sealer_->open(id, now_ms());
    if (!t || t->token_id != x.info().token_id) {
      // Forged, altered, expired or another token's: the same answer, so an id reveals nothing.
      x.info().error_kind = "upload_session";
      x.reply_local(404, "NOT_FOUND",
                    "no upload session has this upload_id (unknown, expired, or started with "
                    "another token); start the upload again");
      return Status::Stop;
    }
    http::Request& req = x.request();
    size_t q = t->google_target.find('?');
    req.path = t->google_target.substr(0, q);
    req.query = q == std::string::npos ? std::string() : t->google_target.substr(q + 1);
    x.slot<common::KeyPin>() = {t->key_id, "the upload session"};
    session_id_ = id;
    return Status::Continue;
  }

  // Sets origin_ ("http://host:port") from the request; false without a usable Host.
  bool origin(FilterCallbacks& x) {
    const http::Request& req = x.request();
    const std::string* host = req.headers.get("host");
    if (!host || !plain_host(*host)) return false;
    std::string scheme = "http";
    if (config_->trust_forwarded_proto) {
      std::string_view proto = req.headers.get_or("x-forwarded-proto", "");
      if (http::iequals(proto, "https")) scheme = "https";
    }
    origin_ = scheme + "://" + *host;
    return true;
  }

  std::string upload_url(const std::string& id) const {
    return origin_ + client_path_ + "?upload_id=" + id + "&upload_protocol=resumable";
  }

  static std::string clip(std::string_view s) {
    std::string out(s.substr(0, 40));
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return out;
  }

  std::shared_ptr<const FilesConfig> config_;
  std::shared_ptr<const UploadSealer> sealer_;
  std::string prefix_;       // the client's path prefix in front of /upload/ ("/gemini" or "")
  std::string client_path_;  // the path as the client sent it (prefix included)
  std::string origin_;       // "http://host[:port]" of this gateway as the client named it
  std::string session_id_;   // the gateway upload id of a call on a session, "" for a new one
};

}  // namespace

Result<void> register_files_filter(Registry& registry) {
  return registry.add_filter(FilterDef<FilesConfig>{
      .name = "files",
      .summary = "Google's upload protocols: opaque upload URLs bound to the key and token",
      .fields =
          {
              {"session_ttl",
               [](const ConfigNode& n, std::string_view k, FilesConfig& c, ConfigErrors& e) {
                 config::read_duration_ms(n, k, &c.session_ttl_ms, e);
               },
               [](const ConfigNode& n, std::string_view k, std::string_view filter, FilesConfig& c,
                  ConfigErrors& e) {
                 if (c.session_ttl_ms < 1000 || c.session_ttl_ms > 7LL * 24 * 3600 * 1000) {
                   const ConfigNode* at = n.get(k);
                   e.add(at ? at->mark() : n.mark(), std::string(filter) + " '" + std::string(k) +
                                                         "' must be between 1s and 7 days");
                 }
               }},
              field::flag("trust_forwarded_proto", &FilesConfig::trust_forwarded_proto),
          },
      .build = [](const FilterBuild<FilesConfig>& b) -> std::optional<FilterFactory> {
        auto store = b.ctx.services.get<DocumentStore>();  // optional (see files_filter.h)
        static const std::string process_secret = crypto::random_token("", 32);
        auto sealer =
            std::make_shared<const UploadSealer>(store ? store->mac_secret() : process_secret);
        return FilterFactory(
            [c = b.config, sealer] { return std::make_unique<FilesFilter>(c, sealer); });
      },
  });
}

}  // namespace gemgate::files
