// CurlMultiTransport: the public face of MultiCore, and the Transfer handle given to consumers.
#include "transports/curl_multi_transport.h"

#include "transports/curl_multi_core.h"
#include "transports/deferred_failure.h"

namespace gemgate::transport {

namespace {

// What the consumer holds. It points at its Job until the Job ends; the Job clears `job_`
// (through owner_slot) just before on_upstream_done, so a handle outliving its transfer, or
// the whole transport, is inert.
class TransferHandle final : public Transfer {
 public:
  explicit TransferHandle(detail::MultiCore* core) : core_(core) {}
  ~TransferHandle() override {
    if (job_) core_->cancel(job_);
  }
  void pause() override {
    if (job_) core_->pause(job_);
  }
  void end_total_deadline() override {
    if (job_) core_->end_total_deadline(job_);
  }
  void resume() override {
    if (job_) core_->resume(job_);
  }
  detail::Job** slot() { return &job_; }

 private:
  detail::MultiCore* core_;
  detail::Job* job_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<CurlMultiTransport>> CurlMultiTransport::create(uv_loop_t* loop,
                                                                       Options options) {
  if (auto init = global_init(); !init.ok()) return init.error();
  auto core = std::make_unique<detail::MultiCore>(loop, options);
  if (auto ok = core->init(); !ok.ok()) {
    core->close();
    return ok.error();
  }
  return std::unique_ptr<CurlMultiTransport>(new CurlMultiTransport(std::move(core)));
}

CurlMultiTransport::CurlMultiTransport(std::unique_ptr<detail::MultiCore> core)
    : core_(std::move(core)) {}

CurlMultiTransport::~CurlMultiTransport() {
  core_->close();
}

std::unique_ptr<Transfer> CurlMultiTransport::start(UpstreamRequest request,
                                                    UpstreamHandler& handler) {
  auto handle = std::make_unique<TransferHandle>(core_.get());
  Failure why;
  detail::Job* job = core_->start(std::move(request), handler, handle->slot(), &why);
  if (!job) return detail::make_deferred_failure(core_->loop(), handler, std::move(why));
  *handle->slot() = job;
  return handle;
}

void CurlMultiTransport::close() {
  core_->close();
}

size_t CurlMultiTransport::active_transfers() const {
  return core_->stats().active_transfers;
}

size_t CurlMultiTransport::open_sockets() const {
  return core_->stats().open_sockets;
}

CurlMultiTransport::Stats CurlMultiTransport::stats() const {
  return core_->stats();
}

}  // namespace gemgate::transport
