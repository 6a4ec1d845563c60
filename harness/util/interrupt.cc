#include "harness/util/interrupt.h"

#include <signal.h>

namespace crossload {

namespace {

volatile sig_atomic_t g_interrupt_signal = 0;  // the exception to "no global mutable state" (interrupt.h)

extern "C" void record_signal(int signal) { g_interrupt_signal = signal; }

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking poll returns EINTR and its loop looks at the flag
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

int interrupt_signal() { return g_interrupt_signal; }

const char* interrupt_signal_name() {
  switch (g_interrupt_signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
  }
  return "a signal";
}

}  // namespace crossload
