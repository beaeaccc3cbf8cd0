// Test support: a transport::Transport that never touches the network. Each start() takes the
// next scripted answer (status, headers, body pieces, or a failure) and plays it back to the
// handler one event per loop turn, as a real transport would (never from inside start()). The
// test can also hold an answer and drive it by hand. Every request started is recorded.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/worker.h"
#include "transports/transport.h"

namespace gemgate::testing {

// One scripted upstream answer.
struct Answer {
  int status = 200;
  http::HeaderMap headers;
  std::vector<std::string> chunks;            // the body, in the pieces it arrives in
  std::optional<transport::Failure> failure;  // ends the transfer failed instead of done
  bool fail_before_head = true;               // failure: before the head, or after every chunk
  bool hold = false;                          // play nothing; the test drives it by hand

  // A Gemini-style JSON answer.
  static Answer json(int status, std::string body) {
    Answer a;
    a.status = status;
    a.headers.set("content-type", "application/json; charset=UTF-8");
    a.chunks.push_back(std::move(body));
    return a;
  }
  // A transport failure before any head.
  static Answer fail(transport::FailureKind kind, std::string message) {
    Answer a;
    a.failure = transport::Failure{kind, std::move(message), false};
    return a;
  }
};

// The shared state of one started transfer (the handle the test keeps).
struct TransferState {
  Worker* worker = nullptr;
  transport::UpstreamHandler* handler = nullptr;
  Answer answer;
  size_t step = 0;  // next event: 0 head, 1..n chunks, n+1 done
  bool cancelled = false;
  bool paused = false;
  bool finished = false;
  bool scheduled = false;
  int pauses = 0;
  int resumes = 0;

  // Driving by hand (for held answers). Each does nothing once cancelled.
  void head(int status, http::HeaderMap headers = {}) {
    if (!cancelled) handler->on_upstream_head(status, std::move(headers));
  }
  void data(std::string_view chunk) {
    if (!cancelled) handler->on_upstream_data(chunk);
  }
  void done(const transport::Failure* failure = nullptr) {
    if (cancelled || finished) return;
    finished = true;
    handler->on_upstream_done(failure);
  }
};

class FakeTransfer final : public transport::Transfer {
 public:
  explicit FakeTransfer(std::shared_ptr<TransferState> s) : s_(std::move(s)) {}
  ~FakeTransfer() override { s_->cancelled = true; }
  void pause() override {
    s_->paused = true;
    ++s_->pauses;
  }
  void resume() override;

 private:
  std::shared_ptr<TransferState> s_;
};

class FakeTransport final : public transport::Transport {
 public:
  explicit FakeTransport(Worker& worker) : worker_(worker) {}

  // Queues the answer for the next start(); without one, start() answers 200 "{}".
  void script(Answer a) { answers_.push_back(std::move(a)); }
  size_t scripted_left() const { return answers_.size(); }

  std::unique_ptr<transport::Transfer> start(transport::UpstreamRequest request,
                                             transport::UpstreamHandler& handler) override {
    requests.push_back(request);
    auto s = std::make_shared<TransferState>();
    s->worker = &worker_;
    s->handler = &handler;
    if (closed_) {
      s->answer.failure = closed_failure();
      s->answer.fail_before_head = true;
    } else if (answers_.empty()) {
      s->answer = Answer::json(200, "{}");
    } else {
      s->answer = std::move(answers_.front());
      answers_.pop_front();
    }
    transfers.push_back(s);
    if (!s->answer.hold) schedule(s);
    return std::make_unique<FakeTransfer>(s);
  }

  // As Transport::close: every unfinished transfer fails now, later ones on their first turn.
  void close() override {
    closed_ = true;
    transport::Failure f = closed_failure();
    // By index: a handler may start another transfer from inside done().
    for (size_t i = 0; i < transfers.size(); ++i) transfers[i]->done(&f);
  }

  // Plays the next event of `s` on a later loop turn, and so on until done.
  static void schedule(const std::shared_ptr<TransferState>& s) {
    if (s->scheduled || s->cancelled || s->finished) return;
    s->scheduled = true;
    s->worker->next_tick([s] {
      s->scheduled = false;
      if (s->cancelled || s->finished || s->paused) return;
      const Answer& a = s->answer;
      size_t n = a.chunks.size();
      if (a.failure && a.fail_before_head) {
        s->done(&*a.failure);
        return;
      }
      if (s->step == 0) {
        ++s->step;
        s->head(a.status, a.headers);
      } else if (s->step <= n) {
        ++s->step;
        s->data(a.chunks[s->step - 2]);
      } else {
        s->done(a.failure ? &*a.failure : nullptr);
        return;
      }
      schedule(s);
    });
  }

  std::vector<transport::UpstreamRequest> requests;       // every request, in order
  std::vector<std::shared_ptr<TransferState>> transfers;  // every transfer, in order

 private:
  static transport::Failure closed_failure() {
    return {transport::FailureKind::kInternal, "transport closed", false};
  }

  Worker& worker_;
  std::deque<Answer> answers_;
  bool closed_ = false;
};

inline void FakeTransfer::resume() {
  ++s_->resumes;
  if (!s_->paused) return;
  s_->paused = false;
  if (!s_->answer.hold) FakeTransport::schedule(s_);
}

}  // namespace gemgate::testing
