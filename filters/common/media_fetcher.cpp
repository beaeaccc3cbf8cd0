#include "filters/common/media_fetcher.h"

#include <arpa/inet.h>
#include <cstring>

#include "transports/transport.h"

namespace gemgate {

namespace {

// The host of an http(s) URL, without brackets or port; "" when malformed.
std::string host_of(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    return close == std::string_view::npos ? "" : std::string(rest.substr(1, close - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

bool private_address(const std::string& host) {
  std::string h;
  for (char c : host) h.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (h == "localhost" || (h.size() > 10 && h.substr(h.size() - 10) == ".localhost") ||
      h == "0.0.0.0") {
    return true;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    uint32_t a = ntohl(v4.s_addr);
    return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 24) == 0 || (a >> 20) == (172u << 4 | 1) ||
           (a >> 16) == (192u << 8 | 168) || (a >> 16) == (169u << 8 | 254) ||
           (a >> 22) == (100u << 2 | 1);  // 100.64/10 carrier-grade NAT
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static const uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(v6.s6_addr, kLoopback, 16) == 0 || (v6.s6_addr[0] & 0xfe) == 0xfc ||
           (v6.s6_addr[0] == 0xfe && (v6.s6_addr[1] & 0xc0) == 0x80);
  }
  return false;
}

}  // namespace

std::string fetch_refusal(std::string_view url, bool allow_private) {
  if (url.substr(0, 7) != "http://" && url.substr(0, 8) != "https://") {
    return "only http and https image URLs can be fetched";
  }
  std::string host = host_of(url);
  if (host.empty()) return "the image URL has no host";
  if (!allow_private && private_address(host)) {
    return "image URLs on local or private addresses are not fetched (" + host + ")";
  }
  return "";
}

struct MediaFetcher::Download final : transport::UpstreamHandler {
  MediaFetcher* owner = nullptr;
  std::string url;
  std::string host;
  std::string content_type;
  std::string bytes;
  int status = 0;
  bool done = false;
  std::unique_ptr<transport::Transfer> transfer;

  void on_upstream_head(int s, http::HeaderMap headers) override {
    status = s;
    content_type = std::string(headers.get_or("content-type", ""));
  }
  void on_upstream_data(std::string_view chunk) override {
    if (done) return;
    bytes.append(chunk);
    owner->in_flight_bytes_ += chunk.size();
    if (owner->in_flight_bytes_ > owner->limits_.max_total_bytes) {
      done = true;
      transfer.reset();
      owner->finished(*this, "the linked images are larger than " +
                                 std::to_string(owner->limits_.max_total_bytes / (1024 * 1024)) +
                                 " MiB in all");
      return;
    }
    if (bytes.size() > owner->limits_.max_file_bytes) {
      done = true;
      transfer.reset();
      owner->finished(*this, "the image at " + host + " is larger than " +
                                 std::to_string(owner->limits_.max_file_bytes / (1024 * 1024)) +
                                 " MiB");
    }
  }
  void on_upstream_done(const transport::Failure* failure) override {
    if (done) return;
    done = true;
    if (failure) {
      // One message for every way a download can fail: the client must not learn which hosts or
      // ports answer (no port scanning through the gateway).
      owner->finished(*this, "could not download the image at " + host);
    } else if (status < 200 || status >= 300) {
      owner->finished(*this, "could not download the image at " + host);
    } else {
      owner->finished(*this, "");
    }
  }
};

MediaFetcher::MediaFetcher(Worker& worker, std::vector<std::string> urls, const FetchLimits& limits,
                           Done done)
    : worker_(worker), limits_(limits), done_(std::move(done)) {
  if (urls.size() > limits_.max_files) {
    problem_ = "a request may link at most " + std::to_string(limits_.max_files) + " images";
    urls.clear();
  }
  auto transport = worker_.services().get<transport::Transport>();
  for (const std::string& url : urls) {
    if (std::string why = fetch_refusal(url, limits_.allow_private); !why.empty()) {
      if (problem_.empty()) problem_ = why;
      continue;
    }
    if (!transport) {
      if (problem_.empty()) problem_ = "no transport to fetch images with";
      continue;
    }
    auto d = std::make_unique<Download>();
    d->owner = this;
    d->url = url;
    d->host = host_of(url);
    transport::UpstreamRequest req;
    req.method = "GET";
    req.url = url;
    req.timeouts.connect_ms = std::min<int64_t>(limits_.timeout_ms, 10'000);
    req.timeouts.first_byte_ms = limits_.timeout_ms;
    req.timeouts.total_ms = limits_.timeout_ms;
    // Checked again on the address actually connected to (after DNS, for every spelling of an
    // IP): the literal check above is only the fast path.
    req.refuse_private_addresses = !limits_.allow_private;
    ++pending_;
    Download& ref = *d;
    downloads_.push_back(std::move(d));
    ref.transfer = transport->start(std::move(req), ref);
  }
  if (pending_ == 0) {
    // Nothing to wait for: answer on the next turn, never from inside the constructor.
    worker_.next_tick([done = done_, problem = problem_] { done(MediaMap{}, problem); });
    done_ = nullptr;
  }
}

MediaFetcher::~MediaFetcher() {
  for (auto& d : downloads_) {
    d->done = true;
    d->transfer.reset();
  }
}

void MediaFetcher::finished(Download& d, std::string problem) {
  std::string_view type = d.content_type;
  if (problem.empty() &&
      (type.substr(0, 5) == "text/" || type.find("json") != std::string_view::npos ||
       type.find("html") != std::string_view::npos || type.find("xml") != std::string_view::npos)) {
    problem = "the file at " + d.host + " is not an image";  // never pass documents to the model
  }
  if (problem.empty()) {
    total_bytes_ += d.bytes.size();
    if (total_bytes_ > limits_.max_total_bytes) {
      problem = "the linked images are larger than " +
                std::to_string(limits_.max_total_bytes / (1024 * 1024)) + " MiB in all";
    } else {
      media_[d.url] = FetchedMedia{d.content_type, std::move(d.bytes)};
    }
  }
  if (!problem.empty() && problem_.empty()) problem_ = std::move(problem);
  if (--pending_ > 0 || !done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  // Deliver on a later turn: the caller may destroy this fetcher (and the transfer whose callback
  // we are in) from `done`.
  worker_.next_tick([done, media = std::move(media_), problem = problem_]() mutable {
    done(std::move(media), problem);
  });
}

}  // namespace gemgate
