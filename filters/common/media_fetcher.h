// MediaFetcher: downloads the http(s) media a client request links to (Gemini cannot fetch
// arbitrary URLs; every front that accepts image or document URLs uses it), through the worker's
// Transport, concurrently, with a per-file size cap, a total cap and a deadline. Refuses
// non-http(s) URLs and, unless allowed, addresses that are plainly local or private (localhost,
// 127/8, 10/8, 172.16/12, 192.168/16, 169.254/16, ::1, fc00::/7) so a client cannot make the
// gateway read its own network.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/worker.h"
#include "filters/openai/translate/chat_request.h"

namespace gemgate {

// The downloads are delivered in the translators' own map type (url -> bytes and MIME type),
// which the OpenAI translation library defines and the other fronts reuse.
using openai::FetchedMedia;
using openai::MediaMap;

struct FetchLimits {
  size_t max_files = 16;
  size_t max_file_bytes = 10 * 1024 * 1024;
  size_t max_total_bytes = 20 * 1024 * 1024;
  int64_t timeout_ms = 15'000;
  bool allow_private = false;
};

// Returns why `url` may not be fetched, or "" when it may.
std::string fetch_refusal(std::string_view url, bool allow_private);

class MediaFetcher {
 public:
  // Called once: the downloads (failed ones are absent from the map) and, on failure, the first
  // problem (a message naming the URL's host, never its query).
  using Done = std::function<void(MediaMap media, std::string problem)>;

  // Starts every download on `worker`; `done` runs on its loop. Destroying the fetcher cancels.
  MediaFetcher(Worker& worker, std::vector<std::string> urls, const FetchLimits& limits, Done done);
  ~MediaFetcher();
  MediaFetcher(const MediaFetcher&) = delete;
  MediaFetcher& operator=(const MediaFetcher&) = delete;

 private:
  struct Download;
  void finished(Download& d, std::string problem);

  Worker& worker_;
  FetchLimits limits_;
  Done done_;
  MediaMap media_;
  std::vector<std::unique_ptr<Download>> downloads_;
  size_t pending_ = 0;
  size_t total_bytes_ = 0;
  size_t in_flight_bytes_ = 0;  // bytes received so far by all downloads
  std::string problem_;
};

}  // namespace gemgate
