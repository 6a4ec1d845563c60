#pragma once
// A lane is one thread that runs jobs one after another; an Inbox carries their results back to
// the main thread as closures. A lane owns one worker for the whole run: a worker it starts or
// revives lives as long as the thread that forked it (bwrap --die-with-parent), so the lane's
// thread must outlive the worker's use, which it does: it ends when the scheduler does.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace crossload {

class Inbox {
 public:
  void push(std::function<void()> done);
  // Waits up to `timeout` for a closure; false if none came.
  bool pop_for(std::function<void()>& out, std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> items_;
};

class Lane {
 public:
  Lane();
  ~Lane();  // finishes the queued jobs, then joins
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  void post(std::function<void()> job);

 private:
  void loop();
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the queue exists
};

}  // namespace crossload
