#pragma once
// The run's console: every step says what ran where and how long it took.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <mutex>
#include <string>

namespace crossload {

enum class Verbosity { kQuiet, kNormal, kVerbose };

class RunLog {
 public:
  explicit RunLog(std::ostream& out, Verbosity v = Verbosity::kNormal) : out_(out), v_(v) {}
  template <class... A>
  void info(fmt::format_string<A...> f, A&&... a) {
    if (v_ != Verbosity::kQuiet) line(fmt::format(f, std::forward<A>(a)...));
  }
  template <class... A>
  void detail(fmt::format_string<A...> f, A&&... a) {
    if (v_ == Verbosity::kVerbose) line(fmt::format(f, std::forward<A>(a)...));
  }
  template <class... A>
  void error(fmt::format_string<A...> f, A&&... a) {
    line("error: " + fmt::format(f, std::forward<A>(a)...));
  }
  std::ostream& stream() { return out_; }

 private:
  // Environments start and consumers load side by side: whole lines, never interleaved.
  void line(const std::string& text) {
    std::lock_guard<std::mutex> hold(mu_);
    out_ << text << '\n' << std::flush;
  }
  std::mutex mu_;
  std::ostream& out_;
  Verbosity v_;
};

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace crossload
