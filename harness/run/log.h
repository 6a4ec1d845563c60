#pragma once
// The run's console: every step says what ran where and how long it took.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <string>

namespace crossload {

enum class Verbosity { kQuiet, kNormal, kVerbose };

class RunLog {
 public:
  explicit RunLog(std::ostream& out, Verbosity v = Verbosity::kNormal) : out_(out), v_(v) {}
  template <class... A>
  void info(fmt::format_string<A...> f, A&&... a) {
    if (v_ != Verbosity::kQuiet) out_ << fmt::format(f, std::forward<A>(a)...) << '\n' << std::flush;
  }
  template <class... A>
  void detail(fmt::format_string<A...> f, A&&... a) {
    if (v_ == Verbosity::kVerbose) out_ << fmt::format(f, std::forward<A>(a)...) << '\n' << std::flush;
  }
  template <class... A>
  void error(fmt::format_string<A...> f, A&&... a) {
    out_ << "error: " << fmt::format(f, std::forward<A>(a)...) << '\n' << std::flush;
  }
  std::ostream& stream() { return out_; }

 private:
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
