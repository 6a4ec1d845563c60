#pragma once
// Errors travel as values below main(): a Result<T> holds either a T or an Error
// whose message already names the file, line or key and what to do about it.
#include <string>
#include <utility>
#include <variant>

namespace crossload {

// What kind of failure it is, so the one who reads it knows where to look. Each kind is one exit
// code of the binary, mapped in one place (exit_code::of in harness/util/exit_codes.h): the place
// that makes the error decides the kind, and no command picks a number for it.
enum class ErrorKind {
  kBadInput,     // a file the user gave: matrix, artifact, .npy, produced directory
  kUsage,        // the command line: an unknown name, a malformed value, a flag that names nothing
  kEnvironment,  // no environment (or the sandbox) can start on this machine
  kStore,        // the results store: locked by another run, corrupt, not a crossload store
  kInternal,     // a bug in crossload
  kInterrupted,  // SIGINT or SIGTERM stopped the run; what it finished is kept (harness/util/interrupt.h)
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kBadInput;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that produce nothing but may fail.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

inline Error make_error(std::string message) { return Error{std::move(message)}; }
inline Error make_error(ErrorKind kind, std::string message) { return Error{std::move(message), kind}; }

}  // namespace crossload
