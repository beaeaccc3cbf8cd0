// MultiCore, part 2: starting a transfer. Checks the request (nothing that could smuggle bytes
// into the request head reaches libcurl), takes an easy handle from the pool and sets every
// option gemgate relies on; the reasons are next to each option.
#include <algorithm>
#include <string>
#include <string_view>

#include "core/text.h"
#include "transports/curl_failure.h"
#include "transports/curl_multi_core.h"

namespace gemgate::transport::detail {

namespace {

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// Field values may hold any visible byte, spaces and tabs; CR, LF and NUL would let a value
// smuggle extra header lines into the request.
bool is_field_value(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_http_url(std::string_view url) {
  auto starts = [&](std::string_view p) {
    return url.size() > p.size() && text::istarts_with(url, p);
  };
  if (!starts("http://") && !starts("https://")) return false;
  return std::none_of(url.begin(), url.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

// Fields libcurl must own: it frames the body itself, never sends Expect (see below) and
// decodes the content codings it advertises.
bool is_transport_owned(std::string_view name) {
  return http::iequals(name, "content-length") || http::iequals(name, "transfer-encoding") ||
         http::iequals(name, "expect") || http::iequals(name, "accept-encoding");
}

const char kEmptyBody[] = "";

// libcurl's receive buffer, allocated for each transfer when it connects and freed when it ends
// (its default is 16 KiB). nginx reads an upstream into one page-sized buffer by default too. A
// long-lived stream (UpstreamRequest::long_lived) over HTTP/1.1 gets a smaller one: thousands of
// slow streams each hold theirs for their whole life while a model's event is a few hundred
// bytes. Not over HTTP/2: libcurl 7.88 copies a stream's DATA into its transfer's buffer, and
// the rest blocks the whole session until that transfer reads it; a paused transfer is woken for
// one more read after a buffer-full read and no more. One read brings at most a TLS record
// (16 KiB), so the rest fits that one read only with a buffer of at least 8 KiB (2 and 4 KiB
// stalled the http2-upstream suite every time). See README.md, "Receive buffer".
constexpr long kReceiveBufferBytes = 8 * 1024;
static_assert(kReceiveBufferBytes >= 16 * 1024 / 2, "HTTP/2 needs half a TLS record (README.md)");
constexpr long kLongLivedReceiveBufferBytes = 2 * 1024;
// An in-memory body above 64 KiB leaves through libcurl's upload buffer (a smaller one travels
// inside the request's head), which the transfer keeps until it ends: a long-lived stream gets
// libcurl's smallest, 16 KiB (HTTP/2's default largest DATA frame too), instead of its 64 KiB
// default, which everything else keeps (fewer writes per upload).
constexpr long kUploadBufferBytes = 64 * 1024;
constexpr long kLongLivedUploadBufferBytes = 16 * 1024;

}  // namespace

// The request's fields as libcurl's header list, built in the Job's own storage: the lines
// one after another in `header_text` (each NUL-terminated), a node per line in `header_nodes`.
// Both keep their capacity from transfer to transfer, so a warm Job builds it without an
// allocation (curl_slist_append would allocate a node and a copy per field). libcurl only reads
// the list, during the transfer; it stays valid until the Job's next configure().
curl_slist* MultiCore::build_header_list(Job* job, const UpstreamRequest& r) {
  std::string& text = job->header_text;
  std::vector<size_t>& starts = job->header_starts;  // offsets: `text` may move while it grows
  starts.clear();
  text.clear();
  auto line = [&](std::string_view name, std::string_view separator, std::string_view value) {
    starts.push_back(text.size());
    text.append(name).append(separator).append(value).push_back('\0');
  };
  for (const auto& [name, value] : r.headers.entries()) {
    if (is_transport_owned(name)) continue;
    if (value.empty()) {
      line(name, ";", "");  // "name;" sends an empty value
    } else {
      line(name, ": ", value);
    }
  }
  // No Expect: 100-continue: it costs a round trip and a server that ignores it makes libcurl
  // wait a second before sending the body anyway.
  line("Expect:", "", "");
  // libcurl would label a POSTFIELDS body as a form; an unlabelled body stays unlabelled.
  if ((r.body || r.method == "POST") && !r.headers.has("content-type")) {
    line("Content-Type:", "", "");
  }
  std::vector<curl_slist>& nodes = job->header_nodes;
  nodes.resize(starts.size());
  for (size_t i = 0; i < starts.size(); ++i) {
    nodes[i].data = text.data() + starts[i];
    nodes[i].next = i + 1 < starts.size() ? &nodes[i + 1] : nullptr;
  }
  return nodes.empty() ? nullptr : nodes.data();
}

// ---- start -----------------------------------------------------------------------------------

Job* MultiCore::start(UpstreamRequest&& request, UpstreamHandler& handler, Job** owner_slot,
                      Failure* why) {
  std::string_view host = host_of_url(request.url);  // a view into request.url
  auto refuse = [&](std::string message) -> Job* {
    *why = Failure{FailureKind::kInternal, std::move(message), false};
    return nullptr;
  };
  if (closed()) return refuse("transport closed");
  if (!is_http_url(request.url)) return refuse("upstream URL is not an absolute http(s) URL");
  if (!is_token(request.method)) return refuse("invalid request method");
  for (const auto& [name, value] : request.headers.entries()) {
    if (!is_token(name) || !is_field_value(value)) {
      return refuse("request header field with forbidden characters for upstream " +
                    std::string(host));
    }
  }
  Job* job = take_job();
  if (!job) return refuse("curl_easy_init failed");
  CURLcode rc = configure(job, request);
  if (rc != CURLE_OK) {
    recycle(job);
    return refuse("cannot set up the transfer to " + std::string(host) + ": " +
                  curl_easy_strerror(rc));
  }
  job->host.assign(host);  // into the pooled Job's kept capacity; before request.url moves
  job->url = std::move(request.url);
  job->timeouts = request.timeouts;
  job->head.reset(request.max_header_bytes);
  job->handler = &handler;
  job->owner_slot = owner_slot;
  job->start_ms = job->sent_ms = job->last_activity_ms = uv_now(loop_);
  link_live(job);
  arm_deadline(job);
  if (in_curl_ > 0) {
    // libcurl refuses curl_multi_add_handle from inside its callbacks.
    job->state = Job::State::kPendingAdd;
    queue(job);
    return job;
  }
  CURLMcode mrc = curl_multi_add_handle(multi_, job->easy);
  if (mrc != CURLM_OK) {
    recycle(job);
    return refuse(std::string("curl_multi_add_handle failed: ") + curl_multi_strerror(mrc));
  }
  job->state = Job::State::kRunning;
  ++counters_.started;
  return job;
}

// Options that are the same for every transfer of this MultiCore, set once per easy handle: a
// pooled handle is not curl_easy_reset between transfers (that would free and re-copy every
// string option), so everything configure() sets per request it sets on every request.
CURLcode MultiCore::configure_fixed(Job* job) {
  CURL* e = job->easy;
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
  };
  set(CURLOPT_PRIVATE, static_cast<void*>(job));
#if LIBCURL_VERSION_NUM >= 0x075500
  set(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  set(CURLOPT_ERRORBUFFER, job->errbuf);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ACCEPT_ENCODING, "");  // advertise what libcurl can decode, and decode it
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
  // No CURLOPT_PIPEWAIT: on an HTTP/1.1 upstream it parks a new transfer until an earlier one on
  // the same host *finishes*, so one long (or paused) stream would stall every other request.
  // Without it a burst may open a few extra HTTP/2 connections; later transfers multiplex.
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);  // the proxy's CONNECT reply is not the response
  set(CURLOPT_TCP_KEEPALIVE, 1L);             // long streams cross NATs and load balancers
  set(CURLOPT_TCP_KEEPIDLE, 60L);
  set(CURLOPT_TCP_KEEPINTVL, 30L);
  set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(this));
  set(CURLOPT_CLOSESOCKETFUNCTION, &MultiCore::on_close_socket);
  set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
  set(CURLOPT_HEADERFUNCTION, &MultiCore::on_header);
  set(CURLOPT_HEADERDATA, static_cast<void*>(job));
  set(CURLOPT_WRITEFUNCTION, &MultiCore::on_write);
  set(CURLOPT_WRITEDATA, static_cast<void*>(job));
#if LIBCURL_VERSION_NUM >= 0x075700
  // Without it, removing a transfer that is still resolving joins the resolver thread and
  // blocks the whole worker loop until getaddrinfo() gives up.
  set(CURLOPT_QUICK_EXIT, 1L);
#endif
  return rc;
}

CURLcode MultiCore::configure(Job* job, const UpstreamRequest& r) {
  CURL* e = job->easy;
  CURLcode rc = CURLE_OK;
  if (!job->configured) {
    rc = configure_fixed(job);
    if (rc != CURLE_OK) return rc;
    job->configured = true;
  }
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
  };
  // A string option is copied (strdup) by libcurl each time it is set, and a pooled handle keeps
  // the last one, so it is set only when it differs from what this handle has (URL, proxy and
  // NOPROXY repeat from request to request). After any refusal nothing is assumed.
  bool known = job->options_known;
  job->options_known = false;  // true again only once this configure() succeeded
  auto set_string = [&](CURLoption option, std::string& last, const std::string& value) {
    if (rc != CURLE_OK || (known && last == value)) return;
    rc = curl_easy_setopt(e, option, value.c_str());
    if (rc == CURLE_OK) last.assign(value);
  };
  static const std::string kNone;
  job->errbuf[0] = '\0';
  job->body = r.body;  // POSTFIELDS below points into it, until it is sent (release_sent_body)
  set_string(CURLOPT_URL, job->set_url, r.url);
  // Set only when the size changes (a pooled handle keeps the last one).
  long buffer_bytes =
      r.long_lived && is_cleartext_http(r.url) ? kLongLivedReceiveBufferBytes : kReceiveBufferBytes;
  if (rc == CURLE_OK && (!known || job->buffer_bytes != buffer_bytes)) {
    rc = curl_easy_setopt(e, CURLOPT_BUFFERSIZE, buffer_bytes);
    job->buffer_bytes = buffer_bytes;
  }
  long upload_bytes =
      r.long_lived && r.body && !r.body_stream ? kLongLivedUploadBufferBytes : kUploadBufferBytes;
  if (rc == CURLE_OK && (!known || job->upload_buffer_bytes != upload_bytes)) {
    rc = curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, upload_bytes);
    job->upload_buffer_bytes = upload_bytes;
  }
  // libcurl would read http_proxy/https_proxy/no_proxy itself unless told otherwise; the
  // decision is ours instead (logged at start): the request's own proxy, else the environment's
  // proxy read once into the options (with its NO_PROXY), else "" = direct.
  const ProxyEnvironment& env_proxy = options_.environment_proxy;
  if (!r.proxy.empty() || r.refuse_private_addresses || env_proxy.for_url(r.url).empty()) {
    set_string(CURLOPT_PROXY, job->set_proxy, r.proxy);
    set_string(CURLOPT_NOPROXY, job->set_noproxy, kNone);
  } else {
    set_string(CURLOPT_PROXY, job->set_proxy, env_proxy.for_url(r.url));
    set_string(CURLOPT_NOPROXY, job->set_noproxy, env_proxy.no_proxy);
  }
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max<int64_t>(0, r.timeouts.connect_ms)));
  // The address check runs when a socket is opened, so such a transfer must open its own:
  // libcurl would otherwise reuse a pooled connection to a private upstream for any URL that
  // normalises to the same host (127.1, 2130706433 and 0x7f000001 all become 127.0.0.1) and
  // never ask. FORBID_REUSE keeps the connection to a client-chosen host out of the pool too.
  // Set both ways: the handle keeps the previous transfer's choice otherwise.
  bool own_socket = r.refuse_private_addresses;
  set(CURLOPT_OPENSOCKETFUNCTION,
      own_socket ? &MultiCore::on_open_public_socket : curl_opensocket_callback{nullptr});
  set(CURLOPT_FRESH_CONNECT, own_socket ? 1L : 0L);
  set(CURLOPT_FORBID_REUSE, own_socket ? 1L : 0L);

  // The method: first back to libcurl's default (HTTPGET also clears NOBODY and UPLOAD; no
  // custom verb), then this request's, since the previous transfer's choice is still set.
  set(CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
  set(CURLOPT_HTTPGET, 1L);
  const std::string& m = r.method;
  if (m == "HEAD") {
    // A HEAD's answer never has a body, and only NOBODY tells libcurl so (a custom "HEAD" verb
    // waits for the announced length until the timeout). Content sent with a HEAD has no
    // defined meaning (RFC 9110, 9.3.2), so none is forwarded.
    set(CURLOPT_NOBODY, 1L);
  } else if (r.body_stream) {
    if (rc == CURLE_OK) rc = configure_upload(job, r);
  } else if (r.body) {
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body->size()));
    set(CURLOPT_POSTFIELDS, r.body->data());
    if (m != "POST") set(CURLOPT_CUSTOMREQUEST, m.c_str());
  } else if (m == "GET") {
    // the default set above
  } else if (m == "POST") {
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    set(CURLOPT_POSTFIELDS, kEmptyBody);
  } else {
    set(CURLOPT_CUSTOMREQUEST, m.c_str());
  }
  if (rc != CURLE_OK) return rc;

  set(CURLOPT_HTTPHEADER, build_header_list(job, r));
  job->options_known = rc == CURLE_OK;
  return rc;
}

}  // namespace gemgate::transport::detail
