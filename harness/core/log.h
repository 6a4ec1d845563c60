#pragma once
// The run's console: every step says what ran where and how long it took. On a terminal one
// status line (the progress bar) stays at the bottom, redrawn below every new log line.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <streambuf>
#include <string>
#include <thread>

namespace crossload {

enum class Verbosity { kQuiet, kNormal, kVerbose };

class RunLog {
 public:
  // `interactive`: `out` is a terminal, so the status line can be redrawn in place.
  explicit RunLog(std::ostream& out, Verbosity v = Verbosity::kNormal, bool interactive = false)
      : out_(out), v_(v), interactive_(interactive), echo_buf_(*this, false), echo_(&echo_buf_),
        always_buf_(*this, true), always_(&always_buf_) {}
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
  ~RunLog() { clear_status(); }

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
  // Shown whatever the verbosity (a warning the user must not miss).
  void always(const std::string& text) { line(text); }

  // The bottom line on a terminal (ignored elsewhere, and with --quiet); empty removes it.
  void status(const std::string& text) {
    if (!interactive_ || v_ == Verbosity::kQuiet) return;
    std::lock_guard<std::mutex> hold(mu_);
    status_ = text;
    out_ << "\r\033[K" << status_ << std::flush;
  }
  void clear_status() { status(""); }

  bool interactive() const { return interactive_; }
  Verbosity verbosity() const { return v_; }

  // A stream for code that echoes commands (providers): each complete line it receives, from
  // whichever thread, becomes one info line, so parallel provisioning never mixes lines.
  std::ostream& echo() { return echo_; }
  // The same, shown whatever the verbosity.
  std::ostream& stream() { return always_; }

 private:
  // Buffers a partial line per thread; a '\n' hands the line to the log.
  class LineBuffer : public std::streambuf {
   public:
    LineBuffer(RunLog& log, bool always) : log_(log), always_(always) {}

   protected:
    int_type overflow(int_type c) override {
      if (c == traits_type::eof()) return traits_type::not_eof(c);
      char ch = traits_type::to_char_type(c);
      xsputn(&ch, 1);
      return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
      std::string done;
      {
        std::lock_guard<std::mutex> hold(mu_);
        std::string& partial = partial_[std::this_thread::get_id()];
        for (std::streamsize i = 0; i < n; ++i) {
          if (s[i] != '\n') {
            partial += s[i];
            continue;
          }
          done += partial + '\n';
          partial.clear();
        }
      }
      for (std::size_t from = 0, nl; (nl = done.find('\n', from)) != std::string::npos; from = nl + 1) {
        if (always_) log_.always(done.substr(from, nl - from));
        else log_.info("{}", done.substr(from, nl - from));
      }
      return n;
    }

   private:
    RunLog& log_;
    bool always_;
    std::mutex mu_;
    std::map<std::thread::id, std::string> partial_;
  };

  // Environments start and consumers load side by side: whole lines, never interleaved.
  void line(const std::string& text) {
    std::lock_guard<std::mutex> hold(mu_);
    if (!status_.empty()) out_ << "\r\033[K";
    out_ << text << '\n';
    if (!status_.empty()) out_ << status_;
    out_ << std::flush;
  }

  std::mutex mu_;
  std::ostream& out_;
  Verbosity v_;
  bool interactive_;
  std::string status_;
  LineBuffer echo_buf_;
  std::ostream echo_;
  LineBuffer always_buf_;
  std::ostream always_;
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
