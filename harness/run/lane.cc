#include "harness/run/lane.h"

namespace crossload {

void Inbox::push(std::function<void()> done) {
  {
    std::lock_guard<std::mutex> hold(mu_);
    items_.push_back(std::move(done));
  }
  ready_.notify_one();
}

bool Inbox::pop_for(std::function<void()>& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> hold(mu_);
  if (!ready_.wait_for(hold, timeout, [this] { return !items_.empty(); })) return false;
  out = std::move(items_.front());
  items_.pop_front();
  return true;
}

Lane::Lane() : thread_([this] { loop(); }) {}

Lane::~Lane() {
  {
    std::lock_guard<std::mutex> hold(mu_);
    stopping_ = true;
  }
  ready_.notify_one();
  thread_.join();
}

void Lane::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> hold(mu_);
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
}

void Lane::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> hold(mu_);
      ready_.wait(hold, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace crossload
